"""A small multilingual input and metadata, plus a pure-Python reference of the whole
algorithm (SPEC §2) to check the Spark tables against."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections import defaultdict

import numpy as np

from curation.balancing import (auto_t_en, entry_probabilities, tail_proportion,
                                threshold_for_proportion)
from curation.ids import image_uid
from curation.lid import detect, to_metadata_lang
from curation.matching import Matcher
from curation.metadata import metadata_from_lists, write_metadata
from curation.sampling import sample_image
from curation.validation import reject_reason

METADATA = {
    "en": ["cat", "black cat", "dog", "car", "red", "photo", "sofa", "park", "beach", "the",
           "coffee", "mountain", "sunset", "city", "never used entry"],
    "zh": ["猫", "黑色", "沙发", "汽车", "北京", "公园", "咖啡", "海滩"],
    "ja": ["猫", "写真", "東京", "ラーメン", "ソファ", "夜景"],
    "th": ["แมว", "รถ", "ทะเล", "กาแฟ"],
    "de": ["Katze", "Auto", "Strand", "Kaffee", "Sofa", "rote"],
    "fr": ["chat", "voiture"],  # no French text: zero counts, no threshold
}
TEXTS = {
    "en": ["a photo of a black cat on the sofa", "red car parked in the city at sunset",
           "two dogs playing in the park", "the best coffee in the city", "view of the mountain at sunset",
           "my dog and my cat sleeping together", "a red sports car on the beach road",
           "photo of the beach at sunset with palm trees", "black cat looking at the camera",
           "nothing interesting to see here now"],
    "zh": ["这是一只可爱的黑色小猫，它正在沙发上睡觉", "我们在北京的公园里看到了很多美丽的花",
           "红色的汽车停在北京的街道上", "这家店的咖啡非常好喝，我每天都来", "夏天的海滩上有很多游客在游泳"],
    "ja": ["ソファで寝ている黒い猫の写真です", "東京の夜景がとてもきれいに見える場所", "美味しいラーメンを食べに行きました"],
    "th": ["แมวดำนอนอยู่บนโซฟาในบ้าน", "รถสีแดงจอดอยู่ริมทะเลตอนเย็น", "กาแฟร้อนหนึ่งแก้วในตอนเช้า"],
    "de": ["Eine schwarze Katze schläft auf dem Sofa", "Das rote Auto steht am Strand",
           "Frischer Kaffee am Morgen in der Stadt"],
    "ru": ["Красная машина стоит на улице возле дома"],  # no Russian metadata
}


def make_rows(n_images: int = 240) -> list[dict]:
    rng = np.random.default_rng(7)
    langs = list(TEXTS)
    weights = np.array([0.42, 0.16, 0.14, 0.1, 0.12, 0.06])
    rows = []
    for i in range(n_images):
        url = f"https://img{i % 13}.example.org/photos/{i:05d}.jpg"
        for _ in range(1 + int(rng.random() < 0.2) + int(rng.random() < 0.05)):
            lang = langs[rng.choice(len(langs), p=weights / weights.sum())]
            rows.append({"url": url, "text": TEXTS[lang][rng.integers(len(TEXTS[lang]))], "row_no": len(rows)})
    bad = [("https://x.example.org/1.jpg", None), ("https://x.example.org/2.jpg", ""),
           ("https://x.example.org/3.jpg", "   \t "), ("https://x.example.org/4.jpg", "cat " * 1500),
           ("not a url", "a photo of a black cat"), (None, "a photo of a red car"),
           ("javascript:void(0)", "the beach at sunset")]
    for url, text in bad:
        rows.append({"url": url, "text": text, "row_no": len(rows)})
    return rows


def write_inputs(tmp_dir) -> tuple[str, str, list[dict]]:
    rows = make_rows()
    input_path = str(tmp_dir / "alt_texts.jsonl")
    with open(input_path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    metadata_path = str(tmp_dir / "metadata.parquet")
    write_metadata(metadata_from_lists(METADATA, "test"), metadata_path)
    return input_path, metadata_path, rows


def reference(rows: list[dict], seed: int = 0, epoch: int = 0, t_en: int | None = None) -> dict:
    """The whole algorithm, text by text, with the public pure functions only."""
    matchers = {lang: Matcher(entries) for lang, entries in METADATA.items()}
    matched, rejects, seen = [], {}, set()
    for row in rows:  # in row_no order: the first of a repeated (uid, text) pair is kept
        reason = reject_reason(row["url"], row["text"])
        lang = None
        if reason is None and (image_uid(row["url"]), row["text"]) in seen:
            reason = "duplicate"
        elif reason is None:
            seen.add((image_uid(row["url"]), row["text"]))
            (label,), _ = detect([row["text"]])
            lang = to_metadata_lang(label)
            if lang not in matchers:
                reason = "no_metadata_language"
            else:
                ids = matchers[lang].match(row["text"])
                if ids:
                    matched.append({"uid": image_uid(row["url"]), "text": row["text"], "lang": lang,
                                    "entry_ids": ids, "row_no": row["row_no"]})
                else:
                    reason = "unmatched"
        if reason is not None:
            rejects[row["row_no"]] = reason
    counts = {lang: np.zeros(len(e), np.int64) for lang, e in METADATA.items()}
    for m in matched:
        counts[m["lang"]][m["entry_ids"]] += 1
    t_en = t_en or auto_t_en(counts["en"])
    p = tail_proportion(counts["en"], t_en)
    thresholds = {lang: (t_en if lang == "en" else threshold_for_proportion(c, p)) for lang, c in counts.items()}
    probs = {lang: entry_probabilities(c, thresholds[lang]) for lang, c in counts.items()}
    by_uid = defaultdict(list)
    for m in matched:
        by_uid[m["uid"]].append(m)
    curated = {}
    for uid, items in by_uid.items():
        i = sample_image(seed, epoch, uid, [x["text"] for x in items],
                         [probs[x["lang"]][x["entry_ids"]] for x in items])
        if i is not None:
            curated[uid] = items[i]["text"]
    return {"matched": matched, "rejects": rejects, "counts": counts, "t_en": t_en, "p": p,
            "thresholds": thresholds, "probs": probs, "curated": curated}


def file_digests(path: str) -> list[str]:
    """Per Parquet data file under ``path``, a hash of its decoded content in row order (schema
    included, file names ignored). Not the raw bytes: parquet-mr writes each column's encoding
    list from a hash set whose order changes from one JVM to the next."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = []
    for f in glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True):
        sink = pa.BufferOutputStream()
        table = pq.read_table(f, partitioning=None)
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        out.append(hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest())
    return sorted(out)


def table_digests(root: str, names=("texts_lid", "matched", "rejects", "entry_counts", "thresholds",
                                    "entry_probs", "curated")) -> dict[str, list[str]]:
    return {name: file_digests(os.path.join(root, name)) for name in names}
