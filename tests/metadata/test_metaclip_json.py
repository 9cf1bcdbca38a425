"""MetaCLIP JSON import/export: English ``metadata.json`` (list) and MetaCLIP 2 ``{entry: source}``."""

from __future__ import annotations

import json

import pytest

from curation import metadata as M
from curation.metadata.cli import main as metadata_cli


def _dump(path, data):
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_list_round_trip_is_byte_identical(tmp_path):
    src = tmp_path / "metadata.json"
    entries = ["0", "1", "cat", "black cat", "New York City", "café"]
    src.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    items, sources = M.read_metaclip_json(str(src))
    assert items == entries and set(sources) == {"metaclip"}
    out = tmp_path / "out" / "en.json"
    M.write_metaclip_json(items, sources, str(out), "list")
    assert out.read_bytes() == src.read_bytes()


def test_dict_round_trip_keeps_order_and_source_codes(tmp_path):
    data = {"0": "", "1": "", "猫": "w", "北京": "u", "北京大学": "b", "上海": "t", "其他": "x"}
    src = _dump(tmp_path / "zh.json", data)
    items, sources = M.read_metaclip_json(src)
    assert items == list(data)
    assert sources == ["numbers", "numbers", "wordnet", "wiki_unigram", "wiki_bigram", "wiki_title", "x"]
    metadata = M.metadata_from_metaclip({"zh": src})
    out_dir = tmp_path / "export"
    assert M.export_metaclip(metadata, str(out_dir), "dict") == [str(out_dir / "zh.json")]
    assert json.loads((out_dir / "zh.json").read_text(encoding="utf-8")) == data
    assert list(json.loads((out_dir / "zh.json").read_text(encoding="utf-8"))) == list(data)


def test_parquet_round_trip_through_cli(tmp_path, capsys):
    en = _dump(tmp_path / "metadata.json", ["cat", "dog", "hot dog"])
    ja = _dump(tmp_path / "ja.json", {"0": "", "猫": "w"})
    table = str(tmp_path / "m.parquet")
    assert metadata_cli(["import-metaclip", f"en={en}", f"ja={ja}", "--output", table]) == 0
    assert metadata_cli(["export-metaclip", table, str(tmp_path / "out"), "--format", "list"]) == 0
    assert json.loads((tmp_path / "out" / "en.json").read_text()) == ["cat", "dog", "hot dog"]
    assert json.loads((tmp_path / "out" / "ja.json").read_text()) == ["0", "猫"]
    capsys.readouterr()


def test_strict_import_reports_every_invalid_entry(tmp_path, capsys):
    src = _dump(tmp_path / "metadata.json", ["cat", "cat", "...", "x" * 300])
    with pytest.raises(M.MetadataError) as err:
        M.metadata_from_metaclip({"en": src})
    text = str(err.value)
    assert "3 problem(s)" in text and "duplicate entry 'cat'" in text and "punctuation only" in text
    assert metadata_cli(["import-metaclip", f"en={src}", "--output", str(tmp_path / "m.parquet")]) == 1
    assert "duplicate entry" in capsys.readouterr().err


@pytest.mark.parametrize("data, needle", [
    ({"a": 1}, "values must be source strings"),
    (["a", 2], "list items must be strings"),
    ("just a string", "expected a JSON list"),
])
def test_wrong_json_shapes_are_clear_errors(tmp_path, data, needle):
    with pytest.raises(M.MetadataError, match=needle):
        M.read_metaclip_json(_dump(tmp_path / "x.json", data))


def test_dict_export_refuses_duplicates(tmp_path):
    with pytest.raises(M.MetadataError, match="duplicate"):
        M.write_metaclip_json(["a", "a"], ["w", "w"], str(tmp_path / "x.json"), "dict")
