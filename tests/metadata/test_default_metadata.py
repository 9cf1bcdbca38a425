"""The embedded default metadata: valid, small, versioned, and exactly what the builder makes."""

from __future__ import annotations

import os

import pytest

from curation.metadata.default import (
    DEFAULT_METADATA_VERSION,
    build_default_metadata,
    main,
    thai_words,
)
from curation.metadata import (
    NUMBERS,
    default_metadata_path,
    read_metadata,
    read_metadata_version,
    validate_metadata_file,
)


def test_committed_file_is_valid_small_and_versioned():
    path = default_metadata_path()
    assert validate_metadata_file(path) == []
    assert os.path.getsize(path) < 2 * 1024 * 1024
    assert read_metadata_version(path) == DEFAULT_METADATA_VERSION
    metadata = read_metadata(path)
    assert len(metadata.entries) >= 43 and {"en", "zh", "ja", "th", "de", "ar", "hi"} <= set(metadata.entries)
    for lang in metadata.languages:
        assert metadata.entries[lang][:100] == NUMBERS
        assert set(metadata.sources[lang][:100]) == {"numbers"}
    assert set(metadata.sources["th"][100:]) == {"pythainlp_tnc"} and set(metadata.sources["en"][100:]) == {"wordfreq"}


def test_thai_words_come_from_the_bundled_frequency_list():
    words = thai_words(50)
    assert len(words) == 50 and words[:3] == ["ที่", "การ", "เป็น"]
    assert all(any(0x0E00 <= ord(c) <= 0x0E7F for c in w) for w in words)


@pytest.mark.slow
def test_rebuild_equals_committed_file_and_is_byte_deterministic(tmp_path):
    assert build_default_metadata() == read_metadata()
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    main(["--output", str(first), "--words-per-language", "50"])
    main(["--output", str(second), "--words-per-language", "50"])
    assert first.read_bytes() == second.read_bytes()
    assert read_metadata(str(first)).n_entries("th") == 150
