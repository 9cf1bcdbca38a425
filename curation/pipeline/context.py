"""``RunContext``: the facts of one run, each computed once, on first use.

A run (``curate``, or one stage job) needs the same facts in several places: the input's file
listing (for the checks, the input fingerprint and the incremental batch id), the metadata
and its fingerprint (for the match transform, the stage fingerprint and the run record), the
output lock. Each is computed here at most once per run, when first asked for, so a stage
that does not need the input never lists it and a run never hashes the metadata twice.
The context also carries what one stage hands to the next within a ``curate`` run: the
persisted lid+match result and the metadata-sized tables (``entry_counts``, ``entry_probs``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import cached_property

import pyarrow as pa

from curation.layout import FULL_RUN_BATCH, STATS_FILE, table_path
from curation.metadata import Metadata, MetadataError, read_metadata
from curation.metadata.clean import Change, changes_jsonl, clean_table
from curation.metadata.clean import format_summary as format_clean_summary
from curation.metadata.io import column_problems, read_metadata_table
from curation.pipeline.config import ConfigError, CurationConfig
from curation.pipeline.inputs import read_input, resolve_input
from curation.spark import fs
from curation.spark.lock import OutputLock

log = logging.getLogger("curation")
METADATA_CHANGES_FILE = "_metadata_changes.jsonl"  # --clean-metadata: every change made


def cleaned_metadata(path: str | None) -> tuple[Metadata, list[Change]]:
    """``--clean-metadata``: the metadata at ``path`` cleaned (``curation.metadata.clean``) and
    the changes made; column problems other than nulls and invalid UTF-8 still refuse it."""
    table = read_metadata_table(path)
    problems = [p for p in column_problems(table) if "null" not in p and "UTF-8" not in p]
    if problems:
        raise MetadataError("; ".join(problems))
    return clean_table(table)


def load_metadata(cfg: CurationConfig) -> Metadata:
    """The metadata of ``--metadata`` (default: the embedded set), checked (or cleaned, with
    ``--clean-metadata``): a ConfigError names the problem before any Spark work."""
    try:
        if cfg.clean_metadata:
            metadata, changes = cleaned_metadata(cfg.metadata)
            log.info("metadata cleaned (--clean-metadata): %s", format_clean_summary(changes, metadata))
        else:
            metadata = read_metadata(cfg.metadata)
    except MetadataError as exc:
        raise ConfigError(str(exc)) from exc
    if cfg.en_lang not in metadata.entries and cfg.t_en != "auto" and cfg.tail_proportion is None:
        raise ConfigError(f"metadata has no entries for the English code {cfg.en_lang!r} (--en-lang), so p "
                          "cannot be derived from --t-en; give the tail proportion with --tail-proportion")
    unknown = sorted(set(cfg.t_overrides) - set(metadata.entries))
    if unknown:
        raise ConfigError(f"--t for language(s) {unknown} that the metadata does not have")
    return metadata


class RunContext:
    """One run's configuration, session and derived facts (each a cached property).

    ``metadata``: pass it when it was loaded (and checked) before the Spark session started;
    otherwise it is loaded on first use. ``lock``: pass it when it was taken before the Spark
    session started (``curation.pipeline.cli``)."""

    def __init__(self, spark, cfg: CurationConfig, metadata: Metadata | None = None,
                 lock: OutputLock | None = None):
        self.spark = spark
        self.cfg = cfg
        if metadata is not None:
            self.metadata = metadata  # fills the cached property
        # ``lock``: the one taken before the JVM started (the CLI, local outputs); else our own.
        self.lock = lock or OutputLock(spark, cfg.output, cfg.break_lock)
        # Handed from one stage to the next within a curate run (None / empty for a stage job):
        self.fused = None  # the persisted lid+match result (a DataFrame), uid-partitioned and sorted
        self.carried: dict[str, pa.Table] = {}  # entry_counts, entry_probs as written by this run

    # ------------------------------------------------------------ input

    @cached_property
    def input_source(self) -> tuple[str, str]:
        """(path, format) of the alt-text input."""
        return resolve_input(self.cfg)

    @property
    def input_path(self) -> str:
        return self.input_source[0]

    @cached_property
    def input_files(self) -> list[fs.FileInfo]:
        """The input's data files (path, size, mtime), listed once per run."""
        path = self.input_path
        if not fs.exists(self.spark, path):
            raise ConfigError(f"input not found: {path}")
        return fs.list_files(self.spark, path)

    @cached_property
    def input_fingerprint(self) -> str:
        """Hash of the input listing: a changed, added or removed file changes it."""
        return hashlib.sha256(json.dumps(self.input_files).encode()).hexdigest()[:16]

    @cached_property
    def input_df(self):
        """The input as a checked DataFrame (``inputs.read_input``); read once per run."""
        return read_input(self.spark, self.cfg, self.input_source, self.input_files)

    @cached_property
    def batch_id(self) -> str:
        """This run's input batch: ``--batch-id``, else ``base`` for a full run, else (incremental)
        derived from the input listing, so the same files give the same batch."""
        if self.cfg.batch_id:
            return self.cfg.batch_id
        return f"b-{self.input_fingerprint}" if self.cfg.incremental else FULL_RUN_BATCH

    def current_batch(self, stats: dict) -> str:
        """The batch the lid stage last wrote (so later stages never re-list the input)."""
        return stats.get("stages", {}).get("lid", {}).get("batch_id") or self.batch_id

    # ------------------------------------------------------------ metadata

    @cached_property
    def metadata(self) -> Metadata:
        return load_metadata(self.cfg)

    @cached_property
    def metadata_changes(self) -> list[Change]:
        """What ``--clean-metadata`` changed ([] without it)."""
        return cleaned_metadata(self.cfg.metadata)[1] if self.cfg.clean_metadata else []

    def write_metadata_changes(self) -> str | None:
        """``--clean-metadata``: the change report as ``<output>/_metadata_changes.jsonl``; its path."""
        if not self.cfg.clean_metadata:
            return None
        path = table_path(self.cfg.output, METADATA_CHANGES_FILE)
        fs.write_text(self.spark, path, changes_jsonl(self.metadata_changes))
        return path

    @cached_property
    def metadata_fingerprint(self) -> str:
        """``Metadata.fingerprint()`` (a hash over every entry), computed once per run."""
        return self.metadata.fingerprint()

    @cached_property
    def entries_by_lang(self) -> dict[str, list[str]]:
        """The metadata entries as plain lists: what the Spark workers receive (broadcast)."""
        return {lang: list(entries) for lang, entries in self.metadata.entries.items()}

    @cached_property
    def n_entries(self) -> dict[str, int]:
        return {lang: len(entries) for lang, entries in self.metadata.entries.items()}

    # ------------------------------------------------------------ output

    @property
    def stats_path(self) -> str:
        return table_path(self.cfg.output, STATS_FILE)

    def read_stats(self) -> dict:
        """``_stats.json`` as it is now ({} before the first stage)."""
        return fs.read_json(self.spark, self.stats_path)

    def write_stats(self, stats: dict) -> None:
        fs.write_json(self.spark, self.stats_path, stats)
