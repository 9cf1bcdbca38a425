"""SugarCrepe and SugarCrepe++ compositionality evaluation, in any language (METHODS.md §1, Evaluation).

**Scores** (pure NumPy on L2-normalised embeddings; cos = dot product; ties count as failures, as
in the benchmarks' own code, which tests ``pos > neg``):

- SugarCrepe: an item is right when cos(I, pos) > cos(I, neg)  (``sugarcrepe_correct``);
- SugarCrepe++ (two positives p1, p2 and a negative n)  (``sugarcrepe_pp_correct``):
  ITT (image-to-text) = cos(I, p1) > cos(I, n) and cos(I, p2) > cos(I, n);
  TOT (text-only)     = cos(p1, p2) > cos(p1, n) and cos(p1, p2) > cos(p2, n).

Accuracy is reported per subset and as the mean over subsets.

**On-disk formats** (the public datasets' own; see docs/clic.md):

- SugarCrepe (github.com/RAIVNLab/sugar-crepe, ``data/``): one JSON file per subset,
  ``add_obj, add_att, replace_obj, replace_att, replace_rel, swap_obj, swap_att`` — an object
  keyed by item number, ``{"0": {"filename": "000000544519.jpg", "caption": ..., "negative_caption":
  ...}, ...}``; images are COCO val2017 files named by ``filename``. (An older revision names the
  object subsets ``*_ent.json``; both names are read.)
- SugarCrepe++ (github.com/Sri-Harsha/scpp, ``data/``): one JSON file per subset,
  ``replace_obj, replace_att, replace_rel, swap_obj, swap_att`` — a list of ``{"id": 0, "filename":
  ..., "caption": ..., "caption2": ..., "negative_caption": ...}`` (caption = p1, caption2 = p2);
  COCO val2017 images as well.
- Multilingual variant: the same files with translated captions, one folder per language,
  ``<root>/<lang>/<subset>.json`` (images shared, found under the image root). A folder holding
  subset files directly is one unnamed language.

Images are looked up as ``<image_root>/<filename>``; ``image_root`` defaults to
``<root>/images`` when that folder exists, else ``<root>``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

SUGARCREPE_SUBSETS = ("add_obj", "add_att", "replace_obj", "replace_att", "replace_rel", "swap_obj", "swap_att")
SUGARCREPE_PP_SUBSETS = ("replace_obj", "replace_att", "replace_rel", "swap_obj", "swap_att")
_ALIASES = {"add_obj": "add_ent", "replace_obj": "replace_ent", "swap_obj": "swap_ent"}


@dataclass(frozen=True)
class CrepeItem:
    """One benchmark item: image file name, positive caption(s) and the negative."""

    filename: str
    caption: str
    negative: str
    caption2: str | None = None  # SugarCrepe++'s second positive


# ---------------------------------------------------------------- scores


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("nd,nd->n", np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


def _check_rows(*arrays: np.ndarray) -> None:
    shapes = {np.shape(a) for a in arrays}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"embeddings must all be [N, D] with the same shape, got {sorted(shapes)}")


def sugarcrepe_correct(image: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """bool[N]: cos(I, pos) > cos(I, neg) per item (normalised rows)."""
    _check_rows(image, positive, negative)
    return _rowdot(image, positive) > _rowdot(image, negative)


def sugarcrepe_pp_correct(image: np.ndarray, p1: np.ndarray, p2: np.ndarray,
                          negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(itt, tot)`` bool[N] each: the SugarCrepe++ image-to-text and text-only criteria."""
    _check_rows(image, p1, p2, negative)
    i_n = _rowdot(image, negative)
    itt = (_rowdot(image, p1) > i_n) & (_rowdot(image, p2) > i_n)
    p1_p2 = _rowdot(p1, p2)
    tot = (p1_p2 > _rowdot(p1, negative)) & (p1_p2 > _rowdot(p2, negative))
    return itt, tot


# ---------------------------------------------------------------- files


def _subset_file(folder: str, subset: str) -> str | None:
    for name in (subset, _ALIASES.get(subset)):
        if name and os.path.isfile(os.path.join(folder, f"{name}.json")):
            return os.path.join(folder, f"{name}.json")
    return None


def _items(path: str, plus: bool) -> list[CrepeItem]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    rows = list(data.values()) if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a JSON object or list of items")
    need = ("filename", "caption", "negative_caption") + (("caption2",) if plus else ())
    out = []
    for i, row in enumerate(rows):
        missing = [k for k in need if not isinstance(row, dict) or not isinstance(row.get(k), str)]
        if missing:
            raise ValueError(f"{path}: item {i} lacks {missing} (is this a "
                             f"{'SugarCrepe++' if plus else 'SugarCrepe'} file?)")
        out.append(CrepeItem(row["filename"], row["caption"], row["negative_caption"], row.get("caption2")))
    return out


