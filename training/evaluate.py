"""Multilingual evaluation: zero-shot classification and image↔text retrieval (Recall@1/5/10).

Zero-shot: per language, each class's text embedding is the mean of its prompts (class name in
that language's templates); accuracy is reported per language and averaged. Retrieval: every
caption is a query for its image (text→image) and every image for its captions (image→text, a
hit if any of its captions ranks within K), overall and per caption language. Recall is counted
in blocks of query rows (``recall_at_k``), so XM3600-sized sets (3,600 × 261,375) fit in memory.

Inputs (formats in ``training.eval_datasets`` and ``docs/training.md``):
- the real benchmarks from the user's local copies: ``--xm3600 DIR`` (Crossmodal-3600 retrieval per
  language), ``--babel-imagenet DIR --imagenet-val DIR`` (Babel-ImageNet zero-shot per language);
- zero-shot table (image column + integer ``label``) or class-per-folder tree, with a class file
  ``{"languages": {"en": {"classnames": [...], "templates": ["a photo of a {}."]}, ...}}``;
- retrieval table (``uid``, ``text``, optional ``lang``, an image column; one row per caption) or a
  folder with ``captions.jsonl`` lines ``{"image": relative path, "text": ..., "lang": ...}``.

The model is an exported run (``--model-dir <run>/model``) or a pretrained open_clip checkpoint
(``--pretrained PATH --model CONFIG --tokenizer DIR``, see ``training.pretrained``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from curation.readers import RowGroupReader, open_table
from training.eval_datasets import (
    CaptionSet,
    ZeroShotTask,
    imagenet_val_folders,
    read_babel_imagenet,
    read_class_file,
    read_class_folders,
    read_xm3600,
)
from training.images import ImageError, load_image, payloads, resolve_image_spec

log = logging.getLogger(__name__)
RECALL_KS = (1, 5, 10)


def read_table_columns(uri: str, columns: Sequence[str], *, image: bool = True, version: int | None = None,
                       image_column: str | None = None) -> tuple[dict[str, list], list[object]]:
    """Whole (small) evaluation table: requested columns and image payloads, in file order."""
    snap = open_table(uri, version=version)
    spec = resolve_image_spec(snap.schema, uri, bytes_column=image_column) if image else None
    reader = RowGroupReader(snap)
    out: dict[str, list] = {c: [] for c in columns}
    pays: list[object] = []
    for fi, f in enumerate(snap.files):
        for rg in range(len(f.row_group_rows)):
            cols = list(columns) + ([spec.column] if spec and spec.column not in columns else [])
            t = reader.read(fi, rg, cols)
            for c in columns:
                out[c].extend(t.column(c).to_pylist())
            if spec:
                pays.extend(payloads(t, spec, list(range(t.num_rows))))
    return out, pays


class _DecodedImages(torch.utils.data.Dataset):
    """``(index, tensor or None, failure reason or None)`` per payload; decoding never raises."""

    def __init__(self, image_payloads: Sequence[object], preprocess: Callable):
        self.payloads, self.preprocess = image_payloads, preprocess

    def __len__(self) -> int:
        return len(self.payloads)

    def __getitem__(self, i: int):
        try:
            return i, self.preprocess(load_image(self.payloads[i])), None
        except ImageError as exc:
            return i, None, exc.reason


def _as_list(items: list) -> list:
    return items


@torch.no_grad()
def encode_images(model, preprocess: Callable, image_payloads: Sequence[object], device: torch.device,
                  batch_size: int = 256, workers: int = 0) -> tuple[torch.Tensor, np.ndarray, Counter]:
    """Normalised image embeddings of the decodable payloads, their indices, and bad-image counts.

    ``workers`` > 0 decodes in that many ``DataLoader`` processes (ImageNet's 50,000 validation
    JPEGs); the order of the output rows is the payload order either way.
    """
    loader = torch.utils.data.DataLoader(_DecodedImages(image_payloads, preprocess), batch_size=batch_size,
                                         num_workers=workers, collate_fn=_as_list)
    feats, keep, bad = [], [], Counter()
    for items in loader:
        good = [(i, x) for i, x, _ in items if x is not None]
        bad.update(reason for _, x, reason in items if x is None)
        if good:
            batch = torch.stack([x for _, x in good]).to(device)
            feats.append(F.normalize(model.encode_image(batch).float(), dim=-1).cpu())
            keep.extend(i for i, _ in good)
    if not feats:
        raise ValueError("no decodable evaluation images")
    return torch.cat(feats), np.asarray(keep), bad


@torch.no_grad()
def encode_texts(model, tokenizer: Callable, texts: Sequence[str], device: torch.device,
                 batch_size: int = 512) -> torch.Tensor:
    out = []
    for i in range(0, len(texts), batch_size):
        tokens = tokenizer(list(texts[i:i + batch_size])).to(device)
        out.append(F.normalize(model.encode_text(tokens).float(), dim=-1).cpu())
    return torch.cat(out)


def zero_shot_classifier(model, tokenizer: Callable, classnames: Sequence[str], templates: Sequence[str],
                         device: torch.device) -> torch.Tensor:
    """``[embed_dim, n_classes]``: normalised mean of each class's prompt embeddings.

    The class name replaces ``{}`` (``str.replace``, not ``format``: translated templates may hold
    other braces)."""
    prompts = [t.replace("{}", c) for c in classnames for t in templates]
    emb = encode_texts(model, tokenizer, prompts, device).view(len(classnames), len(templates), -1)
    return F.normalize(emb.mean(dim=1), dim=-1).T


def accuracy(logits: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)) -> dict[str, float]:
    """Top-K accuracy for the K not above the class count; ties between classes go to the lower
    class index (the rank rule of ``recall_at_k``), so results do not depend on ``topk``'s order."""
    ks = [k for k in ks if k <= logits.shape[1]]
    labels = labels.to(logits.device)
    rank = _ranks(logits, logits.gather(1, labels[:, None])[:, 0], labels)
    return {f"top{k}": float((rank < k).double().mean()) for k in ks}


