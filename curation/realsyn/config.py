"""RealSyn job configuration: one dataclass and one argparse parser, validated before any work.

Defaults are the paper's rules and sizes scaled for a laptop; the paper-scale settings are
in ``docs/realsyn.md`` (2M sentence clusters, 1M image clusters, t = 20 / 35 / 180).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass, field, fields

from curation.layout import REALSYN_STAGE_TABLES
from curation.pipeline.config import ConfigError, add_spark_flags, parse_spark_conf
from curation.realsyn import rules
from curation.realsyn.minhash import BANDS, NUM_PERM, SHINGLE
from curation.spark.tables import FORMATS

INPUT_FORMATS = ("auto", "parquet", "delta", "jsonl")
STAGES = tuple(REALSYN_STAGE_TABLES)  # extract, sentences, embed, images, pairs
# Paper ratios: 0.84B sentences / 2M clusters ~ 420 per cluster; 168.3M images / 1M clusters ~ 168.
SENTENCES_PER_CLUSTER = 420
IMAGES_PER_CLUSTER = 168


@dataclass
class RealSynConfig:
    documents: str = ""                 # interleaved documents (OBELICS layout)
    images: str = ""                    # downloaded images: a table with uid + image bytes
    output: str = ""
    clip_model: str = ""                # exported model dir, or open_clip:<arch>@<weights file>
    format: str = "parquet"
    input_format: str = "auto"
    doc_id_column: str | None = None
    image_column: str = "jpg"
    images_format: str = "auto"
    # filters (SPEC §6.1)
    min_side: int = rules.MIN_SIDE
    max_aspect: float = rules.MAX_ASPECT
    min_words: int = rules.MIN_WORDS
    max_words: int = rules.MAX_WORDS
    min_entropy: float = rules.MIN_ENTROPY
    perplexity_model: str | None = None  # kenlm:PATH / hf:PATH / a local path; none -> step skipped
    perplexity_languages: tuple[str, ...] = ()  # lid labels scored; empty = all
    ppl_min: float = rules.PPL_MIN
    ppl_max: float = rules.PPL_MAX
    # near duplicates
    near_dup_jaccard: float = 0.8
    minhash_perm: int = NUM_PERM
    minhash_bands: int = BANDS
    shingle: int = SHINGLE
    image_dup_cosine: float = 0.95
    dedup_probe: int = 2
    perceptual_dedup: bool = True
    # clustering and retrieval
    sentence_clusters: int = 0          # 0: n_sentences / 420 (paper: 2M)
    image_clusters: int = 0             # 0: n_images / 168 (paper: 1M)
    kmeans_sample: int = 100_000
    kmeans_iter: int = 20
    k: int = 3
    # synthetic caption
    synthetic_captions: str | None = None  # table with uid + synthetic text; none -> no syn_text
    synthetic_column: str = "syn_text"
    syn_low: float = rules.SYN_BAND[0]
    syn_high: float = rules.SYN_BAND[1]
    # balancing
    target_pairs: int | None = None     # t chosen so that about this many pairs remain
    cap: int | None = None              # or t given directly (paper: 20 / 35 / 180)
    carry_images: bool = False          # copy the image bytes into realsyn_pairs
    # run
    seed: int = 0
    device: str = "auto"
    embed_batch_size: int = 32
    output_partitions: int = 0          # 0: from the documents' size
    start_at: str = "extract"
    stop_after: str = "pairs"
    master: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)
    log_level: str | None = None  # Spark's and py4j's (None: $WWCLIP_SPARK_LOG_LEVEL or WARN)

    def validate(self) -> "RealSynConfig":
        for name in ("documents", "images", "output", "clip_model"):
            if name in ("images", "clip_model") and self.stop_after == "extract":
                continue
            if not getattr(self, name):
                raise ConfigError(f"--{name.replace('_', '-')} is required")
        if self.format not in FORMATS:
            raise ConfigError(f"--format must be one of {FORMATS}, got {self.format!r}")
        if self.input_format not in INPUT_FORMATS or self.images_format not in INPUT_FORMATS:
            raise ConfigError(f"--input-format / --images-format must be one of {INPUT_FORMATS}")
        if self.start_at not in STAGES or self.stop_after not in STAGES:
            raise ConfigError(f"--start-at / --stop-after must be one of {STAGES}")
        if STAGES.index(self.stop_after) < STAGES.index(self.start_at):
            raise ConfigError("--stop-after comes before --start-at")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"--device must be auto, cpu or cuda[:N], got {self.device!r}")
        if self.clip_model and not self.clip_model.startswith("open_clip:") and "://" not in self.clip_model \
                and not os.path.isdir(self.clip_model):
            raise ConfigError(f"--clip-model {self.clip_model!r} is not a local model directory nor "
                              "open_clip:<architecture>@<weights file>")
        positive = {"min_side": self.min_side, "max_aspect": self.max_aspect, "min_words": self.min_words,
                    "max_words": self.max_words, "minhash_perm": self.minhash_perm,
                    "minhash_bands": self.minhash_bands, "shingle": self.shingle, "dedup_probe": self.dedup_probe,
                    "kmeans_sample": self.kmeans_sample, "kmeans_iter": self.kmeans_iter, "k": self.k,
                    "embed_batch_size": self.embed_batch_size}
        for name, value in positive.items():
            if value <= 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be positive, got {value}")
        if self.max_words < self.min_words:
            raise ConfigError("--max-words must be >= --min-words")
        if self.minhash_perm % self.minhash_bands:
            raise ConfigError("--minhash-perm must be a multiple of --minhash-bands")
        if not 0.0 < self.near_dup_jaccard <= 1.0:
            raise ConfigError("--near-dup-jaccard must be in (0, 1]")
        if not -1.0 <= self.image_dup_cosine <= 1.0:
            raise ConfigError("--image-dup-cosine must be in [-1, 1]")
        if self.ppl_min > self.ppl_max or self.syn_low > self.syn_high:
            raise ConfigError("band limits must satisfy low <= high")
        if self.sentence_clusters < 0 or self.image_clusters < 0 or self.output_partitions < 0:
            raise ConfigError("cluster and partition counts must be >= 0 (0 = automatic)")
        if self.target_pairs is not None and self.cap is not None:
            raise ConfigError("give --target-pairs or --cap, not both")
        if (self.target_pairs is not None and self.target_pairs < 1) or (self.cap is not None and self.cap < 1):
            raise ConfigError("--target-pairs and --cap must be >= 1")
        if self.seed < 0:
            raise ConfigError("--seed must be >= 0")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def build_parser(prog: str = "wwclip-realsyn") -> argparse.ArgumentParser:
    d = RealSynConfig()
    ap = argparse.ArgumentParser(prog=prog, description="RealSyn: interleaved documents -> image-text pairs "
                                 "with several real sentences per image (see docs/realsyn.md)")
    io = ap.add_argument_group("input and output")
    io.add_argument("--documents", required=True, help="documents in OBELICS layout (Parquet/Delta dir or JSONL)")
    io.add_argument("--input-format", choices=INPUT_FORMATS, default=d.input_format)
    io.add_argument("--doc-id-column", default=None, help="column holding a document id (default: content hash)")
    io.add_argument("--images", default="", help="downloaded images: table with uid + image bytes "
                    "(the download stage's output)")
    io.add_argument("--images-format", choices=INPUT_FORMATS, default=d.images_format)
    io.add_argument("--image-column", default=d.image_column, help="image bytes column [%(default)s]")
    io.add_argument("--output", required=True, help="output root (local path or URI)")
    io.add_argument("--format", choices=FORMATS, default=d.format, help="table format [%(default)s]")
    io.add_argument("--output-partitions", type=int, default=d.output_partitions,
                    help="files per table (0: from the documents' size)")
    io.add_argument("--carry-images", action="store_true", help="copy image bytes into realsyn_pairs")
    f = ap.add_argument_group("filters (SPEC §6.1)")
    f.add_argument("--min-side", type=int, default=d.min_side)
    f.add_argument("--max-aspect", type=float, default=d.max_aspect)
    f.add_argument("--min-words", type=int, default=d.min_words)
    f.add_argument("--max-words", type=int, default=d.max_words)
    f.add_argument("--min-entropy", type=float, default=d.min_entropy)
    f.add_argument("--perplexity-model", default=None,
                   help="kenlm:PATH, hf:PATH or a local path (file: KenLM, dir: transformers causal LM); "
                   "omitted: the perplexity step is skipped and recorded as skipped")
    f.add_argument("--perplexity-languages", default="",
                   help="comma-separated lid labels to score (e.g. 'en' for GPT-2); default all")
    f.add_argument("--ppl-min", type=float, default=d.ppl_min)
    f.add_argument("--ppl-max", type=float, default=d.ppl_max)
    f.add_argument("--near-dup-jaccard", type=float, default=d.near_dup_jaccard)
    f.add_argument("--minhash-perm", type=int, default=d.minhash_perm)
    f.add_argument("--minhash-bands", type=int, default=d.minhash_bands)
    f.add_argument("--shingle", type=int, default=d.shingle)
    f.add_argument("--image-dup-cosine", type=float, default=d.image_dup_cosine)
    f.add_argument("--dedup-probe", type=int, default=d.dedup_probe,
                   help="image clusters searched per image for near duplicates")
    f.add_argument("--no-perceptual-dedup", dest="perceptual_dedup", action="store_false")
    m = ap.add_argument_group("embeddings, clusters, retrieval")
    m.add_argument("--clip-model", default="",
                   help="exported open_clip model dir, or open_clip:<architecture>@<local weights file>")
    m.add_argument("--device", default=d.device, help="auto, cpu, cuda [%(default)s]")
    m.add_argument("--embed-batch-size", type=int, default=d.embed_batch_size)
    m.add_argument("--sentence-clusters", type=int, default=d.sentence_clusters,
                   help=f"k-means clusters of sentences (0: n/{SENTENCES_PER_CLUSTER}; paper: 2000000)")
    m.add_argument("--image-clusters", type=int, default=d.image_clusters,
                   help=f"k-means clusters of images (0: n/{IMAGES_PER_CLUSTER}; paper: 1000000)")
    m.add_argument("--kmeans-sample", type=int, default=d.kmeans_sample)
    m.add_argument("--kmeans-iter", type=int, default=d.kmeans_iter)
    m.add_argument("--k", type=int, default=d.k, help="real sentences per image [%(default)s]")
    s = ap.add_argument_group("synthetic caption and balancing")
    s.add_argument("--synthetic-captions", default=None, help="table with uid + synthetic caption (optional)")
    s.add_argument("--synthetic-column", default=d.synthetic_column)
    s.add_argument("--syn-low", type=float, default=d.syn_low)
    s.add_argument("--syn-high", type=float, default=d.syn_high)
    s.add_argument("--target-pairs", type=int, default=None, help="choose t so about this many pairs remain")
    s.add_argument("--cap", type=int, default=None, help="t directly (paper: 20 / 35 / 180 for 15M / 30M / 100M)")
    r = ap.add_argument_group("run")
    r.add_argument("--seed", type=int, default=d.seed)
    r.add_argument("--start-at", choices=STAGES, default=d.start_at,
                   help="re-run from this stage, reading the earlier stages' tables")
    r.add_argument("--stop-after", choices=STAGES, default=d.stop_after,
                   help="stop after this stage (e.g. 'extract', then download realsyn_image_refs' URLs)")
    add_spark_flags(r, summary=False)
    return ap


def config_from_args(args: argparse.Namespace) -> RealSynConfig:
    names = {f.name for f in fields(RealSynConfig)}
    values = {k: v for k, v in vars(args).items() if k in names}
    values["spark_conf"] = parse_spark_conf(args.conf)
    values["perplexity_languages"] = tuple(x.strip() for x in args.perplexity_languages.split(",") if x.strip())
    return RealSynConfig(**values).validate()
