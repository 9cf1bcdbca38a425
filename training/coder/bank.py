"""CODER's text bank: every text about every class, embedded once, cached as a Parquet table.

For class c (METHODS.md §2, step 1):

- ``name``: each name template with c ("a photo of {c}." plus the dataset's suffix templates);
- ``synonym``: the name templates with each WordNet synonym of c (:mod:`training.coder.synonyms`);
- ``attribute``: each attribute template with each attribute of c;
- ``analogous``: each analogous template with each look-alike X of c that survives the filter:
  X is rejected when its name prompt ("a photo of X.") has cosine > 0.9 with the name prompt of
  any *other* class (it would describe that class). Rejected look-alikes are replaced by asking
  the knowledge source again, at most ``analogous_retries`` times; the loop stops as soon as a
  round rejects nothing (the reference's stop flag was inverted) or the source has nothing new.
  Every rejection is kept in ``TextBank.rejects`` with its reason;
- ``ovo``: each ovo template with each difference of c from another class o.

Texts are embedded with the classifying model and L2-normalised. The table has one row per text
(``class``, ``class_name``, ``kind``, ``text``, ``other`` (-1 unless ovo), ``embedding``) and the
bank's facts in its schema metadata. :func:`cached_bank` keys the file by the model (a
fingerprint of its embeddings of fixed probe texts) and by everything the texts derive from
(class names, language, templates, knowledge, WordNet files, filter settings), so a different
model or bank never reuses a stale file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from training.coder.knowledge import EMPTY_KNOWLEDGE, BankTemplates, KnowledgeSource
from training.coder.rules import KIND_ANALOGOUS, KIND_ATTRIBUTE, KIND_NAME, KIND_OVO, KIND_SYNONYM
from training.coder.synonyms import wordnet_synonyms

log = logging.getLogger(__name__)
Embedder = Callable[[Sequence[str]], np.ndarray]
BANK_FORMAT = 1
METADATA_KEY = b"coder_bank"
ANALOGOUS_MAX_COSINE = 0.9
ANALOGOUS_RETRIES = 6
# Texts whose embeddings identify a model (and its tokenizer) for the cache key.
PROBE_TEXTS = ("a photo of a dog.", "a red circle on the left", "un carré bleu", "红色的圆形", "赤色の丸", "синий круг")


@dataclass(frozen=True)
class BankSpec:
    """Everything a bank's texts derive from (the model aside)."""

    classnames: tuple[str, ...]
    language: str = "en"
    templates: BankTemplates = field(default_factory=BankTemplates)
    knowledge: KnowledgeSource = EMPTY_KNOWLEDGE
    wordnet: tuple[str, ...] = ()  # WN-LMF files; empty: no synonyms
    analogous_max_cosine: float = ANALOGOUS_MAX_COSINE
    analogous_retries: int = ANALOGOUS_RETRIES

    def __post_init__(self):
        names = tuple(self.classnames)
        object.__setattr__(self, "classnames", names)
        object.__setattr__(self, "wordnet", tuple(self.wordnet))
        if not names or any(not isinstance(c, str) or not c.strip() for c in names):
            raise ValueError("class names must be non-empty strings")
        if len(set(names)) != len(names):
            raise ValueError("class names must be unique")
        if not -1.0 <= self.analogous_max_cosine <= 1.0:
            raise ValueError("analogous_max_cosine must lie in [-1, 1]")
        if self.analogous_retries < 0:
            raise ValueError("analogous_retries must be >= 0")
        if not isinstance(self.knowledge, KnowledgeSource):
            raise ValueError("knowledge must implement KnowledgeSource "
                             "(attributes, analogous, differences, fingerprint)")

    def fingerprint(self) -> str:
        """sha256 of the spec, with the WordNet files' contents and the knowledge's fingerprint."""
        doc = {"format": BANK_FORMAT, "classnames": list(self.classnames), "language": self.language,
               "templates": {k: list(getattr(self.templates, k)) for k in ("name", "attribute", "analogous", "ovo")},
               "knowledge": self.knowledge.fingerprint, "wordnet": [_file_sha256(p) for p in self.wordnet],
               "analogous": [self.analogous_max_cosine, self.analogous_retries]}
        return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class TextBank:
    """One row per text; ``embedding`` ``[M, D]`` float32, L2-normalised."""

    classnames: list[str]
    language: str
    text_class: np.ndarray  # int64 [M]
    kind: np.ndarray  # object (str) [M]
    other: np.ndarray  # int64 [M], -1 unless kind == "ovo"
    text: list[str]
    embedding: np.ndarray
    rejects: list[dict] = field(default_factory=list)
    key: str = ""

    def __len__(self) -> int:
        return len(self.text)

    def mask(self, kinds: Sequence[str]) -> np.ndarray:
        return np.isin(self.kind, list(kinds))

    def counts(self) -> dict[str, int]:
        kinds, n = np.unique(self.kind.astype(str), return_counts=True)
        return {str(k): int(c) for k, c in zip(kinds, n)}