def zero_shot_tasks(model, tokenizer: Callable, preprocess: Callable, image_payloads: Sequence[object],
                    labels: Sequence[int], tasks: Sequence[ZeroShotTask], device: torch.device | str = "cpu",
                    batch_size: int = 256, workers: int = 0) -> dict:
    """Top-1/top-5 per task (language): the images whose label is one of the task's classes,
    classified among the task's classes only (Babel-ImageNet's protocol; with every class in
    every task it is plain multilingual zero-shot). Images are encoded once for all tasks."""
    device = torch.device(device)
    feats, keep, bad = encode_images(model, preprocess, image_payloads, device, batch_size, workers)
    y_all = np.asarray(labels, dtype=np.int64)[keep]
    result: dict = {"per_language": {}, "images": len(keep), "bad_images": dict(bad)}
    for task in tasks:
        position = {c: i for i, c in enumerate(task.class_indices)}
        rows = np.flatnonzero(np.isin(y_all, list(task.class_indices)))
        if rows.size == 0:
            log.warning("zero-shot %s: no decodable image of its %d classes; skipped", task.language,
                        len(task.class_indices))
            continue
        classifier = zero_shot_classifier(model, tokenizer, task.classnames, task.templates, device)
        y = torch.as_tensor([position[int(c)] for c in y_all[rows]], dtype=torch.long)
        scores = feats[torch.as_tensor(rows)] @ classifier
        result["per_language"][task.language] = {**accuracy(scores, y), "classes": len(task.class_indices),
                                                 "images": int(rows.size)}
    per = result["per_language"].values()
    for key in ("top1", "top5"):
        vals = [v[key] for v in per if key in v]
        result[f"mean_{key}"] = float(np.mean(vals)) if vals else float("nan")
    return result


def zero_shot(model, tokenizer: Callable, preprocess: Callable, image_payloads: Sequence[object],
              labels: Sequence[int], languages: Mapping[str, Mapping[str, Sequence[str]]],
              device: torch.device | str = "cpu", batch_size: int = 256, workers: int = 0) -> dict:
    """Per-language top-1/top-5 accuracy over all classes, their mean, and chance level.

    Every language must name every class: ``len(classnames) > max(label)``.
    """
    n_labels = int(max(labels)) + 1 if len(labels) else 0
    tasks = []
    for lang, spec in languages.items():
        names = list(spec["classnames"])
        if len(names) < n_labels:
            raise ValueError(f"zero-shot {lang}: {len(names)} class names but labels go up to {n_labels - 1}")
        tasks.append(ZeroShotTask(lang, tuple(range(len(names))), tuple(names), tuple(spec["templates"])))
    result = zero_shot_tasks(model, tokenizer, preprocess, image_payloads, labels, tasks, device, batch_size, workers)
    result["chance_top1"] = 1.0 / len(tasks[0].classnames) if tasks else float("nan")
    return result


