"""A realistic benchmark corpus and metadata (issue 22): real sentences, alt-text lengths, web mix.

The synthetic corpus (``benchmarks.corpus``) strings metadata words together: its texts are
short (median ~30 characters), and half of their words are metadata entries, so LID and
matching cost less per row than on real alt-texts. This corpus is made of **real text**:

- **Sentences.** Every ``# text =`` sentence of the pinned Universal Dependencies treebanks of
  the LID evaluation (``benchmarks.lid.sources``: 17 languages, Wikipedia, news, reviews,
  forums, subtitles) and, for Khmer, the 12,000 sentences of khPOS (:data:`KHMER`), whose
  word segmentation is undone (Khmer is written without spaces between words).
- **Captions from real word sequences.** A row's text is a run of consecutive tokens of one
  real sentence, cut at token boundaries with the sentence's own spacing kept, joined with a
  run of a second sentence of the same language by an alt-text separator (`` | ``, `` - ``,
  ``, ``...), as page titles and product captions are (issue 22 measured "1M real sentences
  joined in pairs"); the total length is drawn from a log-normal (texts of median ~80
  characters). Windows start anywhere in a sentence and pairs are drawn independently, so
  texts are distinct (the measured share is written to ``_COMPLETE``).
- **Web-like mix** (:data:`LANGUAGE_MIX`): English 40 %, then European, CJK, Arabic, Indic,
  Thai and Khmer texts; 4 % file-name-like texts (``IMG_2041.JPG``), 0.8 % bad rows (no text,
  blank text, a non-http URL), 10 % of images with a second alt-text; URLs of realistic length
  (~85 characters).

The **metadata** (:func:`build_metadata`, >= 200k entries) is real vocabulary: wordfreq's most
frequent words per language (150k for English, 25k for the others), or for the languages
wordfreq lacks (th, km, hy, ka, mr) the treebank's own tokens; plus each language's most
frequent token bigrams of the sentences (MetaCLIP's Wikipedia bigrams, in small). The
**MetaCLIP-2-size** variant (:func:`build_metaclip2_metadata`: 300 languages, tens of
millions of entries) adds generated entries, written in each language's script, with
power-law sizes per language.

The sentences come from public repositories fetched with the search tools (``--mirror-root``
holds ``<owner>+<name>/repo`` git snapshots); the generated files stay out of commits
(``benchmarks/data/`` is ignored) and are rebuilt byte for byte from the pinned commits::

    python -m benchmarks.realistic corpus --rows 1000000 --output benchmarks/data/realistic_1m
    python -m benchmarks.realistic metadata --output benchmarks/data/realistic_metadata.parquet
    python -m benchmarks.realistic metaclip2 --entries 20000000 --output benchmarks/data/metaclip2_metadata.parquet
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import os
import re
import subprocess
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.lid.build_eval import parse_conllu, read_source_file
from benchmarks.lid.sources import SOURCES, Source

MIRROR_ROOT = os.environ.get("WWCLIP_MIRROR_ROOT", "/work/.mirror")
SEED = 0
# Target lengths are log-normal; a window also ends where its sentence ends, so the texts come
# out shorter than their targets: a target median of 110 gives texts of median ~80 characters
# (p10 ~35, p90 ~150), the alt-text length of issue 22's measurement.
MEDIAN_CHARS = 110
LENGTH_SIGMA = 0.55
MIN_CHARS, MAX_CHARS = 12, 300
FILE_ROWS = 250_000
NOISE_SHARE, BAD_SHARE, SECOND_TEXT_SHARE = 0.04, 0.008, 0.10
SEPARATORS = (" | ", " - ", ", ", " · ", ": ", " — ", " / ", " ")
SINGLE_BELOW = 24  # captions shorter than this (characters) are one window of one sentence

KHMER = Source("km", "ye-kyaw-thu/khPOS", "0211405c145b0a340ad558569bd06c946b2296b4",
               ("corpus-draft-ver-1.0/data/after-replace/train.all",), "CC BY-NC-SA 4.0", 0)
"""khPOS: 12,000 Khmer sentences from websites (news, economics, politics), word-segmented and
POS-tagged (``word/TAG``, ``_`` and ``~`` inside compounds); :func:`khmer_sentences` undoes it."""

# Share of rows per language: English first, then a web-like tail; every script of the issue
# (zh, ja, ko, th, km, ar, hi) at least 1 %.
LANGUAGE_MIX = {"en": 0.40, "es": 0.07, "de": 0.07, "fr": 0.06, "ja": 0.06, "ru": 0.05, "zh": 0.05,
                "vi": 0.03, "ko": 0.03, "ar": 0.03, "el": 0.02, "he": 0.02, "hi": 0.02, "th": 0.02,
                "km": 0.015, "hy": 0.01, "ka": 0.01, "mr": 0.01, "yue": 0.005}
UNSPACED = frozenset({"zh", "yue", "ja", "th", "km"})  # tokens of these are joined without spaces
NOISE = ("IMG_{n}.JPG", "DSC{n}", "image-{n}", "{n}x{m}", "photo_{n}.png", "banner{n}", "sku {n}-{m}",
         "P{n}0{m}.jpg", "thumb_{n}")


@dataclass(frozen=True)
class Sentence:
    """A real sentence and the character span of each of its surface tokens."""

    text: str
    spans: tuple[tuple[int, int], ...]


# ---------------------------------------------------------------- sentences

def token_spans(text: str, tokens: tuple[str, ...]) -> tuple[tuple[int, int], ...] | None:
    """(start, end) of each token in ``text``, found left to right; None when one is missing."""
    spans, cursor = [], 0
    for form in tokens:
        at = text.find(form, cursor)
        if at < 0:
            return None
        spans.append((at, at + len(form)))
        cursor = at + len(form)
    return tuple(spans)


_KHMER_TAG = re.compile(r"/[A-Z]+$")


def khmer_sentences(content: str) -> Iterator[Sentence]:
    """Sentences of khPOS ``word/TAG`` lines as written: the tags removed, compounds' ``_`` and
    ``~`` removed and the words joined without spaces (Khmer separates phrases, not words)."""
    for line in content.splitlines():
        words = [_KHMER_TAG.sub("", w).replace("_", "").replace("~", "") for w in line.split()]
        words = [w for w in words if w]
        if not words:
            continue
        text, spans = "", []
        for w in words:
            spans.append((len(text), len(text) + len(w)))
            text += w
        yield Sentence(text, tuple(spans))


def read_sentences(mirror_root: str = MIRROR_ROOT) -> dict[str, list[Sentence]]:
    """All sentences per language (label of ``LANGUAGE_MIX``), in file order, NFC, one line each."""
    out: dict[str, list[Sentence]] = {}
    for source in SOURCES:
        for path in source.files:
            for s in parse_conllu(read_source_file(source, path, mirror_root, None)):
                text = " ".join(s.text.split())
                spans = token_spans(text, s.tokens) if len(text) >= 2 else None
                if spans and unicodedata.is_normalized("NFC", text):
                    out.setdefault(source.lang, []).append(Sentence(text, spans))
    git_dir = os.path.join(mirror_root, KHMER.repo.replace("/", "+"), "repo")
    content = subprocess.run(["git", "--git-dir", git_dir, "show", f"{KHMER.commit}:{KHMER.files[0]}"],
                             capture_output=True, check=True).stdout.decode("utf-8")
    out["km"] = [s for s in khmer_sentences(unicodedata.normalize("NFC", content))]
    missing = sorted(set(LANGUAGE_MIX) - set(out))
    if missing:
        raise FileNotFoundError(f"no sentences for {missing} under {mirror_root}")
    return out


# ---------------------------------------------------------------- captions

def window(sentence: Sentence, start: int, target: int) -> str:
    """Consecutive tokens of ``sentence`` from token ``start`` until ``target`` characters are
    reached (or the sentence ends), with the sentence's own spacing between them."""
    spans = sentence.spans
    a = spans[start][0]
    end = start
    while end + 1 < len(spans) and spans[end][1] - a < target:
        end += 1
    return sentence.text[a:spans[end][1]].strip()


