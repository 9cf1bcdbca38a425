"""Curation job configuration: one dataclass, one argparse parser, validated before any work.

Defaults run on a laptop (embedded input and metadata, ``--t-en auto``); paper scale values
are documented next to each flag (MetaCLIP 2: ``--t-en 170000``).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
from dataclasses import asdict, dataclass, field, fields

from curation.lid import LID_MODES
from curation.matching_extended import MATCHING_MODES
from curation.spark.tables import FORMATS
from curation.validation import DEFAULT_MAX_TEXT_CHARS

INPUT_FORMATS = ("auto", "parquet", "delta", "jsonl", "csv", "tsv")
# Stages that read the alt-text input; the others read only tables under --output.
INPUT_STAGES = ("curate", "lid")
BATCH_ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,127}")
LOG_LEVELS = ("OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL")


class ConfigError(ValueError):
    """A bad flag or setting, reported before any Spark work starts."""


@dataclass
class CurationConfig:
    output: str = "output/curation"
    format: str = "parquet"
    input: str | None = None  # None: the embedded default alt-text sample
    input_format: str = "auto"
    url_col: str = "url"
    text_col: str = "text"
    uid_col: str | None = None
    metadata: str | None = None  # None: the embedded default metadata (wordfreq + numbers)
    t_en: str = "auto"  # int, or "auto" for small inputs; paper: 170000 (MetaCLIP 1: 20000)
    en_lang: str = "en"
    tail_proportion: float | None = None  # p given directly (no English needed); None: from t_en
    t_overrides: dict[str, int] = field(default_factory=dict)  # --t LANG=N
    seed: int = 0
    epoch: int = 0
    lid_min_score: float = 0.0
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    output_partitions: int = 0  # 0: derived from the source table's size
    batch_id: str | None = None  # None: "base" for full runs, derived from the input for --incremental
    incremental: bool = False
    resume: bool = False
    inject_faults: float = 0.0
    master: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    # --- LID / matching modes and the worker matcher bound (issue 22) ----------------------
    lid_mode: str = "reference"  # reference: lid.176 top-1, as MetaCLIP 2; improved: curation.lid.detect_improved
    matching_mode: str = "reference"  # reference: SPEC §2 step 3, as MetaCLIP 2; extended: + ja/ko morphemes
    matcher_cache_entries: int = 0  # metadata entries whose automata a Python worker keeps (LRU); 0: no bound
    # Trust at scale (issue 16): the lock, object stores, third-party metadata, console noise.
    break_lock: bool = False  # take over whatever lock is on --output (a dead run's, empty, other host)
    allow_non_atomic_parquet: bool = False  # Parquet on S3/GCS/DBFS: swaps copy; a crash leaves no table
    clean_metadata: bool = False  # apply `python -m curation.metadata clean` to --metadata before use
    log_level: str = "WARN"  # Spark's and py4j's log level (our progress lines stay INFO)

    def t_en_value(self) -> int | None:
        return None if self.t_en == "auto" else int(self.t_en)

    def validate(self) -> "CurationConfig":
        self.input = self.input or None  # "" (e.g. an unset bundle variable) = the embedded sample
        if self.format not in FORMATS:
            raise ConfigError(f"--format must be one of {FORMATS}, got {self.format!r}")
        if self.input_format not in INPUT_FORMATS:
            raise ConfigError(f"--input-format must be one of {INPUT_FORMATS}, got {self.input_format!r}")
        if self.t_en != "auto":
            try:
                if int(self.t_en) < 1:
                    raise ValueError
            except ValueError:
                raise ConfigError(f"--t-en must be a positive integer or 'auto', got {self.t_en!r}") from None
        if self.tail_proportion is not None and not 0.0 < self.tail_proportion <= 1.0:
            raise ConfigError(f"--tail-proportion must be in (0, 1], got {self.tail_proportion}")
        for lang, t in self.t_overrides.items():
            if not lang or int(t) < 1:
                raise ConfigError(f"--t expects LANG=N with N a positive integer, got {lang}={t}")
        if self.seed < 0 or self.epoch < 0:
            raise ConfigError("--seed and --epoch must be non-negative")
        if not 0.0 <= self.lid_min_score <= 1.0:
            raise ConfigError(f"--lid-min-score must be in [0, 1], got {self.lid_min_score}")
        if self.max_text_chars < 1:
            raise ConfigError("--max-text-chars must be positive")
        if self.output_partitions < 0:
            raise ConfigError("--output-partitions must be >= 0")
        if not self.output:
            raise ConfigError("--output is required")
        if self.batch_id is not None and not BATCH_ID_PATTERN.fullmatch(self.batch_id):
            raise ConfigError(f"--batch-id must start with a letter and use only letters, digits, '.', '_' "
                              f"or '-' (it names a directory), got {self.batch_id!r}")
        if not 0.0 <= self.inject_faults < 1.0:
            raise ConfigError("--inject-faults must be in [0, 1)")
        self._validate_modes()
        self.log_level = self.log_level.upper()
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"--log-level must be one of {LOG_LEVELS}, got {self.log_level!r}")
        return self

    def _validate_modes(self) -> None:
        """``--lid``, ``--matching`` and ``--matcher-cache-entries``; an opt-in mode whose
        package is missing is refused here, before any Spark work, not in a worker."""
        if self.lid_mode not in LID_MODES:
            raise ConfigError(f"--lid must be one of {LID_MODES}, got {self.lid_mode!r}")
        if self.matching_mode not in MATCHING_MODES:
            raise ConfigError(f"--matching must be one of {MATCHING_MODES}, got {self.matching_mode!r}")
        if self.matcher_cache_entries < 0:
            raise ConfigError("--matcher-cache-entries must be >= 0 (0: no bound)")
        needed = {"improved": ("pycld2",)}.get(self.lid_mode, ()) + \
            {"extended": ("fugashi", "unidic_lite", "kiwipiepy")}.get(self.matching_mode, ())
        missing = [name for name in needed if importlib.util.find_spec(name) is None]
        if missing:
            raise ConfigError(f"--lid {self.lid_mode} --matching {self.matching_mode} needs {', '.join(missing)}: "
                              "pip install 'worldwide-clip[lid-extra]'")

    def to_dict(self) -> dict:
        return asdict(self)


def build_parser(prog: str, description: str, reads_input: bool = True) -> argparse.ArgumentParser:
    """The flags of ``wwclip-<stage>``. ``reads_input=False`` (stages that read only the tables
    under ``--output``: match, count, thresholds, sample) leaves out the input flags, so that
    ``--input`` is refused there instead of silently ignored."""
    d = CurationConfig()
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--output", default=d.output, help="output root (local path or URI) [%(default)s]")
    p.add_argument("--format", default=d.format, choices=FORMATS, help="table format [%(default)s]")
    if reads_input:
        p.add_argument("--input", default=None, help="alt-text input (default: embedded sample)")
        p.add_argument("--input-format", default=d.input_format, choices=INPUT_FORMATS)
        p.add_argument("--url-col", default=d.url_col)
        p.add_argument("--text-col", default=d.text_col)
        p.add_argument("--uid-col", default=None, help="input column holding image ids (default: sha224 of url)")
    p.add_argument("--metadata", default=None, help="metadata table (default: embedded wordfreq set)")
    p.add_argument("--t-en", default=d.t_en,
                   help="English threshold t_en: an integer (MetaCLIP 2: 170000, MetaCLIP 1: 20000) "
                        "or 'auto' for small inputs [%(default)s]")
    p.add_argument("--en-lang", default=d.en_lang, help="metadata code of English [%(default)s]")
    p.add_argument("--tail-proportion", type=float, default=None, metavar="P",
                   help="give the tail proportion p directly (0 < P <= 1) instead of deriving it from English "
                        "at --t-en: for corpora without English, or to fix p across runs")
    p.add_argument("--t", action="append", default=[], metavar="LANG=N", dest="t",
                   help="fix one language's threshold t (repeatable), e.g. --t de=40")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--epoch", type=int, default=d.epoch, help="epoch of the offline sample [%(default)s]")
    p.add_argument("--lid-min-score", type=float, default=d.lid_min_score,
                   help="reject texts whose LID score is below this [%(default)s: keep all]")
    p.add_argument("--max-text-chars", type=int, default=d.max_text_chars)
    p.add_argument("--output-partitions", type=int, default=d.output_partitions,
                   help="files per output table (0: one per 64 MB of the source, at least 2) [%(default)s]")
    p.add_argument("--batch-id", default=None,
                   help="name of this input batch (default: 'base'; with --incremental: from the input files)")
    p.add_argument("--incremental", action="store_true",
                   help="add this input as a new batch to an existing output (a batch seen before is skipped)")
    p.add_argument("--resume", action="store_true",
                   help="skip stages whose table already exists for the same inputs and settings")
    p.add_argument("--inject-faults", type=float, default=0.0, metavar="RATE",
                   help="testing: fail this share of first task attempts in Python workers [%(default)s]")
    add_spark_flags(p, log_level=d.log_level)
    # LID / matching modes and the worker matcher bound (issue 22); the reference modes are MetaCLIP 2's
    p.add_argument("--lid", dest="lid_mode", default=d.lid_mode, choices=LID_MODES,
                   help="reference: lid.176 top-1 as MetaCLIP 2; improved: script rules + CLD2 "
                        "(docs/lid.md; adds a lid_method column) [%(default)s]")
    p.add_argument("--matching", dest="matching_mode", default=d.matching_mode, choices=MATCHING_MODES,
                   help="reference: SPEC §2 step 3 as MetaCLIP 2; extended: also at ja/ko morpheme "
                        "boundaries (docs/lid.md) [%(default)s]")
    p.add_argument("--matcher-cache-entries", type=int, default=d.matcher_cache_entries, metavar="N",
                   help="metadata entries whose automata each Python worker keeps, least recently used "
                        "evicted first (large metadata); 0: no bound [%(default)s]")
    # Trust at scale (issue 16)
    p.add_argument("--break-lock", action="store_true",
                   help="take over the output's _LOCK whatever holds it (a crashed run's empty lock, a run on "
                        "another host that is gone); only when no other run writes --output")
    p.add_argument("--allow-non-atomic-parquet", action="store_true",
                   help="allow --format parquet on object stores (S3, GCS, DBFS), where a table swap copies "
                        "every file and a crash during it leaves the table absent until the stage is re-run "
                        "(readers never accept it half-written); --format delta is the choice there")
    p.add_argument("--clean-metadata", action="store_true",
                   help="clean --metadata first (drop punctuation-only, non-NFC and repeated entries, strip "
                        "whitespace, renumber ids; see `python -m curation.metadata clean`) instead of refusing it")
    return p


def add_spark_flags(p, log_level: str | None = None, summary: bool = True) -> None:
    """The flags every Spark job shares (``p``: a parser or an argument group): ``--master``,
    ``--conf``, ``--log-level`` and, for a job that prints a summary, ``--quiet``."""
    p.add_argument("--master", default=None, help="Spark master when not under spark-submit [local[*]]")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark conf (repeatable)")
    p.add_argument("--log-level", default=log_level, type=str.upper, choices=LOG_LEVELS,
                   help=f"log level of Spark and py4j [{log_level or '$WWCLIP_SPARK_LOG_LEVEL or WARN'}]; "
                        "the job's own progress lines stay at INFO")
    if summary:
        p.add_argument("--quiet", action="store_true", help="do not print the summary")


def parse_spark_conf(items: list[str]) -> dict[str, str]:
    """``--conf KEY=VALUE`` flags (repeatable) as a dict, refusing malformed ones."""
    conf = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--conf expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        conf[key] = value
    return conf


def config_from_args(args: argparse.Namespace) -> CurationConfig:
    names = {f.name for f in fields(CurationConfig)}
    values = {k: v for k, v in vars(args).items() if k in names}
    values["spark_conf"] = parse_spark_conf(args.conf)
    values["t_overrides"] = parse_t_overrides(getattr(args, "t", []))
    return CurationConfig(**values).validate()


def parse_t_overrides(items: list[str]) -> dict[str, int]:
    """``--t LANG=N`` flags (repeatable) as ``{lang: N}``, refusing malformed ones."""
    out: dict[str, int] = {}
    for item in items:
        lang, sep, value = item.partition("=")
        try:
            if not sep or not lang or int(value) < 1:
                raise ValueError
        except ValueError:
            raise ConfigError(f"--t expects LANG=N with N a positive integer, got {item!r}") from None
        out[lang] = int(value)
    return out