def _check_features(name: str, feats: torch.Tensor, chunk_bytes: int) -> None:
    """2-D and finite; checked in row blocks (``isfinite`` on 261,375 × 1,024 floats at once briefly
    takes 1.7 GiB)."""
    if feats.ndim != 2:
        raise ValueError(f"{name} must be a 2-D [rows, dim] tensor, got shape {tuple(feats.shape)}")
    step = _rows_per_chunk(feats.shape[1], chunk_bytes)
    for a in range(0, feats.shape[0], step):
        if not bool(torch.isfinite(feats[a:a + step]).all()):
            raise ValueError(f"{name} holds NaN or infinite values; every rank would be undefined")


# working memory per score of a block: the float32 score, four bool masks (>, ==, index <, and) and
# the int32 copy torch makes of a bool mask to count it
BYTES_PER_SCORE = 4 + 4 * 1 + 4


def _rows_per_chunk(columns: int, chunk_bytes: int) -> int:
    """Query rows per block so that a ``[rows, columns]`` block's working memory fits ``chunk_bytes``."""
    return max(1, chunk_bytes // (BYTES_PER_SCORE * max(1, columns)))


def _ranks(scores: torch.Tensor, target_score: torch.Tensor, target_index: torch.Tensor) -> torch.Tensor:
    """Rank of each row's target among the row's candidates under the tie rule of ``recall_at_k``.

    ``rank = #{c : s_c > s_t} + #{c < t : s_c == s_t}``: candidates sorted by score descending,
    equal scores in index order (lower index first), so the rank does not depend on a sort's
    stability or on the backend. Memory: a few ``scores``-sized temporaries (bool), no sort.
    """
    above = (scores > target_score[:, None]).sum(dim=1, dtype=torch.int32)
    columns = torch.arange(scores.shape[1], device=scores.device)
    tied = (scores == target_score[:, None]) & (columns[None, :] < target_index[:, None])
    return above.long() + tied.sum(dim=1, dtype=torch.int32).long()


def recall_at_k(image_feats: torch.Tensor, text_feats: torch.Tensor, text_to_image: np.ndarray | Sequence[int],
                ks: Sequence[int] = (1, 5, 10), *, chunk_bytes: int = 256 << 20,
                device: torch.device | str | None = None) -> dict[str, float]:
    """Image→text and text→image Recall@K; ``text_to_image[j]`` is caption j's image row.

    text→image: caption j is a hit at K when its image ranks among the first K images by score.
    image→text: image i is a hit at K when *any* of its captions ranks among the first K captions,
    i.e. when its best caption ``b`` (highest score; lowest index among equal scores) has rank < K;
    images without a caption are left out of that mean.

    Tie rule (both directions): candidates are ordered by score descending, equal scores by index
    ascending (lower index first, as every rule of this project breaks ties), so
    ``rank(t) = #{c : s_c > s_t} + #{c < t : s_c == s_t}`` and a hit at K is ``rank < K``.

    Memory: scores are computed one block of query rows at a time (``chunk_bytes`` of working
    memory per block, default 256 MiB: ``BYTES_PER_SCORE`` = 12 bytes per score for the float32
    score, the comparison masks and their counts) and ranks are counted, never sorted:
    O(chunk × N) instead of the N_images × N_texts score matrix plus two int64 argsorts of it.
    ``torch.topk`` is not used because its order among equal scores is unspecified, which would
    make recall depend on the backend; counting gives the same hits with a defined tie rule.
    Scores for one direction all come from the same block product, so a target and its
    competitors are always compared on identical values.
    """
    _check_features("image_feats", image_feats, chunk_bytes)
    _check_features("text_feats", text_feats, chunk_bytes)
    if image_feats.shape[1] != text_feats.shape[1]:
        raise ValueError(f"feature sizes differ: images {image_feats.shape[1]}, texts {text_feats.shape[1]}")
    owner = torch.as_tensor(np.asarray(text_to_image), dtype=torch.long)
    n_images, n_texts = image_feats.shape[0], text_feats.shape[0]
    if owner.ndim != 1 or owner.numel() != n_texts:
        raise ValueError(f"text_to_image needs one image row per caption ({n_texts}), got shape {tuple(owner.shape)}")
    if n_texts == 0 or n_images == 0:
        raise ValueError("recall needs at least one image and one caption")
    if int(owner.min()) < 0 or int(owner.max()) >= n_images:
        raise ValueError(f"text_to_image values must be image rows in [0, {n_images})")
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be positive integers, got {ks}")
    dev = torch.device(device) if device is not None else image_feats.device
    images, texts, owner = image_feats.to(dev), text_feats.to(dev), owner.to(dev)

    # text -> image: one block of captions against every image
    t2i_rank = torch.empty(n_texts, dtype=torch.long, device=dev)
    step = _rows_per_chunk(n_images, chunk_bytes)
    for a in range(0, n_texts, step):
        scores = texts[a:a + step] @ images.T
        target = owner[a:a + step]
        t2i_rank[a:a + step] = _ranks(scores, scores.gather(1, target[:, None])[:, 0], target)

    # image -> text: one block of images against every caption; rank of each image's best caption
    has_caption = torch.zeros(n_images, dtype=torch.bool, device=dev)
    has_caption[owner] = True
    i2t_rank = torch.empty(n_images, dtype=torch.long, device=dev)
    step = _rows_per_chunk(n_texts, chunk_bytes)
    caption_ids = torch.arange(n_texts, device=dev)
    for a in range(0, n_images, step):
        scores = images[a:a + step] @ texts.T
        rows = scores.shape[0]
        mine = (owner >= a) & (owner < a + rows)  # captions of this block's images
        cap, local = caption_ids[mine], owner[mine] - a
        own = scores[local, cap]  # each caption's score against its own image, from this same block
        best = torch.full((rows,), float("-inf"), dtype=scores.dtype, device=dev)
        best.scatter_reduce_(0, local, own, reduce="amax")
        first = torch.full((rows,), n_texts, dtype=torch.long, device=dev)
        first.scatter_reduce_(0, local[own == best[local]], cap[own == best[local]], reduce="amin")
        i2t_rank[a:a + rows] = _ranks(scores, best, first)
    i2t_rank = i2t_rank[has_caption]

    out = {}
    for k in ks:
        out[f"text_to_image_R@{k}"] = float((t2i_rank < k).double().mean())
        out[f"image_to_text_R@{k}"] = float((i2t_rank < k).double().mean())
    return out


def retrieval(model, tokenizer: Callable, preprocess: Callable, uids: Sequence[str], texts: Sequence[str],
              image_payloads: Sequence[object], langs: Sequence[str | None] | None = None,
              device: torch.device | str = "cpu", batch_size: int = 256, chunk_bytes: int = 256 << 20,
              workers: int = 0) -> dict:
    """Recall@1/5/10 both ways, overall and per caption language; one row per caption."""
    device = torch.device(device)
    first: dict[str, int] = {}
    for i, u in enumerate(uids):
        first.setdefault(u, i)
    image_uids = list(first)
    feats, keep, bad = encode_images(model, preprocess, [image_payloads[first[u]] for u in image_uids], device,
                                     batch_size, workers)
    row_of = {image_uids[k]: r for r, k in enumerate(keep)}
    sel = [j for j, u in enumerate(uids) if u in row_of]
    text_feats = encode_texts(model, tokenizer, [texts[j] for j in sel], device)
    t2i = np.asarray([row_of[uids[j]] for j in sel])
    result = {"images": len(keep), "texts": len(sel), "bad_images": dict(bad),
              **recall_at_k(feats, text_feats, t2i, chunk_bytes=chunk_bytes, device=device)}
    if langs is not None:
        per = {}
        for lang in sorted({langs[j] for j in sel if langs[j] is not None}):
            m = np.asarray([langs[j] == lang for j in sel])
            per[lang] = recall_at_k(feats, text_feats[torch.as_tensor(m)], t2i[m], chunk_bytes=chunk_bytes,
                                    device=device)
        result["per_language"] = per
    return result


def retrieval_per_language(model, tokenizer: Callable, preprocess: Callable, data: CaptionSet,
                           device: torch.device | str = "cpu", batch_size: int = 256,
                           chunk_bytes: int = 256 << 20, workers: int = 0) -> dict:
    """XM3600-style retrieval: every language scored on its own captions against all images.

    Images are encoded once; an image that does not decode is dropped with its captions (counted in
    ``bad_images``). ``mean`` averages each metric over the languages.
    """
    device = torch.device(device)
    feats, keep, bad = encode_images(model, preprocess, data.image_paths, device, batch_size, workers)
    row_of = np.full(len(data.image_paths), -1, dtype=np.int64)
    row_of[keep] = np.arange(len(keep))
    per: dict[str, dict] = {}
    for lang, (texts, owners) in data.captions.items():
        rows = row_of[owners]
        ok = rows >= 0
        if not ok.any():
            log.warning("retrieval %s: no caption of a decodable image; skipped", lang)
            continue
        text_feats = encode_texts(model, tokenizer, [t for t, good in zip(texts, ok) if good], device)
        per[lang] = {**recall_at_k(feats, text_feats, rows[ok], RECALL_KS, chunk_bytes=chunk_bytes, device=device),
                     "texts": int(ok.sum())}
        log.info("retrieval %s: %d captions, T2I R@1 %.3f", lang, int(ok.sum()), per[lang]["text_to_image_R@1"])
    metrics = [k for k in next(iter(per.values()), {}) if "_R@" in k]
    mean = {k: float(np.mean([v[k] for v in per.values()])) for k in metrics}
    return {"per_language": per, "mean": mean, "images": len(keep), "bad_images": dict(bad)}


def load_zero_shot_data(source: str, image_column: str | None = None) -> tuple[list[object], list[int]]:
    """Image payloads and labels from a table (``label`` column) or a class-per-folder tree."""
    if os.path.isdir(source) and not _is_table(source):
        _, paths, labels = read_class_folders(source)
        return paths, labels  # type: ignore[return-value]
    cols, pays = read_table_columns(source, ["label"], image_column=image_column)
    return pays, [int(v) for v in cols["label"]]


def load_retrieval_data(source: str, image_column: str | None = None):
    """``(uids, texts, payloads, langs)`` from a table or a folder with ``captions.jsonl``."""
    if source.endswith(".jsonl") or (os.path.isdir(source) and not _is_table(source)):
        path = source if source.endswith(".jsonl") else os.path.join(source, "captions.jsonl")
        root = os.path.dirname(path)
        uids, texts, pays, langs = [], [], [], []
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    uids.append(row["image"])
                    texts.append(row["text"])
                    pays.append(os.path.join(root, row["image"]))
                    langs.append(row.get("lang"))
        return uids, texts, pays, langs
    snap_cols = open_table(source).schema.names
    cols, pays = read_table_columns(source, ["uid", "text"] + (["lang"] if "lang" in snap_cols else []),
                                    image_column=image_column)
    return cols["uid"], cols["text"], pays, cols.get("lang")


def _is_table(path: str) -> bool:
    if os.path.isdir(os.path.join(path, "_delta_log")):
        return True
    return any(n.endswith(".parquet") for n in os.listdir(path))


def load_model(model_dir: str | None = None, *, pretrained: str | None = None, model: str | None = None,
               tokenizer: str | None = None, device: str | torch.device = "cpu"):
    """``(model, model_cfg, tokenizer)`` in eval mode: an exported run, or a pretrained checkpoint."""
    if (model_dir is None) == (pretrained is None):
        raise ValueError("give exactly one of model_dir (an exported run) or pretrained (a checkpoint)")
    if model_dir is not None:
        from training.model import load_exported

        return load_exported(model_dir, device=device)
    from training.pretrained import load_pretrained

    net, cfg, tok = load_pretrained(pretrained, model=model, tokenizer=tokenizer, device=device)
    return net.eval(), cfg, tok


def _select_languages(available: Sequence[str], requested: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """``(chosen, missing)``: requested codes (case-insensitive) this benchmark has, and those it lacks."""
    if requested is None:
        return list(available), []
    by_lower = {a.lower(): a for a in available}
    chosen = [by_lower[r.lower()] for r in requested if r.lower() in by_lower]
    return chosen, [r for r in requested if r.lower() not in by_lower]


def evaluate(model_dir: str | None = None, *, zeroshot: str | None = None, classes: str | None = None,
             retrieval_source: str | None = None, xm3600: str | None = None, xm3600_field: str = "caption",
             babel_imagenet: str | None = None, imagenet_val: str | None = None, babel_prompts: str = "label",
             languages: Sequence[str] | None = None, pretrained: str | None = None, model: str | None = None,
             tokenizer: str | None = None, device: str = "cpu", image_column: str | None = None,
             batch_size: int = 256, workers: int = 0) -> dict:
    """Evaluate an exported model directory (or a pretrained checkpoint) on the given sources.

    ``languages`` restricts XM3600 and Babel-ImageNet to these codes (case-insensitive); a code a
    benchmark lacks is skipped there and listed under ``languages_missing``; a code no requested
    benchmark has is an error (a typo, most likely).
    """
    if babel_imagenet and not imagenet_val:
        raise ValueError("Babel-ImageNet needs the ImageNet validation images (imagenet_val / --imagenet-val)")
    if zeroshot and not classes:
        raise ValueError("zero-shot evaluation needs a class file (--classes)")
    # read and check every benchmark's files before loading the model
    xm_data, babel_tasks, babel_images, plan = None, None, None, {}
    found: set[str] = set()
    if xm3600:
        xm_all = read_xm3600(xm3600, None, xm3600_field)
        chosen, missing = _select_languages(list(xm_all.captions), languages)
        found |= {c.lower() for c in chosen}
        xm_all.captions = {k: xm_all.captions[k] for k in chosen}
        xm_data, plan["xm3600"] = xm_all, missing
    if babel_imagenet:
        from training.eval_datasets import babel_label_file

        with open(babel_label_file(babel_imagenet), encoding="utf-8") as f:
            available = list(json.load(f)) + ["EN"]
        chosen, missing = _select_languages(available, languages)
        found |= {c.lower() for c in chosen}
        babel_tasks = read_babel_imagenet(babel_imagenet, chosen, babel_prompts)
        _, paths, labels = imagenet_val_folders(imagenet_val)  # type: ignore[arg-type]
        used = set().union(*(t.class_indices for t in babel_tasks)) if babel_tasks else set()
        babel_images = ([p for p, y in zip(paths, labels) if y in used], [y for y in labels if y in used])
        plan["babel_imagenet"] = missing
    if languages is not None and (xm3600 or babel_imagenet):
        unknown = [c for c in languages if c.lower() not in found]
        if unknown:
            raise ValueError(f"languages {unknown} are in none of the requested benchmarks")
    zs_data = None
    if zeroshot:
        pays, labels = load_zero_shot_data(zeroshot, image_column)
        # a folder tree defines the classes (one name per folder); a table's labels may skip classes,
        # so there only "a name for every label" is required (zero_shot checks it)
        folders = os.path.isdir(zeroshot) and not _is_table(zeroshot)
        n_classes = len(read_class_folders(zeroshot)[0]) if folders else None
        zs_data = (pays, labels, read_class_file(classes, n_classes))  # type: ignore[arg-type]

    from training.model import image_transforms

    net, model_cfg, tok = load_model(model_dir, pretrained=pretrained, model=model, tokenizer=tokenizer, device=device)
    _, preprocess = image_transforms(model_cfg)
    results: dict = {"model_dir": model_dir} if model_dir else {"pretrained": pretrained, "model": model,
                                                                "tokenizer": tokenizer}
    if zs_data is not None:
        results["zero_shot"] = zero_shot(net, tok, preprocess, zs_data[0], zs_data[1], zs_data[2], device, batch_size,
                                         workers)
    if retrieval_source:
        uids, texts, pays, langs = load_retrieval_data(retrieval_source, image_column)
        results["retrieval"] = retrieval(net, tok, preprocess, uids, texts, pays, langs, device, batch_size,
                                         workers=workers)
    if xm_data is not None:
        results["xm3600"] = retrieval_per_language(net, tok, preprocess, xm_data, device, batch_size, workers=workers)
        results["xm3600"]["languages_missing"] = plan["xm3600"]
    if babel_tasks is not None and babel_images is not None:
        res = zero_shot_tasks(net, tok, preprocess, babel_images[0], babel_images[1], babel_tasks, device, batch_size,
                              workers)
        results["babel_imagenet"] = {**res, "prompts": babel_prompts, "languages_missing": plan["babel_imagenet"]}
    return results


def format_table(per_language: Mapping[str, Mapping[str, float]], columns: Sequence[str],
                 mean: Mapping[str, float] | None = None, title: str = "") -> str:
    """A plain-text table: one row per language, metrics as percentages, an optional mean row."""
    width = max([4, *(len(k) for k in per_language)])
    heads = [c.replace("text_to_image_", "T2I ").replace("image_to_text_", "I2T ") for c in columns]
    lines = [title] if title else []
    lines.append(f"{'lang':<{width}}  " + "  ".join(f"{h:>8}" for h in heads))
    rows = list(per_language.items()) + ([("mean", mean)] if mean else [])
    for lang, vals in rows:
        lines.append(f"{lang:<{width}}  " + "  ".join(
            f"{100 * vals[c]:8.1f}" if c in vals and vals[c] == vals[c] else f"{'-':>8}" for c in columns))
    return "\n".join(lines)


def format_results(results: Mapping[str, object]) -> str:
    """Per-language tables for every benchmark in ``evaluate``'s result."""
    out = []
    recall_cols = [f"{d}_R@{k}" for d in ("text_to_image", "image_to_text") for k in RECALL_KS]
    for name, key in (("zero-shot", "zero_shot"), ("Babel-ImageNet zero-shot", "babel_imagenet")):
        res = results.get(key)
        if isinstance(res, dict) and res.get("per_language"):
            out.append(format_table(res["per_language"], ["top1", "top5"],
                                    {"top1": res["mean_top1"], "top5": res["mean_top5"]},
                                    f"{name} accuracy (%), {res['images']} images"))
    for name, key in (("XM3600 retrieval", "xm3600"), ("retrieval", "retrieval")):
        res = results.get(key)
        if isinstance(res, dict):
            per = res.get("per_language") or {}
            mean = res.get("mean") if key == "xm3600" else {c: res[c] for c in recall_cols if c in res}
            label = "mean" if key == "xm3600" else "all"
            table = format_table(per, recall_cols, None, f"{name} recall (%), {res['images']} images")
            if mean:
                table += "\n" + format_table({label: mean}, recall_cols).split("\n", 1)[1]
            out.append(table)
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.split("\n")[0])
    src = ap.add_argument_group("model (one of)")
    src.add_argument("--model-dir", help="exported model directory (<output-dir>/model)")
    src.add_argument("--pretrained", help="open_clip checkpoint file or folder (training.pretrained)")
    src.add_argument("--model", help="with --pretrained: open_clip config name or config JSON")
    src.add_argument("--tokenizer", help="with --pretrained: local tokenizer folder (tokenizer.json or SentencePiece)")
    b = ap.add_argument_group("benchmarks")
    b.add_argument("--xm3600", help="Crossmodal-3600 folder: captions.jsonl + images/<image/key>.jpg")
    b.add_argument("--xm3600-field", default="caption", help="caption list to read (caption, caption/tokenized, ...)")
    b.add_argument("--babel-imagenet", help="Babel-ImageNet labels JSON or the folder holding babel_imagenet-298.json")
    b.add_argument("--imagenet-val", help="ImageNet-1k validation images, <dir>[/val]/<wnid>/*.JPEG")
    b.add_argument("--babel-prompts", default="label",
                   help="label, openai_en, or a prompts JSON (nllb_dist13b_prompts) by path or name")
    b.add_argument("--languages", help="comma-separated language codes for XM3600 / Babel-ImageNet (default all)")
    b.add_argument("--zeroshot", help="zero-shot table or class-per-folder directory")
    b.add_argument("--classes", help="JSON with per-language classnames and templates")
    b.add_argument("--retrieval", help="retrieval table, folder with captions.jsonl, or a .jsonl file")
    ap.add_argument("--image-column")
    ap.add_argument("--batch-size", type=int, default=256, help="images per forward pass")
    ap.add_argument("--workers", type=int, default=0, help="image-decoding processes (0: in this process)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", help="write the results JSON here")
    args = ap.parse_args(argv)
    if bool(args.model_dir) == bool(args.pretrained):
        ap.error("give --model-dir or --pretrained (one of them)")
    if not (args.zeroshot or args.retrieval or args.xm3600 or args.babel_imagenet):
        ap.error("give at least one of --xm3600, --babel-imagenet, --zeroshot, --retrieval")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    languages = [c.strip() for c in args.languages.split(",") if c.strip()] if args.languages else None
    try:
        results = evaluate(args.model_dir, zeroshot=args.zeroshot, classes=args.classes,
                           retrieval_source=args.retrieval, xm3600=args.xm3600, xm3600_field=args.xm3600_field,
                           babel_imagenet=args.babel_imagenet, imagenet_val=args.imagenet_val,
                           babel_prompts=args.babel_prompts, languages=languages, pretrained=args.pretrained,
                           model=args.model, tokenizer=args.tokenizer, device=args.device,
                           image_column=args.image_column, batch_size=args.batch_size, workers=args.workers)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_results(results))
    text = json.dumps(results, indent=1, ensure_ascii=False)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"\nresults: {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
