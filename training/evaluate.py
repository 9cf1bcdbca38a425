"""Multilingual evaluation: zero-shot classification and image↔text retrieval (Recall@1/5/10).

Zero-shot: per language, each class's text embedding is the mean of its prompts (class name in
that language's templates); accuracy is reported per language and averaged. Retrieval: every
caption is a query for its image (text→image) and every image for its captions (image→text, a
hit if any of its captions ranks within K), overall and per caption language.

Inputs are tables (Parquet or Delta, like training data) or folders:
- zero-shot table: an image column and an integer ``label`` column; folder: ``<root>/<class>/*``
  with class folders in sorted order matching the class lists;
- class file (JSON): ``{"languages": {"en": {"classnames": [...], "templates": ["a photo of a {}."]}, ...}}``;
- retrieval table: ``uid``, ``text``, optional ``lang`` and an image column, one row per caption;
  folder: ``<root>/captions.jsonl`` with ``{"image": relative path, "text": ..., "lang": ...}`` lines.
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
from training.images import ImageError, load_image, payloads, resolve_image_spec

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


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


@torch.no_grad()
def encode_images(model, preprocess: Callable, image_payloads: Sequence[object], device: torch.device,
                  batch_size: int = 256) -> tuple[torch.Tensor, np.ndarray, Counter]:
    """Normalised image embeddings of the decodable payloads, their indices, and bad-image counts."""
    feats, keep, bad = [], [], Counter()
    batch, idx = [], []
    for i, p in enumerate(image_payloads):
        try:
            batch.append(preprocess(load_image(p)))
            idx.append(i)
        except ImageError as exc:
            bad[exc.reason] += 1
        if len(batch) == batch_size or (i == len(image_payloads) - 1 and batch):
            feats.append(F.normalize(model.encode_image(torch.stack(batch).to(device)).float(), dim=-1).cpu())
            keep.extend(idx)
            batch, idx = [], []
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
    """``[embed_dim, n_classes]``: normalised mean of each class's prompt embeddings."""
    prompts = [t.format(c) for c in classnames for t in templates]
    emb = encode_texts(model, tokenizer, prompts, device).view(len(classnames), len(templates), -1)
    return F.normalize(emb.mean(dim=1), dim=-1).T


def accuracy(logits: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)) -> dict[str, float]:
    ks = [k for k in ks if k <= logits.shape[1]]
    hits = logits.topk(max(ks), dim=1).indices == labels[:, None]
    return {f"top{k}": float(hits[:, :k].any(dim=1).float().mean()) for k in ks}


def zero_shot(model, tokenizer: Callable, preprocess: Callable, image_payloads: Sequence[object],
              labels: Sequence[int], languages: Mapping[str, Mapping[str, Sequence[str]]],
              device: torch.device | str = "cpu") -> dict:
    """Per-language top-1/top-5 accuracy, their mean, and chance level."""
    device = torch.device(device)
    feats, keep, bad = encode_images(model, preprocess, image_payloads, device)
    y = torch.as_tensor(np.asarray(labels)[keep], dtype=torch.long)
    result: dict = {"per_language": {}, "images": len(keep), "bad_images": dict(bad)}
    n_classes = None
    for lang, spec in languages.items():
        classifier = zero_shot_classifier(model, tokenizer, spec["classnames"], spec["templates"], device)
        n_classes = classifier.shape[1]
        result["per_language"][lang] = accuracy(feats @ classifier, y)
    accs = [v["top1"] for v in result["per_language"].values()]
    result["mean_top1"] = float(np.mean(accs)) if accs else float("nan")
    result["chance_top1"] = 1.0 / n_classes if n_classes else float("nan")
    return result


