"""What decides the content of an extracted row: one frozen, validated value shipped to executors.

Its :meth:`ExtractSettings.fingerprint` is stored with every file's completion record, so a
re-run with other settings re-extracts the files instead of mixing rows made by two rules.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from curation.commoncrawl.texts import TEXT_ATTRS, TEXT_MODES
from curation.pipeline.config import ConfigError

SOURCES = ("wat", "warc")
READERS = ("fastwarc", "warcio")
EMPTY_TEXT_POLICIES = ("reject", "keep", "drop")
# Common Crawl truncates stored payloads at 1 MiB (WARC-Truncated: length); a WARC from
# another crawler may hold far larger pages. HTML beyond this is not parsed (the page's prefix
# is); a WAT JSON record beyond it is rejected as bad_record. Bounds a worker's memory.
DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024
# Version of the extraction rules: bump when a rule changes what a row contains.
RULES_VERSION = "1"


class SettingsError(ConfigError):
    """An invalid extraction setting (reported before any work)."""


@dataclass(frozen=True)
class ExtractSettings:
    """``source``: ``wat`` (Common Crawl WAT metadata, MetaCLIP's input) or ``warc`` (HTML
    responses, parsed with resiliparse). ``text_attrs``/``text_mode``: see
    :mod:`curation.commoncrawl.texts`. ``empty_text``: a link with a valid URL but no text is a
    ``no_text`` reject (``reject``), a row with a null text (``keep``; curation then rejects
    it as ``null_text``) or only counted (``drop``: at full scale about half of all image
    links, too many to keep as reject rows). ``crawl``: snapshot id for every row, overriding
    the ``CC-MAIN-YYYY-WW`` found in each file's path. ``reader``: WARC record reader."""

    source: str = "wat"
    text_attrs: tuple[str, ...] = TEXT_ATTRS
    text_mode: str = "all"
    empty_text: str = "reject"
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    reader: str = "fastwarc"
    crawl: str | None = None

    def validate(self) -> "ExtractSettings":
        if self.source not in SOURCES:
            raise SettingsError(f"--source must be one of {SOURCES}, got {self.source!r}")
        if self.reader not in READERS:
            raise SettingsError(f"--reader must be one of {READERS}, got {self.reader!r}")
        if self.text_mode not in TEXT_MODES:
            raise SettingsError(f"--text-mode must be one of {TEXT_MODES}, got {self.text_mode!r}")
        if self.empty_text not in EMPTY_TEXT_POLICIES:
            raise SettingsError(f"--empty-text must be one of {EMPTY_TEXT_POLICIES}, got {self.empty_text!r}")
        if not self.text_attrs:
            raise SettingsError("--text-attrs must name at least one attribute")
        unknown = [a for a in self.text_attrs if a not in TEXT_ATTRS]
        if unknown:
            raise SettingsError(f"--text-attrs: unknown attribute(s) {unknown}; choose from {TEXT_ATTRS}")
        if len(set(self.text_attrs)) != len(self.text_attrs):
            raise SettingsError(f"--text-attrs lists an attribute twice: {list(self.text_attrs)}")
        if self.max_record_bytes < 1024:
            raise SettingsError("--max-record-bytes must be at least 1024")
        if self.crawl is not None and not self.crawl.strip():
            raise SettingsError("--crawl must not be empty")
        return self

    def fingerprint(self) -> str:
        """Hash of everything that changes row contents (the reader does not: both readers must
        give the same rows, which a test checks)."""
        values = {k: v for k, v in asdict(self).items() if k != "reader"}
        return hashlib.sha256(json.dumps([RULES_VERSION, values], sort_keys=True).encode()).hexdigest()[:16]
