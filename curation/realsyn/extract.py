"""Extraction (paper §3.1): documents -> rejected documents/elements, image references, sentences.

``extract_batch`` is the whole per-document logic on one Arrow batch (testable without Spark);
``extract`` runs it with ``mapInArrow`` and splits its one output stream into three
DataFrames. Per text element: each line is cleaned (``rules.clean_sentence``: URLs and emoji
out, so the dots of a URL never split a sentence), split (``text.split_sentences``), and each
sentence gets its lid.176 label (``curation.lid.detect``, one call per batch), its word count
(``text.words``, segmenters for no-space scripts) and its length reason
(``rules.word_count_reason``). Image references get ``rules.image_reject_reason`` when the
document metadata gives their size (otherwise the size is checked on the downloaded image).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from curation.lid import detect
from curation.realsyn import documents as docs
from curation.realsyn import rules
from curation.realsyn.text import split_sentences, words

KIND_REJECT, KIND_IMAGE, KIND_SENTENCE = "reject", "image", "sentence"

SCHEMA = pa.schema([
    ("kind", pa.string()), ("doc_id", pa.string()), ("position", pa.int32()), ("sent_index", pa.int32()),
    ("reason", pa.string()), ("detail", pa.string()),
    ("uid", pa.string()), ("url", pa.string()), ("width", pa.int32()), ("height", pa.int32()),
    ("text", pa.string()), ("lang", pa.string()), ("lang_score", pa.float32()), ("n_words", pa.int32()),
    ("texts", pa.list_(pa.string())), ("images", pa.list_(pa.string())),
    ("metadata", pa.string()), ("general_metadata", pa.string()),
])
INPUT_COLUMNS = ("doc_id", "texts", "images", "metadata", "general_metadata", "duplicate")

REJECT_COLUMNS = ("doc_id", "position", "reason", "detail", "texts", "images", "metadata", "general_metadata")
IMAGE_COLUMNS = ("doc_id", "position", "uid", "url", "width", "height", "reason")
SENTENCE_COLUMNS = ("doc_id", "position", "sent_index", "text", "lang", "lang_score", "n_words", "reason")


@dataclass(frozen=True)
class ExtractParams:
    min_side: int = rules.MIN_SIDE
    max_aspect: float = rules.MAX_ASPECT
    min_words: int = rules.MIN_WORDS
    max_words: int = rules.MAX_WORDS


def document_sentences(text: str) -> list[str]:
    """Cleaned sentences of one text element, in order (empty ones dropped)."""
    out = []
    for line in text.splitlines():
        for sentence in split_sentences(rules.clean_sentence(line)):
            sentence = rules.clean_sentence(sentence)
            if sentence:
                out.append(sentence)
    return out


def extract_batch(table: pa.Table | pa.RecordBatch, params: ExtractParams) -> pa.Table:
    """One output row per rejected document, rejected element, image reference and sentence."""
    cols = {name: table.column(name).to_pylist() for name in INPUT_COLUMNS}
    rows: dict[str, list] = {f.name: [] for f in SCHEMA}

    def add(**values):
        for name in rows:
            rows[name].append(values.get(name))

    sentence_rows: list[int] = []
    for doc_id, texts, images, meta, general, duplicate in zip(*(cols[c] for c in INPUT_COLUMNS)):
        raw = {"texts": texts, "images": images, "metadata": meta, "general_metadata": general}
        reason = docs.DUPLICATE_DOCUMENT if duplicate else docs.document_reject_reason(texts, images, meta, general)
        if reason is not None:
            add(kind=KIND_REJECT, doc_id=doc_id, reason=reason, **raw)
            continue
        image_refs, text_refs, element_rejects = docs.document_elements(texts, images, meta)
        for rej in element_rejects:
            add(kind=KIND_REJECT, doc_id=doc_id, position=rej.position, reason=rej.reason, detail=rej.detail)
        for ref in image_refs:
            size_reason = None
            if ref.width is not None and ref.height is not None:
                size_reason = rules.image_reject_reason(ref.width, ref.height, params.min_side, params.max_aspect)
            add(kind=KIND_IMAGE, doc_id=doc_id, position=ref.position, uid=ref.uid, url=ref.url, width=ref.width,
                height=ref.height, reason=size_reason)
        for ref in text_refs:
            for i, sentence in enumerate(document_sentences(ref.text)):
                sentence_rows.append(len(rows["kind"]))
                add(kind=KIND_SENTENCE, doc_id=doc_id, position=ref.position, sent_index=i, text=sentence)
    if sentence_rows:
        labels, scores = detect([rows["text"][r] for r in sentence_rows])
        for r, label, score in zip(sentence_rows, labels, scores.tolist()):
            n = len(words(rows["text"][r], label))
            rows["lang"][r], rows["lang_score"][r], rows["n_words"][r] = label, score, n
            rows["reason"][r] = rules.word_count_reason(n, params.min_words, params.max_words)
    return pa.Table.from_pydict(rows, schema=SCHEMA)


def _mapper(params: ExtractParams):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from extract_batch(batch, params).to_batches()
    return run


def spark_schema() -> str:
    return ("kind string, doc_id string, position int, sent_index int, reason string, detail string, uid string, "
            "url string, width int, height int, text string, lang string, lang_score float, n_words int, "
            "texts array<string>, images array<string>, metadata string, general_metadata string")


def mark_duplicate_documents(documents):
    """Add ``duplicate``: True for all but one row of each ``doc_id`` (the one with the smallest
    content hash, so the choice does not depend on partitioning)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    w = Window.partitionBy("doc_id").orderBy("content_id")
    return documents.withColumn("duplicate", F.row_number().over(w) > 1).drop("content_id")


def extract(documents, params: ExtractParams):
    """``documents(doc_id, content_id, texts, images, metadata, general_metadata)`` ->
    ``(rejects, image_refs, sentence_refs)`` DataFrames (one persisted pass)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    docs_in = mark_duplicate_documents(documents).select(*INPUT_COLUMNS)
    out = docs_in.mapInArrow(_mapper(params), spark_schema()).persist(StorageLevel.MEMORY_AND_DISK)
    rejects = out.where(F.col("kind") == KIND_REJECT).select(*REJECT_COLUMNS)
    images = out.where(F.col("kind") == KIND_IMAGE).select(*IMAGE_COLUMNS)
    sentences = out.where(F.col("kind") == KIND_SENTENCE).select(*SENTENCE_COLUMNS)
    return out, rejects, images, sentences
