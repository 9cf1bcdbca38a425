"""Build the labelled LID evaluation set from pinned Universal Dependencies treebanks.

Rows are ``lang \\t kind \\t source \\t text`` (gzip, UTF-8, sorted by lang then source id):

- ``sentence``: the ``# text =`` line of a treebank sentence, verbatim;
- ``fragment``: the same sentence cut after its first k surface tokens, k in 3..12 drawn from
  a hash of (seed, sentence id), because alt-texts are short: a real prefix of the real text.

Per source, at most ``Source.quota`` sentences are drawn, in the order of
``sha256(seed:repo:sent_id)`` (no random state). A text that occurs twice is kept once, so
every row is distinct; one found under two languages (the Cantonese and Mandarin HK
treebanks are parallel: "我做完了！" can be both) is dropped. A text without evidence of its
language is dropped (:func:`has_script_evidence`: fewer than 2 letters in the language's script, or
these less than a third of its letters, e.g. the date lines of the Greek treebank or a
Japanese sentence that is only an English name): no detector can be right about it, and it says
nothing about LID quality. The dropped count per language is printed.

The ``.conllu`` files are read at their pinned commit from a snapshot directory holding
``<owner>+<name>/repo`` git directories (``--mirror-root``), or from plain files under
``--conllu-dir/<name>/<file>``::

    python -m benchmarks.lid.build_eval --mirror-root /work/.mirror
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from benchmarks.lid.sources import SOURCES, Source

DEFAULT_OUTPUT = os.path.join("benchmarks", "data", "lid", "eval_sentences.tsv.gz")
SEED = "lid-eval-1"
FRAGMENT_TOKENS = (3, 12)


@dataclass(frozen=True)
class Sentence:
    sent_id: str
    text: str
    tokens: tuple[str, ...]  # surface tokens in order (multiword tokens as written)


def parse_conllu(content: str) -> Iterator[Sentence]:
    """Sentences of a CoNLL-U file: ``# sent_id``, ``# text`` and the surface tokens.

    Surface tokens are the FORM of range lines (``3-4``) and of words no range covers;
    empty nodes (``5.1``) are skipped.
    """
    sent_id, text, tokens, covered_to = "", None, [], 0
    for line in content.splitlines() + [""]:
        if not line.strip():
            if text is not None:
                yield Sentence(sent_id, text, tuple(tokens))
            sent_id, text, tokens, covered_to = "", None, [], 0
        elif line.startswith("# sent_id ="):
            sent_id = line.split("=", 1)[1].strip()
        elif line.startswith("# text ="):
            text = line.split("=", 1)[1].strip()
        elif not line.startswith("#"):
            cols = line.split("\t")
            if len(cols) < 2 or "." in cols[0]:
                continue
            if "-" in cols[0]:
                covered_to = int(cols[0].split("-")[1])
                tokens.append(cols[1])
            elif int(cols[0]) > covered_to:
                tokens.append(cols[1])


def prefix_after_tokens(text: str, tokens: tuple[str, ...], k: int) -> str | None:
    """``text`` up to the end of its k-th surface token (tokens found left to right), or None
    when a token is not found verbatim (then the caller skips the fragment)."""
    cursor = 0
    for form in tokens[:k]:
        at = text.find(form, cursor)
        if at < 0:
            return None
        cursor = at + len(form)
    return text[:cursor].strip()


# First word of the Unicode character name of the letters each language is written in.
_SCRIPT_WORDS = {"zh": {"CJK"}, "yue": {"CJK"}, "ja": {"CJK", "HIRAGANA", "KATAKANA"},
                 "ko": {"HANGUL", "CJK"}, "th": {"THAI"}, "hi": {"DEVANAGARI"}, "mr": {"DEVANAGARI"},
                 "ar": {"ARABIC"}, "ru": {"CYRILLIC"}, "he": {"HEBREW"}, "el": {"GREEK"},
                 "ka": {"GEORGIAN"}, "hy": {"ARMENIAN"}}
_LATIN = {"LATIN"}


def has_script_evidence(lang: str, text: str) -> bool:
    """At least 2 letters in ``lang``'s script, and at least a third of all letters (by
    Unicode character name, independent of the detector's own script table). A third, not
    a half: a Chinese sentence naming "Courtney Love" is still Chinese."""
    import unicodedata

    expected = _SCRIPT_WORDS.get(lang, _LATIN)
    names = [unicodedata.name(c, "?").split(" ", 1)[0] for c in text if unicodedata.category(c)[0] == "L"]
    in_script = sum(n in expected for n in names)
    return in_script >= 2 and 3 * in_script >= len(names)


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256(":".join(parts).encode()).digest()[:8], "big")


def read_source_file(source: Source, path: str, mirror_root: str | None, conllu_dir: str | None) -> str:
    name = source.repo.split("/", 1)[1]
    if conllu_dir is not None:
        with open(os.path.join(conllu_dir, name, path), encoding="utf-8") as f:
            return f.read()
    git_dir = os.path.join(mirror_root or "", source.repo.replace("/", "+"), "repo")
    out = subprocess.run(["git", "--git-dir", git_dir, "show", f"{source.commit}:{path}"],
                         capture_output=True, check=False)
    if out.returncode != 0:
        raise FileNotFoundError(f"{source.repo}@{source.commit}:{path} not readable from {git_dir}: "
                                f"{out.stderr.decode(errors='replace').strip()}")
    return out.stdout.decode("utf-8")


def rows_of_source(source: Source, content: list[str], seed: str = SEED) -> list[tuple[str, str, str, str]]:
    """(lang, kind, source id, text) rows of one source: quota sentences + their fragments."""
    name = source.repo.split("/", 1)[1]
    sentences = [s for c in content for s in parse_conllu(c) if len(s.text) >= 2]
    sentences.sort(key=lambda s: _hash(seed, source.repo, s.sent_id))
    rows = []
    lo, hi = FRAGMENT_TOKENS
    for s in sentences[:source.quota]:
        sid = f"{name}/{s.sent_id}"
        rows.append((source.lang, "sentence", sid, s.text))
        k = lo + _hash(seed, "k", sid) % (hi - lo + 1)
        if len(s.tokens) > k:
            fragment = prefix_after_tokens(s.text, s.tokens, k)
            if fragment and fragment != s.text:
                rows.append((source.lang, "fragment", sid, fragment))
    return rows


def build(mirror_root: str | None, conllu_dir: str | None, seed: str = SEED,
          dropped: dict[str, int] | None = None) -> list[tuple[str, str, str, str]]:
    """All rows, sorted and distinct; ``dropped`` (if given) gets the rows without evidence per language."""
    rows: list[tuple[str, str, str, str]] = []
    for source in SOURCES:
        content = [read_source_file(source, path, mirror_root, conllu_dir) for path in source.files]
        rows.extend(rows_of_source(source, content, seed))
    rows = [(*row[:3], " ".join(row[3].split())) for row in rows]  # one line per text, to be sure
    langs_of: dict[str, set[str]] = {}
    for lang, _, _, text in rows:
        langs_of.setdefault(text, set()).add(lang)
    seen: set[str] = set()
    distinct = []
    for row in sorted(rows, key=lambda r: (r[0], r[2], r[1])):
        text = row[3]
        if text in seen:
            continue
        if len(langs_of[text]) > 1:  # a text of two languages has no single gold label
            if dropped is not None:
                dropped["ambiguous"] = dropped.get("ambiguous", 0) + 1
            continue
        if not has_script_evidence(row[0], text):
            if dropped is not None:
                dropped[row[0]] = dropped.get(row[0], 0) + 1
            continue
        seen.add(text)
        distinct.append((*row[:3], text))
    return distinct


def write_tsv_gz(rows: list[tuple[str, str, str, str]], path: str) -> None:
    """Deterministic gzip (mtime 0, no file name), written atomically."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    body = "".join("\t".join(r) + "\n" for r in rows).encode("utf-8")
    tmp = path + ".tmp"
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(body)
    os.replace(tmp, path)


