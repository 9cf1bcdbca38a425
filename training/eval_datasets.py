"""Readers for the multilingual benchmarks as their publishers ship them, from local files only.

Nothing here downloads: the user fetches the public files once and points the evaluator at them.
Every reader checks the layout first and raises a ``ValueError`` naming the file and what is wrong,
before any image is decoded. Torch-free (paths, texts and integer labels out).

**Crossmodal-3600 (XM3600)** — Thapliyal et al. 2022, google.github.io/crossmodal-3600. The
release is ``captions.zip`` (one ``captions.jsonl``) and ``images.tgz`` (3,600 JPEGs named by their
Open Images id). On disk::

    <root>/captions.jsonl
    <root>/images/<image/key>.jpg

one JSON object per line and per image::

    {"image/key": "000411001ff7dd4f", "image/locale": "bn",
     "ar": {"caption": ["..."], "caption/tokenized": ["..."], "caption/tokenized/lowercase": ["..."]},
     "bn": {...}, ..., "zh": {...}}

36 language keys (``XM3600_LANGUAGES``), each with a list of 1-3 captions per image (261,375 in
all). Retrieval is evaluated per language over all 3,600 images and that language's captions.

**Babel-ImageNet** — Geigle et al. 2023, github.com/gregor-ge/Babel-ImageNet. Labels file
``babel_imagenet-298.json`` (or ``babel_imagenet.json``)::

    {"FR": [[0, 1, 2, 3, ...], ["tanche", "poisson rouge", "grand requin blanc", ...]], "DE": [...], ...}

upper-case ISO codes, each mapping to the ImageNet-1k indices of the classes that language has a
label for and the labels in the same order. Translated prompts ``nllb_dist13b_prompts.json``::

    {"FR": ["une mauvaise photo d'un {}.", ...], ...}

(80 templates per language, ``{}`` marks the class name). English is not in the labels file: as in
the authors' code it uses OpenAI's 1,000 ImageNet class names (and OpenAI's 80 templates when
translated prompts are asked for), taken from ``open_clip.zero_shot_metadata``. Images: the
ImageNet-1k validation set in the class-per-folder layout of torchvision's ``ImageNet(split="val")``
and of ``valprep.sh``::

    <imagenet>/val/n01440764/ILSVRC2012_val_00000293.JPEG     (or <imagenet>/n01440764/...)

1,000 WordNet-id folders whose sorted order is the ImageNet-1k class index. A language is scored
on the images of its own classes only, with a classifier over its own classes.

**Class-per-folder zero-shot** (any dataset): ``<root>/<class folder>/<image>`` with classes in
sorted folder order, and a class file ``{"languages": {"en": {"classnames": [...], "templates":
["a photo of a {}."]}, ...}}`` listing one name per folder in that order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
XM3600_LANGUAGES = ("ar", "bn", "cs", "da", "de", "el", "en", "es", "fa", "fi", "fil", "fr", "he", "hi", "hr", "hu",
                    "id", "it", "ja", "ko", "mi", "nl", "no", "pl", "pt", "quz", "ro", "ru", "sv", "sw", "te", "th",
                    "tr", "uk", "vi", "zh")
XM3600_KEY = "image/key"
XM3600_FIELDS = ("caption", "caption/tokenized", "caption/tokenized/lowercase")
BABEL_LABEL_FILES = ("babel_imagenet-298.json", "babel_imagenet.json")
BABEL_PROMPT_FILE = "nllb_dist13b_prompts.json"
IMAGENET_CLASSES = 1000


@dataclass
class CaptionSet:
    """Images and, per language, captions with the image row each one describes."""

    image_ids: list[str]
    image_paths: list[str]
    captions: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)


@dataclass(frozen=True)
class ZeroShotTask:
    """One language's classifier: its classes (indices into the image labels), names and templates."""

    language: str
    class_indices: tuple[int, ...]
    classnames: tuple[str, ...]
    templates: tuple[str, ...]


def _languages_filter(requested: Sequence[str] | None) -> set[str] | None:
    return None if requested is None else {code.strip().lower() for code in requested if code.strip()}


