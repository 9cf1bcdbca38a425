"""Synthetic web-like alt-text corpus for benchmarks (issue #6), deterministic by seed.

Shape of real alt-text dumps, not their content: English ~43 %, then a power-law tail over
50+ languages (CJK and Thai included); words drawn Zipf-like by frequency rank from each
language's metadata entries (so head entries are very frequent and balancing has work to
do), ~12 % of texts with no dictionary words at all (file names, codes), ~10 % of images
with two alt-texts, and a sprinkle of bad rows. Tail languages with no metadata use CLDR
vocabulary from Babel and end up as ``no_metadata_language`` rejects, as on the real web.

    python -m benchmarks.corpus --rows 1000000 --output benchmarks/data/corpus_1m
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curation.metadata import Metadata, read_metadata

EN_SHARE = 0.43
NO_SPACE = {"zh", "ja", "th", "km", "lo", "my", "bo"}
# Languages with no metadata in the default set: vocabulary from CLDR (Babel).
CLDR_TAIL = ("sw", "eu", "gl", "af", "hy", "ka", "az", "kk", "uz", "et", "cy", "ga", "mn", "ne",
             "si", "km", "lo", "my", "am", "ml", "te", "kn", "mr", "gu", "pa")
NOISE = ("IMG_{n}.JPG", "DSC{n}", "image-{n}", "{n}x{n}", "photo_{n}.png", "banner{n}", "sku {n}-{n}")
FILE_ROWS = 250_000


def _cldr_vocab(code: str) -> list[str]:
    from babel import Locale

    loc = Locale.parse(code)
    phrases = [*loc.territories.values(), *loc.languages.values(), *loc.months["format"]["wide"].values(),
               *loc.days["format"]["wide"].values()]
    words: list[str] = []
    for phrase in phrases:
        words.extend(phrase.split() if code not in NO_SPACE else [phrase])
    seen: dict[str, None] = {}
    for w in words:
        seen.setdefault(w, None)
    return list(seen)


def _vocabularies(metadata: Metadata) -> dict[str, list[str]]:
    vocab = {lang: [e for e in entries if not e.isdigit()] for lang, entries in metadata.entries.items()}
    for code in CLDR_TAIL:
        if code not in vocab:
            vocab[code] = _cldr_vocab(code)
    return {k: v for k, v in vocab.items() if len(v) >= 50}


def _language_weights(langs: list[str]) -> np.ndarray:
    """English EN_SHARE, the rest a power law in a fixed (seeded-by-name) order."""
    others = sorted(l for l in langs if l != "en")
    order = sorted(others, key=lambda l: (l not in ("de", "fr", "es", "ja", "zh", "ru", "pt", "it"), l))
    tail = 1.0 / np.arange(1, len(order) + 1) ** 1.1
    tail = tail / tail.sum() * (1 - EN_SHARE)
    weights = dict(zip(order, tail))
    weights["en"] = EN_SHARE
    return np.array([weights[l] for l in langs])


def generate_chunk(rng: np.random.Generator, start: int, n: int, vocab: dict[str, list[str]],
                   langs: list[str], weights: np.ndarray) -> pa.Table:
    lang_idx = rng.choice(len(langs), size=n, p=weights / weights.sum())
    n_words = np.clip(rng.poisson(6, size=n), 2, 24)
    noise = rng.random(n) < 0.12
    texts: list[str | None] = [None] * n
    for li, lang in enumerate(langs):
        rows = np.flatnonzero(lang_idx == li)
        if rows.size == 0:
            continue
        words = vocab[lang]
        total = int(n_words[rows].sum())
        ranks = np.minimum(rng.zipf(1.25, size=total) - 1, len(words) - 1)
        sep = "" if lang in NO_SPACE else " "
        pos = 0
        for r in rows:
            k = int(n_words[r])
            texts[r] = sep.join(words[j] for j in ranks[pos:pos + k])
            pos += k
    for r in np.flatnonzero(noise):
        template = NOISE[int(rng.integers(len(NOISE)))]
        texts[r] = template.format(n=int(rng.integers(1, 99999)))
    # ~10 % of rows reuse the previous row's image (two alt-texts for one image)
    image_no = np.arange(start, start + n)
    shared = rng.random(n) < 0.10
    shared[0] = False
    image_no[shared] = image_no[np.flatnonzero(shared) - 1]
    urls = [f"https://cdn{i % 97}.example-{i % 13}.com/img/{i:010d}.jpg" for i in image_no.tolist()]
    bad = rng.random(n)
    for r in np.flatnonzero(bad < 0.004):
        texts[r] = None
    for r in np.flatnonzero((bad >= 0.004) & (bad < 0.006)):
        urls[r] = "about:blank"
    for r in np.flatnonzero((bad >= 0.006) & (bad < 0.008)):
        texts[r] = "   "
    return pa.table({"url": pa.array(urls, pa.string()), "text": pa.array(texts, pa.string())})


def generate_corpus(n_rows: int, output: str, seed: int = 0, metadata: Metadata | None = None) -> str:
    """Write ``n_rows`` rows as Parquet files under ``output`` (skipped if already complete)."""
    marker = os.path.join(output, "_COMPLETE")
    if os.path.exists(marker):
        return output
    os.makedirs(output, exist_ok=True)
    vocab = _vocabularies(metadata or read_metadata())
    langs = sorted(vocab)
    weights = _language_weights(langs)
    rng = np.random.default_rng(seed)
    for file_no, start in enumerate(range(0, n_rows, FILE_ROWS)):
        n = min(FILE_ROWS, n_rows - start)
        table = generate_chunk(rng, start, n, vocab, langs, weights)
        pq.write_table(table, os.path.join(output, f"part-{file_no:05d}.parquet"), compression="snappy",
                       row_group_size=50_000)
    with open(marker, "w") as f:
        f.write(f"{n_rows} rows, seed {seed}, {len(langs)} languages\n")
    return output


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--metadata", default=None)
    args = parser.parse_args(argv)
    generate_corpus(args.rows, args.output, args.seed, read_metadata(args.metadata))
    print(f"wrote {args.rows} rows to {args.output}")


if __name__ == "__main__":
    main()
