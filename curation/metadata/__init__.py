"""Metadata (SPEC §4): the table ``(lang, entry_id, entry, source)``, ids 0..n-1 per language.

- ``table``: the ``Metadata`` model, the schema and the entry/table validation rules;
- ``io``: Parquet files (read, write, atomic write with a version, file checks), the embedded default;
- ``merge``: source parts merged in priority order with quotas, the merge report, per-source counts;
- ``metaclip``: MetaCLIP ``metadata.json`` / ``{entry: source}`` JSON import and export;
- ``default``: builds the embedded default set (``python -m curation.default_metadata``);
- ``build``: the builder job from Wikipedia, WordNet and MetaCLIP files (``python -m curation.build_metadata``);
- ``sources/``: the pure rules and the Spark glue that turn dumps into ranked candidates;
- ``cli``: ``python -m curation.metadata {validate,stats,import-metaclip,export-metaclip}``.

The names below are the public API; ``default``, ``build`` and ``sources`` are imported on use
(they need the ``metadata`` extra or Spark).
"""

from curation.metadata.io import (
    DEFAULT_METADATA_FILE,
    VERSION_KEY,
    default_metadata_path,
    read_metadata,
    read_metadata_version,
    validate_metadata_file,
    write_metadata,
    write_metadata_atomic,
)
from curation.metadata.merge import (
    NUMBERS,
    SOURCE_PRIORITY,
    MergeReport,
    SourcePart,
    format_source_table,
    merge_languages,
    merge_sources,
    source_counts,
)
from curation.metadata.metaclip import (
    METACLIP_LIST_SOURCE,
    METACLIP_SOURCE_CODES,
    export_metaclip,
    metadata_from_metaclip,
    read_metaclip_json,
    write_metaclip_json,
)
from curation.metadata.table import (
    MAX_ENTRY_CHARS,
    METADATA_SCHEMA,
    Metadata,
    MetadataError,
    is_punctuation_only,
    metadata_from_lists,
    metadata_from_table,
    metadata_table,
    validate_entry,
    validate_metadata,
)

__all__ = [
    "DEFAULT_METADATA_FILE", "MAX_ENTRY_CHARS", "METACLIP_LIST_SOURCE", "METACLIP_SOURCE_CODES",
    "METADATA_SCHEMA", "NUMBERS", "SOURCE_PRIORITY", "VERSION_KEY", "Metadata", "MetadataError", "MergeReport",
    "SourcePart", "default_metadata_path", "export_metaclip", "format_source_table", "is_punctuation_only",
    "merge_languages", "merge_sources", "metadata_from_lists", "metadata_from_metaclip", "metadata_from_table",
    "metadata_table", "read_metaclip_json", "read_metadata", "read_metadata_version", "source_counts",
    "validate_entry", "validate_metadata", "validate_metadata_file", "write_metaclip_json", "write_metadata",
    "write_metadata_atomic",
]