def window_start(sentence: Sentence, rng: np.random.Generator, target: int) -> int:
    """A token to start a window at, drawn among those leaving ``target`` characters to the
    sentence's end (the first token when none does)."""
    last_ok = bisect.bisect_right([a for a, _ in sentence.spans], len(sentence.text) - target)
    return int(rng.integers(last_ok)) if last_ok > 1 else 0


def caption(sentences: list[Sentence], rng: np.random.Generator, target: int) -> str:
    """One alt-text of about ``target`` characters from real sentences of one language: a window
    of one sentence joined by an alt-text separator with a window of a second one ("Title |
    Site", "product - description"), the split point drawn; captions under
    :data:`SINGLE_BELOW` characters are one window. Pairs make the texts distinct: the number
    of window pairs is the square of the number of windows."""
    first = sentences[int(rng.integers(len(sentences)))]
    one = target < SINGLE_BELOW
    head = target if one else max(8, int(target * rng.uniform(0.3, 0.7)))
    text = window(first, window_start(first, rng, head), head)
    if one and len(text) >= 0.75 * target:
        return text
    second = sentences[int(rng.integers(len(sentences)))]
    rest = max(4, target - len(text) - 3)
    more = window(second, window_start(second, rng, rest), rest)
    return text + SEPARATORS[int(rng.integers(len(SEPARATORS)))] + more if more else text


