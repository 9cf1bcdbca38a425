"""Embedded default alt-text sample: a deterministic, offline, multilingual stand-in for web data.

``generate_alt_texts()`` writes realistic web alt-texts (product photos, travel, food, animals,
people; short and long; stock-photo and shop style) from hand-written per-language vocabularies
and caption templates, combined with a seeded ``random.Random`` -- no global RNG, no ``hash()``
of strings, so the same seed gives the same table in every process and Python run.

The mix mimics web data: English is about 40 % of the rows, then a long tail (de, fr, es, ja, zh
and ru bigger, the others smaller). About 13 % of the images carry several alt-texts (same URL,
2--3 captions, sometimes in different languages). About 2.7 % of the rows are deliberately bad,
one defect per row (see ``BAD_ROW_KINDS`` and ``row_kind``): null, empty, whitespace-only and
over-long texts, malformed URLs, captions with no words at all (file names, consonant noise),
captions in languages outside the main list, and texts with U+FFFD mojibake.

Columns: ``url``, ``text`` (nullable) and ``source_lang``: the language the generator *intended*
(``zxx`` for texts with no linguistic content, null for null texts). ``source_lang`` is for tests
and diagnostics only; the pipeline carries it through as an extra column.

The words, templates, captions and URL parts are data: ``curation/samples/vocabulary.json``;
this module holds only the generator. The default sample is committed as
``curation/samples/default_alt_texts.jsonl.gz`` (gzip JSON Lines, mtime 0);
``python -m curation.demo_data`` regenerates it byte-for-byte.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import io
import json
import random
import re
from importlib import resources

import pyarrow as pa

from curation import localfs
from curation.samples import VOCABULARY_FILE, default_alt_texts_path

DEFAULT_N_IMAGES = 3000
DEFAULT_SEED = 0

SCHEMA = pa.schema([
    pa.field("url", pa.string()),
    pa.field("text", pa.string()),
    pa.field("source_lang", pa.string()),
])

# Share of primary captions per language (normalised); English ~40 %, then a web-like tail.
LANGUAGE_WEIGHTS: dict[str, float] = {
    "en": 40.0, "de": 8.0, "fr": 7.0, "es": 7.0, "ja": 6.0, "zh": 5.5, "ru": 5.0,
    "pt": 3.5, "it": 3.0, "nl": 2.0, "pl": 2.0, "ko": 2.0, "tr": 1.5, "vi": 1.5,
    "id": 1.5, "ar": 1.5, "hi": 1.0, "th": 1.0,
}
MAIN_LANGUAGES: tuple[str, ...] = tuple(LANGUAGE_WEIGHTS)
NO_LANGUAGE = "zxx"  # ISO 639-2 "no linguistic content"

CATEGORY_WEIGHTS: dict[str, float] = {
    "product": 30.0, "travel": 20.0, "people": 20.0, "animal": 15.0, "food": 15.0,
}

MULTI_TEXT_IMAGE_FRACTION = 0.13   # images with 2-3 alt-texts
THREE_TEXTS_FRACTION = 0.3         # of those, share with 3 texts
SAME_LANGUAGE_EXTRA = 0.6          # an extra caption keeps the image's language, else switches
TOO_LONG_CHARS = 5000
IMAGES_PER_BAD_ROW = 375           # per kind: 3000 images -> 8 rows of each kind

BAD_ROW_KINDS: tuple[str, ...] = (
    "null_text", "empty_text", "whitespace_text", "too_long",
    "null_url", "empty_url", "javascript_url", "url_with_space", "url_no_scheme",
    "replacement_char", "no_language", "foreign_language",
)
GOOD = "good"

# ---------------------------------------------------------------------------------------------
# Vocabularies: curation/samples/vocabulary.json (data, not code). ``languages`` maps a language
# to its word lists and caption templates. Nouns are "word|gender" (m, f, n; Dutch: m = de-word,
# n = het-word) where adjectives agree; adjectives are "m|f|n" forms (one form = invariant).
# ``np_order`` says whether the adjective precedes or follows the noun; ``np_sep`` joins them
# ("" for CJK/Thai). Placeholders in templates: {np_animal} {np_thing} {animal} {thing} {scene}
# {city} {people} {food} {time}. ``foreign_captions`` (languages outside MAIN_LANGUAGES) and
# ``mojibake_captions`` (U+FFFD where bytes were decoded with the wrong codec upstream) feed the
# bad rows; ``generic_domains``, ``local_domains`` and ``url_paths`` the URLs.
# ---------------------------------------------------------------------------------------------

VOCABULARY_KEYS = ("languages", "foreign_captions", "mojibake_captions", "file_name_patterns",
                   "generic_domains", "local_domains", "url_paths")
_WHITESPACE_TEXTS = [" ", "   ", "\t", "\n", " \n\t ", "\u3000", "\u00a0", "\r\n"]
_CONSONANTS = "bcdfghjklmnpqrstvwxz"
_EXTENSIONS = [("jpg", 70), ("jpeg", 8), ("png", 12), ("webp", 10)]


@functools.cache
def vocabulary() -> dict:
    """The vocabularies and caption templates of ``vocabulary.json``, read once per process.

    Raises ValueError when the file lacks a section or a language of ``MAIN_LANGUAGES``."""
    data = json.loads(resources.files("curation.samples").joinpath(VOCABULARY_FILE).read_text(encoding="utf-8"))
    missing = [k for k in VOCABULARY_KEYS if k not in data]
    missing += [f"languages.{lang}" for lang in MAIN_LANGUAGES if lang not in data.get("languages", {})]
    if missing:
        raise ValueError(f"{VOCABULARY_FILE}: missing {missing}")
    return data


def _vocab(key: str):
    return vocabulary()[key]


_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_GENDER_INDEX = {"": 0, "m": 0, "f": 1, "n": 2}


def _weighted(rng: random.Random, items: list[tuple[str, float]]) -> str:
    total = sum(w for _, w in items)
    x = rng.random() * total
    for item, w in items:
        x -= w
        if x < 0:
            return item
    return items[-1][0]


def _noun_phrase(lang: str, kind: str, rng: random.Random) -> str:
    data = _vocab("languages")[lang]
    noun, _, gender = rng.choice(data[kind]).partition("|")
    if rng.random() >= 0.85:
        return noun
    forms = rng.choice(data["adj_" + kind]).split("|")
    adj = forms[min(_GENDER_INDEX[gender], len(forms) - 1)]
    style = data.get("adj_style_" + kind)
    if style and rng.random() < 0.3:
        adj = rng.choice(style) + " " + adj
    sep = data.get("np_sep", " ")
    return adj + sep + noun if data["np_order"] == "pre" else noun + sep + adj


def _slot(lang: str, name: str, rng: random.Random) -> str:
    if name == "np_animal":
        return _noun_phrase(lang, "animals", rng)
    if name == "np_thing":
        return _noun_phrase(lang, "things", rng)
    plural = {"animal": "animals", "thing": "things", "scene": "scenes", "city": "cities",
              "food": "foods", "time": "times", "people": "people"}[name]
    return rng.choice(_vocab("languages")[lang][plural]).partition("|")[0]


_EN_ARTICLE = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")


def _finish(lang: str, text: str, rng: random.Random) -> str:
    text = re.sub(r" {2,}", " ", text).strip()
    if lang == "en":
        text = _EN_ARTICLE.sub(lambda m: m.group(1) + "n ", text)
    if text and rng.random() < 0.9:  # some web alt-texts are not capitalised
        first = text[0]
        if lang == "tr" and first == "i":
            first = "İ"
        text = first.upper() + text[1:]
    return text


def make_caption(lang: str, category: str, rng: random.Random) -> str:
    """One alt-text in ``lang`` about ``category`` (product, travel, people, animal, food)."""
    data = _vocab("languages")[lang]
    template = rng.choice(data["templates"][category])
    text = _PLACEHOLDER.sub(lambda m: _slot(lang, m.group(1), rng), template)
    if data.get("suffixes") and rng.random() < 0.1:
        text += rng.choice(data["suffixes"])
    return _finish(lang, text, rng)


def _make_url(lang: str, rng: random.Random, seen: set[str]) -> str:
    while True:
        local = _vocab("local_domains").get(lang)
        domain = rng.choice(local) if local and rng.random() < 0.6 else rng.choice(_vocab("generic_domains"))
        path = rng.choice(_vocab("url_paths")).format(
            year=rng.randrange(2012, 2025), month=f"{rng.randrange(1, 13):02d}",
            h=f"{rng.randrange(16):x}", h2=f"{rng.randrange(16):x}")
        bits = rng.choice((48, 64, 64, 128))
        name = f"{rng.getrandbits(bits):0{bits // 4}x}"
        ext = _weighted(rng, [(e, float(w)) for e, w in _EXTENSIONS])
        url = f"https://{domain}/{path}/{name}.{ext}"
        r = rng.random()
        if r < 0.05:
            url += f"?w={rng.choice((400, 640, 800, 1200))}"
        elif r < 0.08:
            url += f"?v={rng.randrange(1_000_000_000, 1_700_000_000)}"
        if url not in seen:
            seen.add(url)
            return url


def _language_choices() -> list[tuple[str, float]]:
    return list(LANGUAGE_WEIGHTS.items())


def _bad_url(kind: str, rng: random.Random, seen: set[str]) -> str | None:
    good = _make_url("en", rng, seen)
    rest = good[len("https://"):]
    if kind == "null_url":
        return None
    if kind == "empty_url":
        return ""
    if kind == "javascript_url":
        return rng.choice(["javascript:void(0)", "javascript:void(0);",
                           f"javascript:openGallery({rng.randrange(1, 20)})",
                           "javascript:;"])
    if kind == "url_with_space":
        domain, _, path = rest.partition("/")
        head, _, tail = path.rpartition("/")
        stem, _, ext = tail.rpartition(".")
        name = rng.choice([f"my photo {rng.randrange(1, 99)}", f"{stem} (1)",
                           f"Screenshot {rng.randrange(1, 30)}", f"holiday pic {stem[:6]}"])
        return f"https://{domain}/{head}/{name}.{ext}"
    if kind == "url_no_scheme":
        domain, _, path = rest.partition("/")
        return rng.choice([f"www.{domain}/{path}", f"//{domain}/{path}", f"/{path}",
                           f"{domain}/{path}", f"images/{path.rpartition('/')[2]}"])
    raise ValueError(kind)


def _no_language_text(rng: random.Random) -> str:
    if rng.random() < 0.5:
        pattern = rng.choice(_vocab("file_name_patterns"))
        return pattern.format(n4=f"{rng.randrange(10_000):04d}", n5=f"{rng.randrange(100_000):05d}",
                              hex6=f"{rng.getrandbits(24):06x}")
    words = ["".join(rng.choice(_CONSONANTS) for _ in range(rng.randrange(5, 10)))
             for _ in range(rng.randrange(2, 5))]
    return " ".join(words)


def _bad_row(kind: str, rng: random.Random, seen: set[str],
             image_urls: list[str]) -> tuple[str | None, str | None, str | None]:
    """(url, text, source_lang) of one row with exactly one defect of ``kind``."""
    lang = _weighted(rng, _language_choices())
    category = _weighted(rng, list(CATEGORY_WEIGHTS.items()))

    def url_for_text_defect() -> str:
        # half of the text defects sit on an image that also has good alt-texts
        if image_urls and rng.random() < 0.5:
            return rng.choice(image_urls)
        return _make_url(lang, rng, seen)

    if kind == "null_text":
        return url_for_text_defect(), None, None
    if kind == "empty_text":
        return url_for_text_defect(), "", NO_LANGUAGE
    if kind == "whitespace_text":
        return url_for_text_defect(), rng.choice(_WHITESPACE_TEXTS), NO_LANGUAGE
    if kind == "too_long":
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) <= TOO_LONG_CHARS:  # keyword-stuffed SEO alt-text
            parts.append(make_caption(lang, category, rng))
        return _make_url(lang, rng, seen), " ".join(parts), lang
    if kind in ("null_url", "empty_url", "javascript_url", "url_with_space", "url_no_scheme"):
        return _bad_url(kind, rng, seen), make_caption(lang, category, rng), lang
    if kind == "replacement_char":
        mlang, text = rng.choice(_vocab("mojibake_captions"))
        return _make_url(mlang, rng, seen), text, mlang
    if kind == "no_language":
        return _make_url(lang, rng, seen), _no_language_text(rng), NO_LANGUAGE
    if kind == "foreign_language":
        foreign = _vocab("foreign_captions")
        flang = rng.choice(sorted(foreign))
        return _make_url("en", rng, seen), rng.choice(foreign[flang]), flang
    raise ValueError(kind)


def bad_rows_per_kind(n_images: int) -> int:
    """How many rows of each bad kind ``generate_alt_texts(n_images)`` inserts."""
    return max(1, round(n_images / IMAGES_PER_BAD_ROW)) if n_images > 0 else 0


def generate_alt_texts(n_images: int = DEFAULT_N_IMAGES, seed: int = DEFAULT_SEED) -> pa.Table:
    """A deterministic multilingual alt-text table (columns url, text, source_lang).

    ``n_images`` good images (about 13 % with 2--3 texts), plus ``bad_rows_per_kind(n_images)``
    rows of every kind in ``BAD_ROW_KINDS``, in a seeded shuffled order.
    """
    rng = random.Random(seed)
    langs = _language_choices()
    others = [(lang, w) for lang, w in langs if lang != "en"]
    seen: set[str] = set()
    rows: list[tuple[str | None, str | None, str | None]] = []
    image_urls: list[str] = []
    for _ in range(max(0, n_images)):
        lang = _weighted(rng, langs)
        category = _weighted(rng, list(CATEGORY_WEIGHTS.items()))
        url = _make_url(lang, rng, seen)
        image_urls.append(url)
        rows.append((url, make_caption(lang, category, rng), lang))
        if rng.random() < MULTI_TEXT_IMAGE_FRACTION:
            n_extra = 2 if rng.random() < THREE_TEXTS_FRACTION else 1
            texts = {rows[-1][1]}
            for _ in range(n_extra):
                if rng.random() < SAME_LANGUAGE_EXTRA:
                    extra_lang = lang
                elif lang != "en" and rng.random() < 0.7:
                    extra_lang = "en"
                else:
                    extra_lang = _weighted(rng, others if lang == "en" else langs)
                for _attempt in range(5):  # a different caption, not a repeat of this image's
                    text = make_caption(extra_lang, category, rng)
                    if text not in texts:
                        break
                texts.add(text)
                rows.append((url, text, extra_lang))
    rng.shuffle(rows)
    per_kind = bad_rows_per_kind(n_images)
    for kind in BAD_ROW_KINDS:
        for _ in range(per_kind):
            row = _bad_row(kind, rng, seen, image_urls)
            rows.insert(rng.randrange(len(rows) + 1), row)
    return pa.Table.from_pydict(
        {"url": [r[0] for r in rows], "text": [r[1] for r in rows],
         "source_lang": [r[2] for r in rows]},
        schema=SCHEMA)


def row_kind(url: str | None, text: str | None, source_lang: str | None) -> str:
    """Which ``BAD_ROW_KINDS`` entry a generated row is, or ``"good"`` (diagnostics, tests)."""
    if text is None:
        return "null_text"
    if text == "":
        return "empty_text"
    if not text.strip():
        return "whitespace_text"
    if len(text) > TOO_LONG_CHARS:
        return "too_long"
    if url is None:
        return "null_url"
    if url == "":
        return "empty_url"
    if url.lower().startswith("javascript:"):
        return "javascript_url"
    if any(c.isspace() for c in url):
        return "url_with_space"
    if not url.startswith(("http://", "https://")):
        return "url_no_scheme"
    if "\ufffd" in text:
        return "replacement_char"
    if source_lang == NO_LANGUAGE:
        return "no_language"
    if source_lang not in LANGUAGE_WEIGHTS:
        return "foreign_language"
    return GOOD


# ---------------------------------------------------------------------------------------------
# The committed default file
# ---------------------------------------------------------------------------------------------

def alt_texts_jsonl_bytes(table: pa.Table) -> bytes:
    """Gzip JSON Lines bytes of ``table`` (keys url, text, source_lang; mtime 0: reproducible)."""
    lines = []
    for url, text, lang in zip(table.column("url").to_pylist(), table.column("text").to_pylist(),
                               table.column("source_lang").to_pylist(), strict=True):
        lines.append(json.dumps({"url": url, "text": text, "source_lang": lang},
                                ensure_ascii=False, separators=(",", ":")))
    payload = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    return buffer.getvalue()


def read_alt_texts_jsonl(path: str | None = None) -> pa.Table:
    """Read a (gzip) JSON Lines alt-text file; default: the embedded sample."""
    path = path or default_alt_texts_path()
    opener = gzip.open if path.endswith(".gz") else open
    columns: dict[str, list] = {"url": [], "text": [], "source_lang": []}
    with opener(path, "rt", encoding="utf-8", newline="\n") as f:
        for line in f:
            if not line.strip():
                continue
            obj = json.loads(line)
            for key, values in columns.items():
                values.append(obj.get(key))
    return pa.Table.from_pydict(columns, schema=SCHEMA)


def write_default_alt_texts(path: str | None = None) -> str:
    """Write ``generate_alt_texts()`` (defaults) as gzip JSON Lines, atomically; returns the path."""
    return localfs.write_bytes(path or default_alt_texts_path(), alt_texts_jsonl_bytes(generate_alt_texts()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m curation.demo_data",
                                     description="Regenerate the embedded default alt-text sample.")
    parser.add_argument("--output", default=None, help="default: the packaged file")
    args = parser.parse_args(argv)
    path = write_default_alt_texts(args.output)
    table = read_alt_texts_jsonl(path)
    print(f"wrote {path}: {table.num_rows} rows")