def load_subsets(folder: str, plus: bool = False, subsets: Sequence[str] | None = None) -> dict[str, list[CrepeItem]]:
    """``{subset: items}`` of the subset files present in ``folder`` (SugarCrepe, or SugarCrepe++ with ``plus``)."""
    names = subsets or (SUGARCREPE_PP_SUBSETS if plus else SUGARCREPE_SUBSETS)
    found = {s: _subset_file(folder, s) for s in names}
    out = {s: _items(p, plus) for s, p in found.items() if p}
    if not out:
        raise FileNotFoundError(f"no {'SugarCrepe++' if plus else 'SugarCrepe'} subset files ({', '.join(names)}"
                                f".json) in {folder}")
    return out


def language_folders(root: str, plus: bool = False) -> dict[str, str]:
    """``{lang: folder}``: ``root`` itself as ``""`` when it holds subset files, plus each sub-folder that does."""
    names = SUGARCREPE_PP_SUBSETS if plus else SUGARCREPE_SUBSETS
    out = {}
    if any(_subset_file(root, s) for s in names):
        out[""] = root
    for d in sorted(os.listdir(root)):
        sub = os.path.join(root, d)
        if os.path.isdir(sub) and any(_subset_file(sub, s) for s in names):
            out[d] = sub
    if not out:
        raise FileNotFoundError(f"no subset files in {root} or its language folders")
    return out


# ---------------------------------------------------------------- evaluation with a model


def _embed(model, tokenizer: Callable, preprocess: Callable, image_root: str, items: Sequence[CrepeItem],
           device, cache: dict) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Normalised image embeddings (each file encoded once, cached by path across subsets) and text embeddings."""
    from training.evaluate import encode_images, encode_texts

    paths = [os.path.join(image_root, it.filename) for it in items]
    new = sorted(set(paths) - set(cache))
    absent = [p for p in new if not os.path.isfile(p)]
    if absent:
        raise FileNotFoundError(f"{len(absent)} benchmark images unreadable (missing), e.g. {absent[:5]}")
    if new:
        feats, keep, bad = encode_images(model, preprocess, new, device)
        if len(keep) != len(new):
            missing = [new[i] for i in sorted(set(range(len(new))) - set(keep.tolist()))][:5]
            raise FileNotFoundError(f"{len(new) - len(keep)} benchmark images unreadable ({dict(bad)}), "
                                    f"e.g. {missing}")
        for path, f in zip(new, feats.numpy()):
            cache[path] = f
    images = np.stack([cache[p] for p in paths])
    texts = {"pos": encode_texts(model, tokenizer, [it.caption for it in items], device).numpy(),
             "neg": encode_texts(model, tokenizer, [it.negative for it in items], device).numpy()}
    if items and items[0].caption2 is not None:
        texts["pos2"] = encode_texts(model, tokenizer, [it.caption2 or "" for it in items], device).numpy()
    return images, texts


def evaluate_folder(model, tokenizer: Callable, preprocess: Callable, folder: str, *, plus: bool = False,
                    image_root: str | None = None, device="cpu", cache: dict | None = None) -> dict:
    """SugarCrepe accuracy (or SugarCrepe++ ITT/TOT) per subset of one folder, and the means over subsets."""
    import torch

    image_root = image_root or (os.path.join(folder, "images") if os.path.isdir(os.path.join(folder, "images"))
                                else folder)
    cache = {} if cache is None else cache
    model.eval()
    out: dict = {"subsets": {}}
    with torch.no_grad():
        for subset, items in load_subsets(folder, plus).items():
            images, t = _embed(model, tokenizer, preprocess, image_root, items, torch.device(device), cache)
            if plus:
                itt, tot = sugarcrepe_pp_correct(images, t["pos"], t["pos2"], t["neg"])
                out["subsets"][subset] = {"itt": float(itt.mean()), "tot": float(tot.mean()), "n": len(items)}
            else:
                ok = sugarcrepe_correct(images, t["pos"], t["neg"])
                out["subsets"][subset] = {"acc": float(ok.mean()), "n": len(items)}
    keys = ("itt", "tot") if plus else ("acc",)
    for k in keys:
        out[f"mean_{k}"] = float(np.mean([v[k] for v in out["subsets"].values()]))
    return out


def evaluate_benchmark(model, tokenizer: Callable, preprocess: Callable, root: str, *, plus: bool = False,
                       image_root: str | None = None, device="cpu") -> dict:
    """Per language folder (``language_folders``): ``{lang or "default": evaluate_folder(...)}``."""
    cache: dict = {}
    ir = image_root or (os.path.join(root, "images") if os.path.isdir(os.path.join(root, "images")) else None)
    return {lang or "default": evaluate_folder(model, tokenizer, preprocess, folder, plus=plus,
                                               image_root=ir or folder, device=device, cache=cache)
            for lang, folder in language_folders(root, plus).items()}
