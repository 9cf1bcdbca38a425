"""A hostile alt-text corpus: the dirt web dumps really contain, as raw bytes (issue #7).

Each generated line comes with the reject reasons it may legitimately get (``None`` means
"matched"), so a test can check that every row ends in exactly one place, for the right
reason. Files: JSON Lines (with invalid UTF-8 bytes and an unparseable line), CSV (invalid
bytes, quoted commas), an empty file, and a truncated Parquet file.

    python -m curation.hostile_corpus --output /tmp/hostile
"""

from __future__ import annotations

import argparse
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

MATCHED = None
GOOD = "https://img.example.org/{}.jpg"

# (url, text or raw bytes for the text field, allowed outcomes)
_CASES: list[tuple[object, object, set]] = [
    (GOOD.format("good-en"), "a photo of a black cat sleeping on the red sofa", {MATCHED}),
    (GOOD.format("good-zh"), "这是一只可爱的黑色小猫，它正在沙发上睡觉", {MATCHED}),
    (GOOD.format("good-de"), "Eine schwarze Katze schläft auf dem roten Sofa im Haus", {MATCHED}),
    (GOOD.format("null"), None, {"null_text"}),
    (GOOD.format("empty"), "", {"empty_text"}),
    (GOOD.format("ws"), " \t\u3000\u00a0 ", {"empty_text"}),
    (GOOD.format("long"), "cat " * 262_144, {"too_long"}),  # 1 MiB of text
    (GOOD.format("ctrl"), "black cat\x00 on the \x07red\x1b[0m sofa photo", {MATCHED, "unmatched"}),
    (GOOD.format("rtl"), "صورة قطة سوداء جميلة على الأريكة الحمراء", {MATCHED, "unmatched"}),
    (GOOD.format("bidi"), "\u202ered car\u202c photo of the city", {MATCHED, "unmatched", "no_metadata_language"}),
    (GOOD.format("combining"), "cafe\u0301 au lait e\u0301te\u0301 photo", {MATCHED, "unmatched", "no_metadata_language"}),
    (GOOD.format("emoji"), "😀🐱🚗✨", {"unmatched", "no_metadata_language", MATCHED}),
    ("htp:/broken", "a photo of a black cat", {"bad_url"}),
    ("", "a photo of a black cat", {"bad_url"}),
    (None, "a photo of a black cat", {"bad_url"}),
    ("https://exa mple.org/x.jpg", "a photo of a black cat", {"bad_url"}),
    ("javascript:alert(1)", "a photo of a black cat", {"bad_url"}),
    (GOOD.format("dup-url"), "the red car in the city", {MATCHED}),
    (GOOD.format("dup-url"), "a red car parked near the beach", {MATCHED}),
    (GOOD.format("dup-row"), "two dogs playing in the park", {MATCHED}),
    (GOOD.format("dup-row"), "two dogs playing in the park", {"duplicate"}),
    # Spark's JSON reader refuses a line with invalid UTF-8 whole (-> malformed_row, raw line kept)
    (GOOD.format("bad-utf8"), b"black cat \xff\xfe on the sofa", {"malformed_row", "invalid_utf8"}),
    # an escaped lone surrogate is decoded by the reader to '?': not detectable afterwards
    (GOOD.format("lone-surrogate"), "black cat \ud83d on the sofa", {"invalid_utf8", MATCHED, "unmatched"}),
    (GOOD.format("number"), 12345, {"unmatched", "no_metadata_language", MATCHED}),
]
NOT_JSON_LINE = b'{"url": "https://img.example.org/broken.jpg", "text": "unterminated'


def _json_line(row_id: int, url: object, text: object) -> bytes:
    if isinstance(text, bytes):  # splice raw, invalid bytes into an otherwise valid line
        head = json.dumps({"id": row_id, "url": url, "text": "\x00MARK\x00"}, ensure_ascii=False).encode("utf-8")
        return head.replace(b"\\u0000MARK\\u0000", text)
    row = {"id": row_id, "url": url, "text": text}
    if isinstance(text, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return json.dumps(row).encode("ascii")  # escaped lone surrogate
    return json.dumps(row, ensure_ascii=False).encode("utf-8")


def write_hostile_corpus(output: str) -> dict[str, object]:
    """Write the corpus files; return their paths and the expected outcomes per JSONL line."""
    os.makedirs(output, exist_ok=True)
    jsonl = os.path.join(output, "hostile.jsonl")
    expected: list[set] = []
    with open(jsonl, "wb") as f:
        for row_id, (url, text, outcomes) in enumerate(_CASES):
            f.write(_json_line(row_id, url, text) + b"\n")
            expected.append(outcomes)
        f.write(NOT_JSON_LINE + b"\n")
        expected.append({"malformed_row"})
    csv_path = os.path.join(output, "hostile.csv")
    with open(csv_path, "wb") as f:
        f.write(b"url,text\n")
        f.write(b'https://img.example.org/c1.jpg,"a black cat, on the red sofa"\n')
        f.write(b"https://img.example.org/c2.jpg,black cat \xff on the sofa\n")
        f.write(b"https://img.example.org/c3.jpg,\n")
        f.write(b"not-a-url,a photo of a dog\n")
    csv_expected = [{MATCHED}, {"invalid_utf8"}, {"null_text"}, {"bad_url"}]
    empty = os.path.join(output, "empty.jsonl")
    open(empty, "wb").close()
    truncated_dir = os.path.join(output, "truncated_parquet")
    os.makedirs(truncated_dir, exist_ok=True)
    good = os.path.join(truncated_dir, "part-00000.parquet")
    pq.write_table(pa.table({"url": [GOOD.format("p1")], "text": ["a black cat"]}), good)
    bad = os.path.join(truncated_dir, "part-00001.parquet")
    pq.write_table(pa.table({"url": [GOOD.format("p2")] * 100, "text": ["a red car"] * 100}), bad)
    with open(bad, "r+b") as f:
        f.truncate(os.path.getsize(bad) // 2)
    wrong_type = os.path.join(output, "wrong_type.jsonl")
    with open(wrong_type, "w") as f:
        f.write('{"url": "https://img.example.org/w.jpg", "text": {"nested": "object"}}\n')
    return {"jsonl": jsonl, "jsonl_expected": expected, "csv": csv_path, "csv_expected": csv_expected,
            "empty": empty, "truncated_parquet": truncated_dir, "truncated_file": bad, "wrong_type": wrong_type}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    paths = write_hostile_corpus(args.output)
    print("\n".join(f"{k}: {v}" for k, v in paths.items() if not k.endswith("expected")))


if __name__ == "__main__":
    main()