def _url(rng: np.random.Generator, image_no: int) -> str:
    digest = hashlib.blake2b(str(image_no).encode(), digest_size=8).hexdigest()
    w, h = (int(x) for x in rng.integers(200, 2000, size=2))
    return (f"https://img{image_no % 97}.cdn-{image_no % 1009}.example-shop.com/wp-content/uploads/"
            f"{2010 + image_no % 15}/{1 + image_no % 12:02d}/{digest}-{w}x{h}.jpg")


def generate_chunk(sentences: dict[str, list[Sentence]], seed: int, chunk_no: int, start: int, n: int) -> pa.Table:
    """Rows ``start .. start + n`` of the corpus: a function of (seed, chunk_no) only."""
    rng = np.random.default_rng([seed, chunk_no])
    langs = list(LANGUAGE_MIX)
    weights = np.array([LANGUAGE_MIX[lang] for lang in langs])
    lang_idx = rng.choice(len(langs), size=n, p=weights / weights.sum())
    targets = np.clip(rng.lognormal(np.log(MEDIAN_CHARS), LENGTH_SIGMA, size=n), MIN_CHARS, MAX_CHARS).astype(int)
    kind = rng.random(n)
    texts: list[str | None] = []
    for i in range(n):
        if kind[i] < NOISE_SHARE:
            template = NOISE[int(rng.integers(len(NOISE)))]
            texts.append(template.format(n=int(rng.integers(1, 99999)), m=int(rng.integers(1, 999))))
        else:
            texts.append(caption(sentences[langs[lang_idx[i]]], rng, int(targets[i])))
    image_no = np.arange(start, start + n)
    shared = rng.random(n) < SECOND_TEXT_SHARE
    shared[0] = False
    image_no[shared] = image_no[np.flatnonzero(shared) - 1]
    urls = [_url(rng, i) for i in image_no.tolist()]
    bad = rng.random(n)
    for r in np.flatnonzero(bad < BAD_SHARE / 2):
        texts[r] = None
    for r in np.flatnonzero((bad >= BAD_SHARE / 2) & (bad < 3 * BAD_SHARE / 4)):
        texts[r] = "   "
    for r in np.flatnonzero((bad >= 3 * BAD_SHARE / 4) & (bad < BAD_SHARE)):
        urls[r] = "about:blank"
    return pa.table({"url": pa.array(urls, pa.string()), "text": pa.array(texts, pa.string())})


def _text_hashes(texts: pa.Array) -> np.ndarray:
    return np.fromiter((hash(t) for t in texts.to_pylist() if t is not None and t.strip()), np.int64)


def generate_corpus(n_rows: int, output: str, seed: int = SEED, mirror_root: str = MIRROR_ROOT) -> str:
    """Write ``n_rows`` rows as Parquet files under ``output`` (skipped when already complete);
    ``_COMPLETE`` records the sizes, the median length and the share of distinct texts."""
    marker = os.path.join(output, "_COMPLETE")
    if os.path.exists(marker):
        return output
    os.makedirs(output, exist_ok=True)
    sentences = read_sentences(mirror_root)
    hashes, lengths = [], []
    for chunk_no, start in enumerate(range(0, n_rows, FILE_ROWS)):
        n = min(FILE_ROWS, n_rows - start)
        table = generate_chunk(sentences, seed, chunk_no, start, n)
        pq.write_table(table, os.path.join(output, f"part-{chunk_no:05d}.parquet"), compression="snappy",
                       row_group_size=50_000)
        texts = table.column("text").combine_chunks()
        hashes.append(_text_hashes(texts))
        lengths.append(np.fromiter((len(t) for t in texts.to_pylist() if t), np.int32))
    all_hashes = np.concatenate(hashes)
    distinct = len(np.unique(all_hashes)) / max(1, len(all_hashes))
    all_lengths = np.concatenate(lengths)
    with open(marker, "w") as f:
        f.write(f"{n_rows} rows, seed {seed}, {len(LANGUAGE_MIX)} languages, median "
                f"{int(np.median(all_lengths))} characters (p10 {int(np.percentile(all_lengths, 10))}, "
                f"p90 {int(np.percentile(all_lengths, 90))}), distinct texts {100 * distinct:.2f} %\n")
    return output