def read_xm3600(root: str, languages: Sequence[str] | None = None, field: str = "caption") -> CaptionSet:
    """XM3600 captions and image paths from ``<root>/captions.jsonl`` + ``<root>/images/``.

    ``languages``: codes to keep (case-insensitive; default all found). ``field``: which caption list
    to read (``caption``, the raw text, is what retrieval benchmarks use).
    """
    if field not in XM3600_FIELDS:
        raise ValueError(f"field must be one of {XM3600_FIELDS}, got {field!r}")
    path = os.path.join(root, "captions.jsonl")
    images_dir = os.path.join(root, "images")
    if not os.path.isfile(path):
        raise ValueError(f"{root} is not an XM3600 folder: {path} is missing (unzip captions.zip there)")
    if not os.path.isdir(images_dir):
        raise ValueError(f"{root} is not an XM3600 folder: {images_dir}/ is missing (untar images.tgz there)")
    wanted = _languages_filter(languages)
    ids: list[str] = []
    seen: set[str] = set()
    texts: dict[str, list[str]] = {}
    owners: dict[str, list[int]] = {}
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: not JSON ({exc.msg})") from None
            key = record.get(XM3600_KEY) if isinstance(record, dict) else None
            if not isinstance(key, str) or not key:
                raise ValueError(f"{where}: no {XM3600_KEY!r} string")
            if key in seen:
                raise ValueError(f"{where}: image {key!r} appears twice")
            seen.add(key)
            row = len(ids)
            ids.append(key)
            for lang, entry in record.items():
                if lang.startswith("image/") or (wanted is not None and lang.lower() not in wanted):
                    continue
                captions = entry.get(field) if isinstance(entry, dict) else None
                if not isinstance(captions, list) or not all(isinstance(c, str) for c in captions):
                    raise ValueError(f"{where}: {lang}.{field} must be a list of strings")
                texts.setdefault(lang, []).extend(captions)
                owners.setdefault(lang, []).extend([row] * len(captions))
    if not ids:
        raise ValueError(f"{path} holds no images")
    if wanted is not None:
        missing = sorted(wanted - {lang.lower() for lang in texts})
        if missing:
            raise ValueError(f"XM3600 has no captions for {missing}; it has {sorted(texts)}")
    captions = {lang: (texts[lang], np.asarray(owners[lang], dtype=np.int64)) for lang in sorted(texts)}
    return CaptionSet(image_ids=ids, image_paths=[os.path.join(images_dir, f"{k}.jpg") for k in ids], captions=captions)


def read_class_folders(root: str) -> tuple[list[str], list[str], list[int]]:
    """``(class folder names, image paths, labels)``; classes in sorted folder order, images sorted per class."""
    if not os.path.isdir(root):
        raise ValueError(f"{root} is not a folder")
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not classes:
        raise ValueError(f"{root} has no class folders (expected <root>/<class>/<image>)")
    paths, labels = [], []
    for label, name in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, name))):
            if f.lower().endswith(IMAGE_SUFFIXES):
                paths.append(os.path.join(root, name, f))
                labels.append(label)
    return classes, paths, labels


def read_class_file(path: str, n_classes: int | None = None) -> dict[str, dict[str, list[str]]]:
    """Per-language ``{"classnames": [...], "templates": [...]}`` from a class file, validated.

    ``n_classes``: the number of classes the images have (class folders, or ``max(label) + 1``); every
    language must name exactly that many, in the same order.
    """
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    languages = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(languages, dict) or not languages:
        raise ValueError(f"{path}: expected {{\"languages\": {{\"<lang>\": {{\"classnames\": [...], "
                         f"\"templates\": [...]}}}}}}")
    for lang, spec in languages.items():
        names = spec.get("classnames") if isinstance(spec, dict) else None
        templates = spec.get("templates") if isinstance(spec, dict) else None
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ValueError(f"{path}: {lang}.classnames must be a non-empty list of strings")
        _check_templates(templates, f"{path}: {lang}.templates")
        if n_classes is not None and len(names) != n_classes:
            raise ValueError(f"{path}: {lang} names {len(names)} classes but the images have {n_classes}")
    return languages


def _check_templates(templates: object, where: str) -> None:
    if not isinstance(templates, list) or not templates or not all(isinstance(t, str) for t in templates):
        raise ValueError(f"{where} must be a non-empty list of strings")
    bad = [t for t in templates if "{}" not in t]
    if bad:
        raise ValueError(f"{where}: templates without the class slot '{{}}': {bad[:3]}")


def imagenet_val_folders(root: str) -> tuple[list[str], list[str], list[int]]:
    """ImageNet-1k validation images by class: ``<root>/val/<wnid>/`` or ``<root>/<wnid>/``, 1,000 folders."""
    base = os.path.join(root, "val") if os.path.isdir(os.path.join(root, "val")) else root
    classes, paths, labels = read_class_folders(base)
    if len(classes) != IMAGENET_CLASSES:
        raise ValueError(f"{base} has {len(classes)} class folders; Babel-ImageNet's class indices refer to the "
                         f"{IMAGENET_CLASSES} ImageNet-1k classes in sorted WordNet-id folder order")
    return classes, paths, labels


