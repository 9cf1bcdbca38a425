"""A small multilingual image–caption set, curated with the real rules, so train → eval runs offline.

Images are rendered coloured shapes (circle, square, triangle) in one of four positions; each
image gets captions in 1–4 of seven languages (en, de, es, fr, ru, zh, ja). The captions go
through the same MetaCLIP 2 steps as web data — substring matching against a tiny per-language
metadata (colour, shape and position words) with ``curation.matching.Matcher``, per-entry
counts, thresholds and probabilities from ``curation.balancing``, and the offline sample from
``curation.sampling`` — and are written as the curation jobs write them: ``matched``,
``entry_probs`` and ``curated`` under one root, Parquet or Delta, hash-partitioned by uid and
sorted by uid. Colours are skewed on purpose (red is common) so that balancing has work to do.
Language labels are known here, so LID is not run (``lang_score`` = 1).

Held-out images with per-language class names and prompt templates are written under
``<root>/eval`` for zero-shot classification (classes: colour × shape) and retrieval.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageDraw

from curation.balancing import (
    auto_t_en,
    counts_by_lang,
    entry_probabilities,
    language_thresholds,
    tail_proportion,
    text_keep_probabilities,
)
from curation.ids import image_uid
from curation.matching import Matcher
from curation.sampling import image_runs, sample_images

COLOURS = ("red", "green", "blue", "yellow")
COLOUR_RGB = {"red": (220, 30, 30), "green": (30, 170, 40), "blue": (30, 60, 220), "yellow": (235, 210, 20)}
COLOUR_WEIGHTS = (0.4, 0.25, 0.2, 0.15)  # skewed: balancing down-samples red
SHAPES = ("circle", "square", "triangle")
POSITIONS = ("left", "right", "top", "bottom")

# Per language: words for colours, shapes, positions, and caption templates over {c} {s} {p}.
VOCAB: dict[str, dict] = {
    "en": {"c": ("red", "green", "blue", "yellow"), "s": ("circle", "square", "triangle"),
           "p": ("left", "right", "top", "bottom"),
           "t": ("a {c} {s} on the {p}", "{c} {s} , {p} side", "a picture of a {c} {s} at the {p}"),
           "class": "{c} {s}", "zs": ("a {x} on the left", "a {x} on the right", "a {x} at the top",
                                      "a {x} at the bottom")},
    "de": {"c": ("Rot", "Grün", "Blau", "Gelb"), "s": ("Kreis", "Quadrat", "Dreieck"),
           "p": ("links", "rechts", "oben", "unten"),
           "t": ("ein {s} in {c} , {p}", "{s} in {c} {p} im Bild"),
           "class": "{s} in {c}", "zs": ("ein {x} , links", "ein {x} , rechts", "ein {x} , oben", "ein {x} , unten")},
    "es": {"c": ("rojo", "verde", "azul", "amarillo"), "s": ("círculo", "cuadrado", "triángulo"),
           "p": ("izquierda", "derecha", "arriba", "abajo"),
           "t": ("un {s} {c} a la {p}", "{s} {c} , {p}"),
           "class": "{s} {c}", "zs": ("un {x} a la izquierda", "un {x} a la derecha", "un {x} arriba",
                                      "un {x} abajo")},
    "fr": {"c": ("rouge", "vert", "bleu", "jaune"), "s": ("cercle", "carré", "triangle"),
           "p": ("gauche", "droite", "haut", "bas"),
           "t": ("un {s} {c} en {p}", "{s} {c} , côté {p}"),
           "class": "{s} {c}", "zs": ("un {x} à gauche", "un {x} à droite", "un {x} en haut", "un {x} en bas")},
    "ru": {"c": ("красный", "зелёный", "синий", "жёлтый"), "s": ("круг", "квадрат", "треугольник"),
           "p": ("слева", "справа", "сверху", "снизу"),
           "t": ("{c} {s} {p}", "{p} {c} {s}"),
           "class": "{c} {s}", "zs": ("{x} слева", "{x} справа", "{x} сверху", "{x} снизу")},
    "zh": {"c": ("红色", "绿色", "蓝色", "黄色"), "s": ("圆形", "正方形", "三角形"),
           "p": ("左边", "右边", "上面", "下面"),
           "t": ("{p}有一个{c}的{s}", "一个{c}{s}在{p}"),
           "class": "{c}的{s}", "zs": ("左边有一个{x}", "右边有一个{x}", "上面有一个{x}", "下面有一个{x}")},
    "ja": {"c": ("赤", "緑", "青", "黄"), "s": ("丸", "四角", "三角"),
           "p": ("左", "右", "上", "下"),
           "t": ("{c}色の{s}が{p}にある", "{p}に{c}色の{s}"),
           "class": "{c}色の{s}", "zs": ("{x}が左にある", "{x}が右にある", "{x}が上にある", "{x}が下にある")},
}
LANGUAGES = tuple(VOCAB)


def metadata_entries(lang: str) -> list[str]:
    """The tiny metadata of one language: its colour, shape and position words."""
    v = VOCAB[lang]
    return list(v["c"]) + list(v["s"]) + list(v["p"])


def caption(lang: str, colour: int, shape: int, position: int, variant: int) -> str:
    v = VOCAB[lang]
    return v["t"][variant % len(v["t"])].format(c=v["c"][colour], s=v["s"][shape], p=v["p"][position])


def class_names(lang: str) -> list[str]:
    """Zero-shot class names (colour × shape, in ``class_index`` order) in one language."""
    v = VOCAB[lang]
    return [v["class"].format(c=v["c"][c], s=v["s"][s]) for c in range(len(COLOURS)) for s in range(len(SHAPES))]


def templates(lang: str) -> list[str]:
    """Zero-shot prompt templates (``{}`` = class name) in one language."""
    return [t.replace("{x}", "{}") for t in VOCAB[lang]["zs"]]


def class_index(colour: int, shape: int) -> int:
    return colour * len(SHAPES) + shape


def render(colour: int, shape: int, position: int, rng: random.Random, size: int = 64) -> bytes:
    """JPEG bytes of one shape on a noisy light background, placed in the named region."""
    bg = rng.randint(200, 250)
    arr = np.clip(np.random.default_rng(rng.getrandbits(32)).normal(bg, 8, (size, size, 3)), 0, 255)
    img = Image.fromarray(arr.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    r = rng.randint(size // 9, size // 6)
    lo, hi, mid = size // 5, size - size // 5, (size // 3, 2 * size // 3)
    cx, cy = {
        0: (rng.randint(lo, size // 3), rng.randint(*mid)),
        1: (rng.randint(2 * size // 3, hi), rng.randint(*mid)),
        2: (rng.randint(*mid), rng.randint(lo, size // 3)),
        3: (rng.randint(*mid), rng.randint(2 * size // 3, hi)),
    }[position]
    fill = tuple(int(np.clip(ch + rng.randint(-25, 25), 0, 255)) for ch in COLOUR_RGB[COLOURS[colour]])
    if SHAPES[shape] == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif SHAPES[shape] == "square":
        draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=fill)
    else:
        draw.polygon(((cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)), fill=fill)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


@dataclass
class DemoImage:
    uid: str
    url: str
    colour: int
    shape: int
    position: int
    jpg: bytes


def make_images(n: int, split: str, seed: int, image_size: int = 64) -> list[DemoImage]:
    rng = random.Random(f"{seed}/{split}")
    out = []
    for i in range(n):
        colour = rng.choices(range(len(COLOURS)), weights=COLOUR_WEIGHTS)[0] if split == "train" \
            else rng.randrange(len(COLOURS))
        shape, position = rng.randrange(len(SHAPES)), rng.randrange(len(POSITIONS))
        url = f"https://demo.invalid/{split}/{i}.jpg"
        out.append(DemoImage(image_uid(url), url, colour, shape, position,
                             render(colour, shape, position, rng, image_size)))
    return out


def row_group_slices(n: int, sizes: int | Sequence[int], shift: int = 0) -> list[tuple[int, int]]:
    """``(offset, length)`` of the row groups of ``n`` rows: ``sizes`` rows each, or the sizes of a
    sequence in turn (cycled, starting at item ``shift``) — uneven row groups for tests and tools."""
    cycle = [sizes] if isinstance(sizes, int) else list(sizes)
    if not cycle or any(int(k) < 1 for k in cycle):
        raise ValueError("row-group sizes must be positive")
    out, start, i = [], 0, shift
    while start < n:
        length = min(int(cycle[i % len(cycle)]), n - start)
        out.append((start, length))
        start, i = start + length, i + 1
    return out


def _write_parquet_file(part: pa.Table, path: str, sizes: int | Sequence[int], shift: int) -> None:
    if part.num_rows == 0:
        pq.write_table(part, path)
        return
    with pq.ParquetWriter(path, part.schema) as writer:
        for offset, length in row_group_slices(part.num_rows, sizes, shift):
            writer.write_table(part.slice(offset, length), row_group_size=length)


def write_table(table: pa.Table, uri: str, format: str = "parquet", num_files: int = 2,
                row_group_size: int | Sequence[int] = 256, delta_configuration: dict[str, str] | None = None) -> None:
    """Write like the curation jobs: hash-partition by uid into ``num_files``, each sorted by uid.

    Parquet: part files plus ``_SUCCESS``. Delta: one commit per part file (version = num_files - 1).
    ``row_group_size`` may be a sequence of sizes, used in turn (file ``p`` starts at item ``p``):
    uneven row groups; a Delta table is then written as Parquet files and converted in one commit
    (version 0), since ``deltalake``'s writer only caps row-group sizes.
    """
    uids = table.column("uid").to_pylist()
    part_of = np.array([int(u[:8], 16) % num_files for u in uids])
    parts = []
    for p in range(num_files):
        idx = np.flatnonzero(part_of == p)
        part = table.take(pa.array(idx, pa.int64()))
        uids_of_part = part.column("uid").to_pylist()
        order = sorted(range(part.num_rows), key=uids_of_part.__getitem__)  # stable: texts keep their order
        parts.append(part.take(pa.array(order, pa.int64())))
    if format not in ("parquet", "delta"):
        raise ValueError(f"format must be parquet or delta, got {format!r}")
    config = {"delta.enableDeletionVectors": "false", **(delta_configuration or {})}
    if format == "parquet" or not isinstance(row_group_size, int):
        os.makedirs(uri, exist_ok=True)
        for p, part in enumerate(parts):
            if part.num_rows or p == 0 or format == "parquet":
                _write_parquet_file(part, os.path.join(uri, f"part-{p:05d}.parquet"), row_group_size, p)
        if format == "parquet":
            open(os.path.join(uri, "_SUCCESS"), "w").close()
        else:
            from deltalake import convert_to_deltalake

            convert_to_deltalake(uri, configuration=config)
        return
    from deltalake import WriterProperties, write_deltalake

    props = WriterProperties(max_row_group_size=row_group_size)
    for p, part in enumerate(parts):
        if part.num_rows or p == 0:
            write_deltalake(uri, part, mode="overwrite" if p == 0 else "append", writer_properties=props,
                            configuration=config if p == 0 else None)


def curate(images: Sequence[DemoImage], seed: int, rng: random.Random, epoch: int = 0,
           corrupt: int = 0) -> tuple[pa.Table, pa.Table, pa.Table]:
    """``matched``, ``entry_probs`` and ``curated`` tables of the demo images (curation rules, in memory)."""
    matchers = {lang: Matcher(metadata_entries(lang)) for lang in LANGUAGES}
    rows: dict[str, list] = {k: [] for k in ("uid", "url", "text", "lid_label", "lang", "lang_score", "entry_ids",
                                             "jpg")}
    bad = {img.uid for img in list(images)[:corrupt]}  # a few undecodable images, counted by the loader
    for img in images:
        n_caps = rng.randint(1, 4)
        for lang in rng.sample(LANGUAGES, n_caps):
            text = caption(lang, img.colour, img.shape, img.position, rng.randrange(3))
            ids = matchers[lang].match(text)
            if not ids:
                continue  # unmatched text: leaves the pipeline, as in curation
            rows["uid"].append(img.uid)
            rows["url"].append(img.url)
            rows["text"].append(text)
            rows["lid_label"].append(lang)
            rows["lang"].append(lang)
            rows["lang_score"].append(1.0)
            rows["entry_ids"].append(sorted(ids))
            rows["jpg"].append(b"not a jpeg" if img.uid in bad else img.jpg)
    schema = pa.schema([("uid", pa.string()), ("url", pa.string()), ("text", pa.string()),
                        ("lid_label", pa.string()), ("lang", pa.string()), ("lang_score", pa.float32()),
                        ("entry_ids", pa.list_(pa.int32())), ("jpg", pa.binary())])
    matched = pa.table(rows, schema=schema)

    # one (lang, entry_id, count=1) row per matched entry of a text: the counts of SPEC §2 step 4
    lengths = np.fromiter(map(len, rows["entry_ids"]), np.int64, len(rows["entry_ids"]))
    flat_ids = np.fromiter(itertools.chain.from_iterable(rows["entry_ids"]), np.int64, int(lengths.sum()))
    pairs = pa.table({"lang": np.repeat(np.asarray(rows["lang"], dtype=object), lengths).tolist(),
                      "entry_id": flat_ids, "count": np.ones(flat_ids.size, np.int64)})
    counts = counts_by_lang(pairs, {lang: len(metadata_entries(lang)) for lang in LANGUAGES})
    # Every demo caption names a colour, a shape and a position, so with the paper's tail share
    # most captions would hit a tail entry and be kept; half the rarest English count makes every
    # entry a head entry and lets balancing visibly thin out the common colour.
    nonzero = counts["en"][counts["en"] > 0]
    t_en = max(1, int(nonzero.min()) // 2) if nonzero.size else auto_t_en(counts["en"])
    thresholds = language_thresholds(counts, t_en, tail_proportion(counts["en"], t_en))
    probs = {lang: entry_probabilities(c, thresholds[lang]) for lang, c in counts.items()}
    entry_probs = pa.table({
        "lang": [lang for lang in LANGUAGES for _ in probs[lang]],
        "entry_id": pa.array([i for lang in LANGUAGES for i in range(len(probs[lang]))], pa.int32()),
        "prob": pa.array(np.concatenate([probs[lang] for lang in LANGUAGES]), pa.float32()),
    })

    # the rows of an image are contiguous (captions are appended image by image)
    keep_p = text_keep_probabilities(probs, rows["lang"], rows["entry_ids"])
    chosen = sample_images(seed, epoch, rows["uid"], rows["text"], image_runs(rows["uid"]), keep_p)
    keep_rows = chosen[chosen >= 0]
    curated = matched.take(pa.array(keep_rows, pa.int64())).select(["uid", "url", "text", "lang", "entry_ids", "jpg"])
    curated = curated.add_column(5, "keep_prob", pa.array(keep_p[keep_rows], pa.float64()))
    return matched, entry_probs, curated


def generate(root: str, *, n_train: int = 4000, n_test: int = 480, seed: int = 0, format: str = "parquet",
             num_files: int = 4, row_group_size: int | Sequence[int] = 256, image_size: int = 64,
             corrupt: int = 3) -> dict:
    """Write ``<root>/{matched,entry_probs,curated}`` and ``<root>/eval``; return a summary."""
    rng = random.Random(seed)
    train = make_images(n_train, "train", seed, image_size)
    matched, entry_probs, curated = curate(train, seed, rng, corrupt=corrupt)
    write_table(matched, f"{root}/matched", format, num_files, row_group_size)
    _write_plain(entry_probs, f"{root}/entry_probs", format)
    write_table(curated, f"{root}/curated", format, num_files, row_group_size)

    test = make_images(n_test, "test", seed, image_size)
    eval_dir = f"{root}/eval"
    zeroshot = pa.table({
        "uid": [im.uid for im in test], "jpg": [im.jpg for im in test],
        "label": pa.array([class_index(im.colour, im.shape) for im in test], pa.int32()),
    })
    write_table(zeroshot, f"{eval_dir}/zeroshot", format, 1, row_group_size)
    retrieval_rows: dict[str, list] = {"uid": [], "text": [], "lang": [], "jpg": []}
    for im in test[: min(len(test), 200)]:
        for lang in LANGUAGES:
            retrieval_rows["uid"].append(im.uid)
            retrieval_rows["text"].append(caption(lang, im.colour, im.shape, im.position, 0))
            retrieval_rows["lang"].append(lang)
            retrieval_rows["jpg"].append(im.jpg)
    write_table(pa.table(retrieval_rows), f"{eval_dir}/retrieval", format, 1, row_group_size)
    classes = {"languages": {lang: {"classnames": class_names(lang), "templates": templates(lang)}
                             for lang in LANGUAGES}}
    with open(f"{eval_dir}/classes.json", "w", encoding="utf-8") as f:
        json.dump(classes, f, ensure_ascii=False, indent=1)
    summary = {"root": root, "format": format, "train_images": n_train, "matched_texts": matched.num_rows,
               "curated_images": curated.num_rows, "test_images": n_test, "classes": len(class_names("en")),
               "languages": list(LANGUAGES), "corrupt_images": corrupt}
    with open(f"{root}/demo_summary.json", "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return summary


def _write_plain(table: pa.Table, uri: str, format: str) -> None:
    """A table without uid (entry_probs): one file, written as is."""
    if format == "parquet":
        os.makedirs(uri, exist_ok=True)
        pq.write_table(table, os.path.join(uri, "part-00000.parquet"))
        open(os.path.join(uri, "_SUCCESS"), "w").close()
    else:
        from deltalake import write_deltalake

        write_deltalake(uri, table, mode="overwrite", configuration={"delta.enableDeletionVectors": "false"})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Write the multilingual shapes demo set as curated tables.")
    ap.add_argument("root")
    ap.add_argument("--format", choices=("parquet", "delta"), default="parquet")
    ap.add_argument("--n-train", type=int, default=4000)
    ap.add_argument("--n-test", type=int, default=480)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print(json.dumps(generate(args.root, n_train=args.n_train, n_test=args.n_test, seed=args.seed,
                              format=args.format), indent=1))


if __name__ == "__main__":
    main()