# ---------------------------------------------------------------- metadata

WORDFREQ_WORDS = {"en": 150_000}  # others: DEFAULT_WORDS
DEFAULT_WORDS = 25_000
BIGRAMS = 10_000


def _valid(entry: str) -> bool:
    from curation.metadata.table import validate_entry

    return validate_entry(entry) is None and "\n" not in entry


def _tokens(sentence: Sentence) -> list[str]:
    return [sentence.text[a:b] for a, b in sentence.spans]


def vocabulary(lang: str, sentences: list[Sentence]) -> list[str]:
    """Real entries of ``lang``: wordfreq's most frequent words (treebank tokens where wordfreq
    has no list), then the most frequent token bigrams of the sentences; distinct, valid."""
    import wordfreq

    n_words = WORDFREQ_WORDS.get(lang, DEFAULT_WORDS)
    wf_lang = {"yue": "zh"}.get(lang, lang)
    if wf_lang in wordfreq.available_languages("best"):
        words = [w for w in wordfreq.top_n_list(wf_lang, 3 * n_words) if _valid(w)][:n_words]
    else:
        counts = Counter(t for s in sentences for t in _tokens(s) if _valid(t) and any(c.isalpha() for c in t))
        words = [w for w, _ in counts.most_common(n_words)]
    joiner = "" if lang in UNSPACED else " "
    pairs = Counter()
    for s in sentences:
        toks = _tokens(s)
        pairs.update(joiner.join(p) for p in zip(toks, toks[1:])
                     if all(any(c.isalpha() for c in t) for t in p))
    bigrams = [b for b, c in pairs.most_common(BIGRAMS) if c >= 2 and _valid(b)]
    return list(dict.fromkeys([*words, *bigrams]))


def build_metadata(output: str, mirror_root: str = MIRROR_ROOT) -> str:
    """The realistic metadata (one language per ``LANGUAGE_MIX`` label mapped to its metadata
    code) as a metadata Parquet file; skipped when it exists."""
    from curation.lid import to_metadata_lang
    from curation.metadata import metadata_from_lists, write_metadata

    if os.path.exists(output):
        return output
    sentences = read_sentences(mirror_root)
    entries: dict[str, list[str]] = {}
    for lang in sorted(LANGUAGE_MIX):
        code = to_metadata_lang(lang)
        entries[code] = list(dict.fromkeys([*entries.get(code, []), *vocabulary(lang, sentences[lang])]))
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    write_metadata(metadata_from_lists(entries, source="realistic-benchmark"), output)
    return output


# ---------------------------------------------------------------- MetaCLIP 2 size

# Letters to generate entries from, per script (a generated language gets one round-robin).
_SCRIPT_LETTERS = {
    "Latn": "abcdefghijklmnopqrstuvwxyzáéíóúäöüßçñ", "Cyrl": "абвгдеёжзийклмнопрстуфхцчшщыьэюя",
    "Arab": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي", "Deva": "कखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह",
    "Hani": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长",
    "Thai": "กขคงจฉชซญดตถทนบปผพฟมยรลวสหอฮะาิีึืุูเแโใไ", "Khmr": "កខគឃងចឆជឈញដឋឌឍណតថទធនបផពភមយរលវសហឡអាិីឹឺុូួើឿៀេែៃោៅ",
    "Hang": "가나다라마바사아자차카타파하거너더러머버서어저처고노도로모보소오조초구누두루무부수우주추",
    "Grek": "αβγδεζηθικλμνξοπρστυφχψω", "Hebr": "אבגדהוזחטיכלמנסעפצקרשת",
}
_SCRIPT_CYCLE = tuple(_SCRIPT_LETTERS)