def read_eval(path: str = DEFAULT_OUTPUT) -> list[tuple[str, str, str, str]]:
    """Rows of an evaluation file; a clear error naming the build command when it is missing."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found: build it with `python -m benchmarks.lid.build_eval "
                                "--mirror-root DIR` (see benchmarks/lid/SOURCES.md)")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [tuple(line.rstrip("\n").split("\t", 3)) for line in f]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--mirror-root", help="directory of <owner>+<name>/repo git snapshots")
    where.add_argument("--conllu-dir", help="directory of <name>/<file>.conllu plain files")
    ap.add_argument("--output", default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)
    dropped: dict[str, int] = {}
    rows = build(args.mirror_root, args.conllu_dir, dropped=dropped)
    write_tsv_gz(rows, args.output)
    with open(args.output, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    counts: dict[str, list[int]] = {}
    for lang, kind, _, _ in rows:
        counts.setdefault(lang, [0, 0])[kind == "fragment"] += 1
    print(f"{len(rows)} rows -> {args.output} (sha256 {digest}); "
          f"{dropped.get('ambiguous', 0)} texts dropped as found under two languages")
    for lang in sorted(counts):
        print(f"  {lang}: {counts[lang][0]} sentences, {counts[lang][1]} fragments, "
              f"{dropped.get(lang, 0)} dropped without script evidence")
    return 0


if __name__ == "__main__":
    sys.exit(main())