def analogous_too_close(candidates: np.ndarray, class_names: np.ndarray, own: int,
                        max_cosine: float = ANALOGOUS_MAX_COSINE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which look-alike prompts ``[X, D]`` describe *another* class (cosine > ``max_cosine``).

    ``class_names`` ``[C, D]`` are the classes' name prompts and ``own`` the class the look-alikes
    are for (its own name never rejects them). Returns ``(reject[X], closest other class[X], its
    cosine[X])``; with one class nothing is rejected.
    """
    sims = np.asarray(candidates, np.float64) @ np.asarray(class_names, np.float64).T
    sims[:, own] = -np.inf
    closest = np.argmax(sims, axis=1) if sims.shape[1] > 1 else np.full(sims.shape[0], own)
    cos = sims[np.arange(sims.shape[0]), closest] if sims.shape[1] > 1 else np.full(sims.shape[0], -np.inf)
    return cos > max_cosine, closest, cos


def build_bank(spec: BankSpec, embed: Embedder) -> TextBank:
    """Generate, filter and embed the bank of ``spec`` with ``embed`` (texts -> normalised ``[n, D]``)."""
    names, t = spec.classnames, spec.templates
    index = {c: i for i, c in enumerate(names)}
    rows: list[tuple[int, str, str, int]] = []

    def add(c: int, kind: str, texts, other: int = -1) -> None:
        rows.extend((c, kind, x, other) for x in texts)

    synonyms = (wordnet_synonyms(names, spec.language, spec.wordnet, embed, t.name[0]) if spec.wordnet
                else [[] for _ in names])
    name_prompts = _normalise(embed([t.name[0].format(c=c) for c in names]))
    rejects: list[dict] = []
    for ci, c in enumerate(names):
        add(ci, KIND_NAME, [tp.format(c=c) for tp in t.name])
        add(ci, KIND_SYNONYM, [tp.format(c=s) for s in synonyms[ci] for tp in t.name])
        add(ci, KIND_ATTRIBUTE, [tp.format(c=c, x=a) for a in spec.knowledge.attributes(c) for tp in t.attribute])
        kept, rej = _analogous(spec, ci, embed, name_prompts)
        rejects.extend(rej)
        add(ci, KIND_ANALOGOUS, [tp.format(c=c, x=x) for x in kept for tp in t.analogous])
        for o, diffs in spec.knowledge.differences(c).items():
            if o not in index or o == c:
                raise ValueError(f"differences of {c!r}: {o!r} is not another class of the bank")
            add(ci, KIND_OVO, [tp.format(c=c, x=d, o=o) for d in diffs for tp in t.ovo], index[o])
    rows = list(dict.fromkeys(rows))  # duplicates (e.g. a synonym equal to the name text) once
    emb = _normalise(embed([r[2] for r in rows]))
    return TextBank(classnames=list(names), language=spec.language,
                    text_class=np.array([r[0] for r in rows], np.int64), kind=np.array([r[1] for r in rows], object),
                    other=np.array([r[3] for r in rows], np.int64), text=[r[2] for r in rows],
                    embedding=emb.astype(np.float32), rejects=rejects)


def _analogous(spec: BankSpec, ci: int, embed: Embedder, name_prompts: np.ndarray) -> tuple[list[str], list[dict]]:
    """Look-alikes of class ``ci`` that pass the filter, with replacements for rejected ones."""
    c, template = spec.classnames[ci], spec.templates.name[0]
    kept: list[str] = []
    rejects: list[dict] = []
    seen: set[str] = set()
    batch = spec.knowledge.analogous(c, None, ())
    for attempt in range(spec.analogous_retries + 1):
        batch = [x for x in dict.fromkeys(batch) if x not in seen]
        if not batch:
            break
        seen.update(batch)
        reject, closest, cos = analogous_too_close(_normalise(embed([template.format(c=x) for x in batch])),
                                                   name_prompts, ci, spec.analogous_max_cosine)
        for x, r, o, s in zip(batch, reject, closest, cos):
            if r:
                rejects.append({"class": c, "analogous": x, "reason": "too_close_to_other_class",
                                "other": spec.classnames[int(o)], "cosine": round(float(s), 4), "round": attempt})
            else:
                kept.append(x)
        n_rejected = int(reject.sum())
        if n_rejected == 0 or attempt == spec.analogous_retries:
            break  # stop when nothing was rejected (the reference kept asking in exactly that case)
        batch = spec.knowledge.analogous(c, n_rejected, sorted(seen))
    return kept, rejects


def bank_table(bank: TextBank) -> pa.Table:
    """The bank as a table: one row per text, bank facts in the schema metadata."""
    d = bank.embedding.shape[1]
    emb = pa.FixedSizeListArray.from_arrays(pa.array(bank.embedding.reshape(-1), pa.float32()), d)
    meta = {"format": BANK_FORMAT, "language": bank.language, "classnames": bank.classnames,
            "rejects": bank.rejects, "key": bank.key}
    table = pa.table({
        "class": pa.array(bank.text_class, pa.int32()),
        "class_name": pa.array([bank.classnames[c] for c in bank.text_class], pa.string()),
        "kind": pa.array(bank.kind.astype(str).tolist(), pa.string()),
        "text": pa.array(bank.text, pa.string()),
        "other": pa.array(bank.other, pa.int32()),
        "embedding": emb,
    })
    return table.replace_schema_metadata({METADATA_KEY: json.dumps(meta, ensure_ascii=False).encode()})


def write_bank(bank: TextBank, path: str) -> str:
    """Write the bank's Parquet file atomically (temporary file, then rename)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    pq.write_table(bank_table(bank), tmp)
    os.replace(tmp, path)
    return path


def read_bank(path: str) -> TextBank:
    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise ValueError(f"{path} is not a CODER bank (no {METADATA_KEY.decode()} metadata)")
    meta = json.loads(raw)
    if meta.get("format") != BANK_FORMAT:
        raise ValueError(f"{path}: bank format {meta.get('format')} != {BANK_FORMAT}")
    col = table.column("embedding").combine_chunks()
    d = col.type.list_size
    emb = col.flatten().to_numpy(zero_copy_only=False).astype(np.float32).reshape(-1, d)
    return TextBank(classnames=meta["classnames"], language=meta["language"],
                    text_class=table.column("class").to_numpy().astype(np.int64),
                    kind=np.array(table.column("kind").to_pylist(), object),
                    other=table.column("other").to_numpy().astype(np.int64), text=table.column("text").to_pylist(),
                    embedding=emb, rejects=meta["rejects"], key=meta["key"])


def model_fingerprint(embed: Embedder) -> str:
    """sha256 of the model's embeddings of :data:`PROBE_TEXTS`, rounded to 4 decimals."""
    probe = np.round(np.asarray(embed(list(PROBE_TEXTS)), np.float64), 4) + 0.0  # + 0.0: no negative zeros
    return hashlib.sha256(str(probe.shape).encode() + probe.tobytes()).hexdigest()


def bank_key(spec: BankSpec, embed: Embedder) -> str:
    return hashlib.sha256(f"{model_fingerprint(embed)}|{spec.fingerprint()}".encode()).hexdigest()


def cached_bank(spec: BankSpec, embed: Embedder, cache_dir: str | None) -> tuple[TextBank, str | None, bool]:
    """``(bank, path, hit)``: read the bank for (model, spec) from ``cache_dir`` or build and write it."""
    key = bank_key(spec, embed)
    path = os.path.join(cache_dir, f"coder-bank-{spec.language}-{key[:24]}.parquet") if cache_dir else None
    if path and os.path.exists(path):
        bank = read_bank(path)
        if bank.key == key:
            return bank, path, True
        log.warning("bank cache %s has key %s, expected %s: rebuilding", path, bank.key[:12], key[:12])
    bank = build_bank(spec, embed)
    bank.key = key
    if path:
        write_bank(bank, path)
    return bank, path, False


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    if x.ndim != 2:
        raise ValueError(f"the embedder must return a 2-D array, got shape {list(x.shape)}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if not np.all(np.isfinite(x)) or np.any(norms == 0):
        raise ValueError("the embedder returned a zero or non-finite embedding")
    return x / norms


def _file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


__all__ = ["BankSpec", "TextBank", "analogous_too_close", "bank_key", "bank_table", "build_bank", "cached_bank",
           "model_fingerprint", "read_bank", "write_bank"]