def _openai_imagenet() -> tuple[list[str], list[str]]:
    """OpenAI's English ImageNet class names and 80 templates, as open_clip ships them."""
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES, OPENAI_IMAGENET_TEMPLATES

    return list(IMAGENET_CLASSNAMES), [t("{}") for t in OPENAI_IMAGENET_TEMPLATES]


def _load_json(path: str) -> object:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc.msg})") from None


def babel_label_file(source: str) -> str:
    """The labels JSON: ``source`` itself, or the first of ``BABEL_LABEL_FILES`` inside it."""
    if os.path.isfile(source):
        return source
    for name in BABEL_LABEL_FILES:
        if os.path.isfile(os.path.join(source, name)):
            return os.path.join(source, name)
    raise ValueError(f"no Babel-ImageNet labels at {source} (expected one of {BABEL_LABEL_FILES})")


def read_babel_imagenet(source: str, languages: Sequence[str] | None = None, prompts: str = "label"
                        ) -> list[ZeroShotTask]:
    """One ``ZeroShotTask`` per language from Babel-ImageNet's labels (and translated prompts).

    ``source``: the labels JSON or the folder holding it. ``languages``: codes (any case; ``EN`` is
    OpenAI's English labels); default every language of the file. ``prompts``: ``label`` (the bare
    class name, the benchmark's default), ``openai_en`` (OpenAI's English templates for every
    language), or a prompts JSON ``{"LANG": [templates]}`` by path or by name inside the labels'
    folder (``nllb_dist13b_prompts``); English then uses OpenAI's templates, as the authors do.
    """
    label_path = babel_label_file(source)
    labels = _load_json(label_path)
    if not isinstance(labels, dict) or not labels:
        raise ValueError(f"{label_path}: expected {{\"LANG\": [[class indices], [labels]], ...}}")
    available = {k.upper(): k for k in labels}
    codes = [c.strip().upper() for c in languages if c.strip()] if languages is not None else list(available)
    unknown = [c for c in codes if c not in available and c != "EN"]
    if unknown:
        raise ValueError(f"{label_path} has no labels for {unknown}; it has {len(available)} languages "
                         f"(e.g. {sorted(available)[:8]}) plus EN")
    en_names, en_templates = _openai_imagenet() if "EN" in codes or prompts == "openai_en" else ([], [])
    per_lang_prompts: Mapping[str, object] | None = None
    if prompts == "label":
        shared: list[str] | None = ["{}"]
    elif prompts == "openai_en":
        shared = en_templates
    else:
        path = prompts if os.path.isfile(prompts) else os.path.join(os.path.dirname(label_path),
                                                                    prompts if prompts.endswith(".json")
                                                                    else f"{prompts}.json")
        if not os.path.isfile(path):
            raise ValueError(f"prompts {prompts!r}: no such file ({path}); use 'label', 'openai_en' or a "
                             f"JSON like {BABEL_PROMPT_FILE}")
        loaded = _load_json(path)
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected {{\"LANG\": [templates], ...}}")
        per_lang_prompts = {k.upper(): v for k, v in loaded.items()}
        shared = None
    tasks = []
    for code in codes:
        if code == "EN" and code not in available:
            idx, names = list(range(IMAGENET_CLASSES)), en_names
            templates = shared if shared is not None else en_templates
        else:
            entry = labels[available[code]]
            if (not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], list)
                    or not isinstance(entry[1], list) or len(entry[0]) != len(entry[1]) or not entry[0]):
                raise ValueError(f"{label_path}: {code} must be [[class indices], [labels]] of equal, non-zero length")
            idx, names = entry
            if not all(isinstance(i, int) and 0 <= i < IMAGENET_CLASSES for i in idx) or len(set(idx)) != len(idx):
                raise ValueError(f"{label_path}: {code} class indices must be distinct integers in [0, 1000)")
            if per_lang_prompts is not None:
                if code not in per_lang_prompts:
                    raise ValueError(f"the prompts file has no templates for {code}")
                templates = per_lang_prompts[code]  # type: ignore[assignment]
            else:
                templates = shared  # type: ignore[assignment]
        _check_templates(templates, f"{code} templates")
        tasks.append(ZeroShotTask(code, tuple(int(i) for i in idx), tuple(str(n) for n in names), tuple(templates)))
    return tasks