def recall_at_k(image_feats: torch.Tensor, text_feats: torch.Tensor, text_to_image: np.ndarray,
                ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """Image→text and text→image Recall@K; ``text_to_image[j]`` is caption j's image row."""
    sims = image_feats @ text_feats.T  # [images, texts]
    t2i = torch.as_tensor(text_to_image)
    out = {}
    rank_t2i = sims.T.argsort(dim=1, descending=True)  # per text, images by score
    pos = (rank_t2i == t2i[:, None]).float().argmax(dim=1)
    order_i2t = sims.argsort(dim=1, descending=True)
    owner = t2i[order_i2t]  # image of each ranked caption
    first_hit = (owner == torch.arange(sims.shape[0])[:, None]).float().argmax(dim=1)
    has_caption = torch.zeros(sims.shape[0], dtype=torch.bool)
    has_caption[t2i] = True
    for k in ks:
        out[f"text_to_image_R@{k}"] = float((pos < k).float().mean())
        out[f"image_to_text_R@{k}"] = float((first_hit[has_caption] < k).float().mean())
    return out


def retrieval(model, tokenizer: Callable, preprocess: Callable, uids: Sequence[str], texts: Sequence[str],
              image_payloads: Sequence[object], langs: Sequence[str | None] | None = None,
              device: torch.device | str = "cpu") -> dict:
    """Recall@1/5/10 both ways, overall and per caption language; one row per caption."""
    device = torch.device(device)
    first: dict[str, int] = {}
    for i, u in enumerate(uids):
        first.setdefault(u, i)
    image_uids = list(first)
    feats, keep, bad = encode_images(model, preprocess, [image_payloads[first[u]] for u in image_uids], device)
    row_of = {image_uids[k]: r for r, k in enumerate(keep)}
    sel = [j for j, u in enumerate(uids) if u in row_of]
    text_feats = encode_texts(model, tokenizer, [texts[j] for j in sel], device)
    t2i = np.asarray([row_of[uids[j]] for j in sel])
    result = {"images": len(keep), "texts": len(sel), "bad_images": dict(bad), **recall_at_k(feats, text_feats, t2i)}
    if langs is not None:
        per = {}
        for lang in sorted({langs[j] for j in sel if langs[j] is not None}):
            m = np.asarray([langs[j] == lang for j in sel])
            per[lang] = recall_at_k(feats, text_feats[torch.as_tensor(m)], t2i[m])
        result["per_language"] = per
    return result


def _folder_classes(root: str) -> tuple[list[str], list[int]]:
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    paths, labels = [], []
    for c, name in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, name))):
            if f.lower().endswith(IMAGE_SUFFIXES):
                paths.append(os.path.join(root, name, f))
                labels.append(c)
    return paths, labels


def load_zero_shot_data(source: str, image_column: str | None = None) -> tuple[list[object], list[int]]:
    """Image payloads and labels from a table (``label`` column) or a class-per-folder tree."""
    if os.path.isdir(source) and not _is_table(source):
        return _folder_classes(source)  # type: ignore[return-value]
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


def evaluate(model_dir: str, *, zeroshot: str | None = None, classes: str | None = None,
             retrieval_source: str | None = None, device: str = "cpu", image_column: str | None = None) -> dict:
    """Evaluate an exported model directory (``<run>/model``) on the given sources."""
    from training.model import image_transforms, load_exported

    model, model_cfg, tokenizer = load_exported(model_dir, device=device)
    _, preprocess = image_transforms(model_cfg)
    results: dict = {"model_dir": model_dir}
    if zeroshot:
        if not classes:
            raise ValueError("zero-shot evaluation needs a class file (--classes)")
        with open(classes, encoding="utf-8") as f:
            languages = json.load(f)["languages"]
        pays, labels = load_zero_shot_data(zeroshot, image_column)
        results["zero_shot"] = zero_shot(model, tokenizer, preprocess, pays, labels, languages, device)
    if retrieval_source:
        uids, texts, pays, langs = load_retrieval_data(retrieval_source, image_column)
        results["retrieval"] = retrieval(model, tokenizer, preprocess, uids, texts, pays, langs, device)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", required=True, help="exported model directory (<output-dir>/model)")
    ap.add_argument("--zeroshot", help="zero-shot table or class-per-folder directory")
    ap.add_argument("--classes", help="JSON with per-language classnames and templates")
    ap.add_argument("--retrieval", help="retrieval table, folder with captions.jsonl, or a .jsonl file")
    ap.add_argument("--image-column")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", help="write the results JSON here")
    args = ap.parse_args(argv)
    if not args.zeroshot and not args.retrieval:
        ap.error("give --zeroshot and/or --retrieval")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    results = evaluate(args.model_dir, zeroshot=args.zeroshot, classes=args.classes, retrieval_source=args.retrieval,
                       device=args.device, image_column=args.image_column)
    text = json.dumps(results, indent=1, ensure_ascii=False)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
