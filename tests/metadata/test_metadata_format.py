"""Metadata table format (SPEC §4): file validation, merge with priorities and quotas, CLI."""

from __future__ import annotations

import unicodedata

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation import metadata as M
from curation.metadata.cli import main as metadata_cli


def _table(rows, schema=M.METADATA_SCHEMA):
    cols = list(zip(*rows)) if rows else [[], [], [], []]
    return pa.Table.from_arrays([pa.array(list(c), f.type) for c, f in zip(cols, schema)], schema=schema)


def _write(tmp_path, table, name="m.parquet"):
    path = str(tmp_path / name)
    pq.write_table(table, path)
    return path


def test_valid_file_has_no_problems(tmp_path):
    path = _write(tmp_path, _table([("en", 0, "cat", "x"), ("en", 1, "black cat", "x"), ("zh", 0, "猫", "x")]))
    assert M.validate_metadata_file(path) == []


@pytest.mark.parametrize("rows, needle", [
    ([("en", 0, "cat", "x"), ("en", 1, "cat", "x")], "duplicate entry 'cat'"),
    ([("en", 0, "cat", "x"), ("en", 2, "dog", "x")], "entry ids are not 0..1"),
    ([("en", 0, "cat", "x"), ("en", 0, "dog", "x")], "entry_id 0 used twice"),
    ([("en", 0, "x" * 257, "x")], "longer than 256"),
    ([("en", 0, "?!.", "x")], "punctuation only"),
    ([("en", 0, "“…”", "x")], "punctuation only"),
    ([("en", 0, " cat", "x")], "leading or trailing whitespace"),
    ([("en", 0, unicodedata.normalize("NFD", "café"), "x")], "not NFC"),
    ([("en", 0, "", "x")], "empty entry"),
    ([("", 0, "cat", "x")], "empty lang"),
])
def test_each_problem_is_reported(tmp_path, rows, needle):
    problems = M.validate_metadata_file(_write(tmp_path, _table(rows)))
    assert any(needle in p for p in problems), problems


def test_wrong_types_missing_columns_and_unreadable_files_are_reported(tmp_path):
    wrong = pa.table({"lang": ["en"], "entry_id": pa.array([0.0], pa.float64()), "entry": ["cat"], "source": ["x"]})
    assert any("entry_id" in p and "double" in p for p in M.validate_metadata_file(_write(tmp_path, wrong)))
    missing = pa.table({"lang": ["en"], "entry": ["cat"]})
    assert "missing column" in M.validate_metadata_file(_write(tmp_path, missing, "b.parquet"))[0]
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    assert "cannot read" in M.validate_metadata_file(str(bad))[0]
    assert "not found" in M.validate_metadata_file(str(tmp_path / "none.parquet"))[0]


def test_invalid_utf8_is_reported_not_crashed(tmp_path):
    entry = pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(b"\x00\x00\x00\x00\x02\x00\x00\x00"),
                                                    pa.py_buffer(b"\xff\xfe")])
    table = pa.Table.from_arrays([pa.array(["en"]), pa.array([0], pa.int32()), entry, pa.array(["x"])],
                                 schema=M.METADATA_SCHEMA)
    problems = M.validate_metadata_file(_write(tmp_path, table))
    assert any("not valid UTF-8" in p for p in problems), problems


def test_merge_priority_dedupe_and_quotas_count_new_entries():
    parts = [
        M.SourcePart("numbers", ["0", "1"]),
        M.SourcePart("wordnet", ["dog", "cat", "cat"]),
        M.SourcePart("wiki_unigram", ["the", "cat", "1", "?!", "of", "and"], quota=2),
        M.SourcePart("wiki_title", ["Cat", "dog"], quota=5),
    ]
    entries, sources, report = M.merge_sources(parts)
    assert entries == ["0", "1", "dog", "cat", "the", "of", "Cat"]
    assert sources == ["numbers", "numbers", "wordnet", "wordnet", "wiki_unigram", "wiki_unigram", "wiki_title"]
    assert report.added == {"numbers": 2, "wordnet": 2, "wiki_unigram": 2, "wiki_title": 1}
    assert report.duplicates == {"wordnet": 1, "wiki_unigram": 2, "wiki_title": 1}
    assert report.rejected == {"wiki_unigram": {"punctuation only": 1}}
    assert report.examples["wiki_unigram"] == [("?!", "punctuation only")]


def test_merge_languages_builds_valid_metadata_and_keeps_per_entry_labels():
    metadata, reports = M.merge_languages({
        "en": [M.SourcePart("metaclip", ["a", "b"], labels=["wordnet", "wiki_title"]), M.SourcePart("numbers", ["1"])],
        "xx": [M.SourcePart("wordnet", ["", " "])],  # nothing valid: language omitted
    })
    assert metadata.entries == {"en": ("a", "b", "1")}
    assert metadata.sources["en"] == ("wordnet", "wiki_title", "numbers")
    assert M.validate_metadata(metadata.to_table()) == []
    assert reports["xx"].rejected["wordnet"] == {"empty entry": 1, "leading or trailing whitespace": 1}
    assert M.source_counts(metadata) == {"en": {"wordnet": 1, "wiki_title": 1, "numbers": 1}}


def test_atomic_write_keeps_version_and_round_trips(tmp_path):
    metadata = M.metadata_from_lists({"en": ["cat", "dog"], "ja": ["猫"]}, "test")
    path = str(tmp_path / "sub" / "m.parquet")
    M.write_metadata_atomic(metadata, path, "v-test")
    assert M.read_metadata_version(path) == "v-test"
    assert M.read_metadata(path) == metadata
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["m.parquet"]  # no temp file left


def test_format_source_table_has_rows_columns_and_totals():
    text = M.format_source_table({"en": {"numbers": 100, "wiki_unigram": 5}, "zh": {"wiki_title": 2}})
    lines = text.splitlines()
    assert lines[0].split() == ["lang", "numbers", "wiki_unigram", "wiki_title", "total"]
    assert lines[1].split() == ["en", "100", "5", "0", "105"]
    assert lines[-1].split() == ["all", "(2)", "100", "5", "2", "107"]


def test_cli_validate_exit_codes_and_report(tmp_path, capsys):
    good = str(tmp_path / "good.parquet")
    M.write_metadata_atomic(M.metadata_from_lists({"en": ["cat"]}), good, "v1")
    assert metadata_cli(["validate", good]) == 0
    assert "OK" in capsys.readouterr().out
    bad = _write(tmp_path, _table([("en", 0, "cat", "x"), ("en", 1, "cat", "x"), ("en", 2, "!!", "x")]), "bad.parquet")
    assert metadata_cli(["validate", bad]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out and "duplicate entry 'cat'" in out and "punctuation only" in out


def test_cli_validate_default_embedded_metadata(capsys):
    assert metadata_cli(["validate"]) == 0
    assert "version wordfreq-default-2" in capsys.readouterr().out
