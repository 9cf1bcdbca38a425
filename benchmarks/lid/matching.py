"""Match rate and precision of the matching modes on real Japanese and Korean sentences.

    python -m benchmarks.lid.matching                          # prints the markdown tables
    python -m benchmarks.lid.matching --sample-out benchmarks/data/lid/matching_sample.tsv

Texts: the ``ja`` and ``ko`` rows of the LID evaluation set (treebank sentences and their
3-12-token prefixes; ``benchmarks.lid.build_eval``). Metadata, two realistic sets:

- ``default``: the embedded default metadata (``curation.metadata.read_metadata()``:
  wordfreq's 3,000 most frequent words + numbers per language);
- ``wordfreq-30k``: wordfreq's 30,000 most frequent ``ja`` / ``ko`` words (valid entries
  only), the size of a Wikipedia unigram list's useful head.

Modes: ``reference`` (SPEC §2), ``cjk-padding`` (kana and Hangul counted as CJK-or-similar
for padding: the naive fix, for comparison only) and ``extended``
(:mod:`curation.matching_extended`: reference ∪ morpheme-boundary matches).

For each mode: the share of texts with at least one match, matched entries per text, and
the share of its matches (beyond the reference's) that start or end *inside* a morpheme
of the text (by the language's segmenter): a proxy for "an entry matching inside an
unrelated word". ``--sample-out`` writes a deterministic sample of extended-only matches
(entry, morphemes around the match) for checking by hand; the verdicts are in
``benchmarks/lid/MATCHING.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence

from benchmarks.lid.build_eval import DEFAULT_OUTPUT, read_eval
from curation import matching
from curation.matching_extended import ExtendedMatcher, get_segmenter

LANGS = ("ja", "ko")
WORDFREQ_N = 30_000
SAMPLE_PER_LANG = 60


def _is_kana_or_hangul(char: str) -> bool:
    cp = ord(char)
    return 0x3040 <= cp <= 0x30FF or 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F


class CjkPaddingMatcher(matching.Matcher):
    """The naive alternative: the reference rule with kana and Hangul counted as CJK-or-similar
    when padding entries (text padding unchanged). Benchmark only, not a product mode."""

    def __init__(self, entries: Sequence[str]):
        original = matching.is_cjk_or_similar
        matching.is_cjk_or_similar = lambda c: original(c) or _is_kana_or_hangul(c)
        try:
            super().__init__(entries)
        finally:
            matching.is_cjk_or_similar = original


def metadata_sets() -> dict[str, dict[str, list[str]]]:
    from curation.metadata import read_metadata, validate_entry

    default = read_metadata()
    out = {"default": {lang: list(default.entries[lang]) for lang in LANGS}}
    import wordfreq

    big = {}
    for lang in LANGS:
        seen: dict[str, None] = {}
        for word in wordfreq.top_n_list(lang, WORDFREQ_N * 2, wordlist="best"):
            if len(seen) >= WORDFREQ_N:
                break
            if word not in seen and validate_entry(word) is None:
                seen[word] = None
        big[lang] = list(seen)
    out[f"wordfreq-{WORDFREQ_N // 1000}k"] = big
    return out


def _boundaries(text: str, lang: str) -> set[int]:
    """Character offsets in the padded text where a morpheme of ``text`` starts or ends."""
    padded = matching.pad_text(text)
    cuts: set[int] = set()
    cursor = 0
    for surface, _, _ in get_segmenter(lang)(text.strip()):
        at = padded.find(surface, cursor)
        if at < 0:
            continue
        cuts.update((at, at + len(surface)))
        cursor = at + len(surface)
    return cuts


def _inside_word(text: str, lang: str, entries: Sequence[str], ids: Sequence[int]) -> int:
    """How many of the entries ``ids`` occur in ``text`` only with an end inside a morpheme."""
    padded = matching.pad_text(text)
    cuts = _boundaries(text, lang)
    inside = 0
    for i in ids:
        entry = entries[i].strip()
        at, ok = padded.find(entry), False
        while at >= 0 and not ok:
            ok = at in cuts and at + len(entry) in cuts
            at = padded.find(entry, at + 1)
        inside += not ok
    return inside


def measure(texts: Sequence[str], lang: str, entries: Sequence[str]) -> dict[str, dict[str, float]]:
    ref = matching.Matcher(entries)
    naive = CjkPaddingMatcher(entries)
    ext = ExtendedMatcher(entries, lang)
    rows: dict[str, dict[str, float]] = {}
    ref_sets = [set(ref.match(t)) for t in texts]
    for mode, matcher in (("reference", ref), ("cjk-padding", naive), ("extended", ext)):
        sets = ref_sets if mode == "reference" else [set(matcher.match(t)) for t in texts]
        extra = [s - r for s, r in zip(sets, ref_sets)]
        n_extra = sum(map(len, extra))
        inside = sum(_inside_word(t, lang, entries, sorted(e)) for t, e in zip(texts, extra) if e)
        rows[mode] = {
            "matched %": 100 * sum(bool(s) for s in sets) / len(texts),
            "entries/text": sum(map(len, sets)) / len(texts),
            "new matches": n_extra,
            "new inside a morpheme %": 100 * inside / n_extra if n_extra else 0.0,
        }
    return rows


def extended_sample(texts: Sequence[str], lang: str, entries: Sequence[str], n: int) -> list[tuple[str, str, str]]:
    """(lang, entry, the text's token string) for a deterministic sample of extended-only matches."""
    ref = matching.Matcher(entries)
    ext = ExtendedMatcher(entries, lang)
    pairs = []
    for text in texts:
        for i in sorted(set(ext.match(text)) - set(ref.match(text))):
            pairs.append((hashlib.sha256(f"{lang}:{i}:{text}".encode()).hexdigest(), entries[i], text))
    pairs.sort()
    return [(lang, entry, ext.text_tokens(text)[0].replace("\x1f", "_").strip()) for _, entry, text in pairs[:n]]


def markdown(results: dict[str, dict[str, dict[str, dict[str, float]]]], counts: dict[str, int]) -> str:
    out = ["| metadata | lang | texts | mode | matched % | entries/text | new matches | new inside a morpheme % |",
           "|---|---|---|---|---|---|---|---|"]
    for meta, per_lang in results.items():
        for lang, rows in per_lang.items():
            for mode, r in rows.items():
                out.append(f"| {meta} | {lang} | {counts[lang]} | {mode} | {r['matched %']:.2f} | "
                           f"{r['entries/text']:.2f} | {r['new matches']} | {r['new inside a morpheme %']:.1f} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="match rate of the matching modes on ja/ko sentences")
    ap.add_argument("--eval", default=DEFAULT_OUTPUT)
    ap.add_argument("--sample-out", help="write a sample of extended-only matches (TSV) for hand checking")
    args = ap.parse_args(argv)
    rows = read_eval(args.eval)
    texts = {lang: [r[3] for r in rows if r[0] == lang] for lang in LANGS}
    metas = metadata_sets()
    results = {meta: {lang: measure(texts[lang], lang, entries[lang]) for lang in LANGS}
               for meta, entries in metas.items()}
    print(markdown(results, {lang: len(t) for lang, t in texts.items()}))
    if args.sample_out:
        big = metas[f"wordfreq-{WORDFREQ_N // 1000}k"]
        with open(args.sample_out, "w", encoding="utf-8") as f:
            for lang in LANGS:
                for row in extended_sample(texts[lang], lang, big[lang], SAMPLE_PER_LANG):
                    f.write("\t".join(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