def _generated_entries(rng: np.random.Generator, letters: str, n: int, unspaced: bool) -> list[str]:
    """``n`` distinct word-like entries: 1-3 words (35 % two, 8 % three) of log-normal length
    (median 5 letters, 2.5 for unspaced scripts), letters Zipf-distributed. Vectorised: code
    points are drawn for all words at once, decoded as one string and sliced."""
    codes = np.array([ord(c) for c in letters], dtype=np.uint32)
    p = 1.0 / np.arange(1, len(codes) + 1) ** 0.8
    p /= p.sum()
    gap = 0 if unspaced else 1
    out: dict[str, None] = {}
    while len(out) < n:
        m = int((n - len(out)) * 1.2) + 16
        n_words = 1 + (rng.random(m) < 0.35) + (rng.random(m) < 0.08)
        lengths = np.clip(rng.lognormal(np.log(2.5 if unspaced else 5), 0.45, size=int(n_words.sum())),
                          1 if unspaced else 2, 12).astype(np.int64)
        stream = codes[rng.choice(len(codes), size=int(lengths.sum() + gap * len(lengths)), p=p)]
        word_start = np.concatenate(([0], np.cumsum(lengths + gap)[:-1]))
        if gap:
            stream[word_start + lengths] = ord(" ")  # the space after every word
        text = stream.tobytes().decode("utf-32-le")
        last = np.cumsum(n_words) - 1
        first = last - n_words + 1
        ends = word_start[last] + lengths[last]
        for a, b in zip(word_start[first].tolist(), ends.tolist()):
            out.setdefault(text[a:b], None)
        if len(out) >= n:
            break
    return list(out)[:n]


def build_metaclip2_metadata(output: str, total_entries: int = 20_000_000, n_languages: int = 300,
                             seed: int = SEED, realistic: str | None = None) -> str:
    """MetaCLIP-2-size metadata: ``n_languages`` languages, ``total_entries`` entries, sizes
    by a power law over languages (English largest); the realistic metadata's entries come
    first for its languages, generated entries written in the language's script fill the
    rest. Written with pyarrow in the metadata table format (lang, entry_id, entry, source)."""
    from curation.lid_codes import LID_TO_METADATA
    from curation.metadata import read_metadata

    if os.path.exists(output):
        return output
    real = read_metadata(realistic).entries if realistic else {}
    codes = sorted(set(LID_TO_METADATA.values()) | set(real))
    codes = ["en", *[c for c in codes if c != "en"]]
    codes += [f"x{i:03d}" for i in range(n_languages - len(codes))]
    codes = codes[:n_languages]
    sizes = 1.0 / np.arange(1, n_languages + 1) ** 1.05
    sizes = np.maximum((sizes / sizes.sum() * total_entries).astype(np.int64), 1000)
    rng = np.random.default_rng(seed)
    writer = None
    scripts = {"zh": "Hani", "ja": "Hani", "ko": "Hang", "th": "Thai", "km": "Khmr", "ar": "Arab", "hi": "Deva",
               "mr": "Deva", "ru": "Cyrl", "el": "Grek", "he": "Hebr"}
    for i, code in enumerate(codes):
        script = scripts.get(code, "Latn" if code in real or i % 3 else _SCRIPT_CYCLE[i % len(_SCRIPT_CYCLE)])
        have = list(real.get(code, ()))
        extra = _generated_entries(rng, _SCRIPT_LETTERS[script], max(0, int(sizes[i]) - len(have)),
                                   script in ("Hani", "Thai", "Khmr"))
        entries = list(dict.fromkeys([*have, *extra]))
        table = pa.table({"lang": pa.array([code] * len(entries), pa.string()),
                          "entry_id": pa.array(np.arange(len(entries), dtype=np.int32)),
                          "entry": pa.array(entries, pa.string()),
                          "source": pa.array(["realistic" if j < len(have) else "generated"
                                              for j in range(len(entries))], pa.string())})
        if writer is None:
            os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
            writer = pq.ParquetWriter(output + ".tmp", table.schema, compression="zstd")
        writer.write_table(table, row_group_size=1_000_000)
    writer.close()
    os.replace(output + ".tmp", output)
    return output


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("--rows", type=int, required=True)
    c.add_argument("--output", required=True)
    c.add_argument("--seed", type=int, default=SEED)
    m = sub.add_parser("metadata")
    m.add_argument("--output", required=True)
    big = sub.add_parser("metaclip2")
    big.add_argument("--output", required=True)
    big.add_argument("--entries", type=int, default=20_000_000)
    big.add_argument("--languages", type=int, default=300)
    big.add_argument("--realistic", default=None, help="realistic metadata whose entries come first")
    for p in (c, m):
        p.add_argument("--mirror-root", default=MIRROR_ROOT)
    args = parser.parse_args(argv)
    if args.what == "corpus":
        out = generate_corpus(args.rows, args.output, args.seed, args.mirror_root)
        print(open(os.path.join(out, "_COMPLETE")).read().strip())
    elif args.what == "metadata":
        build_metadata(args.output, args.mirror_root)
    else:
        build_metaclip2_metadata(args.output, args.entries, args.languages, realistic=args.realistic)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
