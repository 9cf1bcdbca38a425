"""Cleaning third-party metadata (issue 16, item 6): what SPEC §4 refuses is dropped or
stripped, repeated entries keep the LAST occurrence (the index the reference matcher reports),
ids are renumbered, every change is reported; validate and curate accept the same tables."""

from __future__ import annotations

import json
import unicodedata

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation import metadata as M
from curation.matching import Matcher
from curation.metadata.clean import DROPPED, RENUMBERED, REPEATED, STRIPPED, clean_table
from curation.metadata.cli import main as metadata_cli
from curation.pipeline.config import ConfigError, CurationConfig
from curation.pipeline.context import load_metadata

NFD_CAFE = unicodedata.normalize("NFD", "café")
# A MetaCLIP-style metadata.json: a list with punctuation-only, repeated, untrimmed, NFD entries.
METACLIP_LIST = ["cat", "...", "dog", " bird ", "cat", "—", NFD_CAFE, "dog", "bird", "x" * 300, "sofa"]


def test_metaclip_list_strict_import_refuses_and_clean_import_keeps_the_last_of_each_repeat(tmp_path, capsys):
    src = tmp_path / "metadata.json"
    src.write_text(json.dumps(METACLIP_LIST, ensure_ascii=False), encoding="utf-8")
    out = str(tmp_path / "meta.parquet")
    assert metadata_cli(["import-metaclip", f"en={src}", "--output", out]) == 1
    assert "problem(s)" in capsys.readouterr().err
    assert metadata_cli(["import-metaclip", f"en={src}", "--output", out, "--clean"]) == 0
    assert M.validate_metadata_file(out) == []
    # "bird" (stripped, id 3) repeats "bird" (id 8): the last wins, so bird sits after dog
    assert M.read_metadata(out).entries["en"] == ("cat", "dog", "bird", "sofa")
    report = [json.loads(line) for line in open(out + ".changes.jsonl", encoding="utf-8")]
    by_old = {r["old_entry_id"]: r for r in report}
    assert {i: by_old[i]["reason"] for i in by_old if by_old[i]["action"] == DROPPED} == {
        0: REPEATED, 1: "punctuation only", 2: REPEATED, 3: REPEATED, 5: "punctuation only",
        6: "not NFC-normalised", 9: "longer than 256 characters"}
    assert {i: (r["action"], r["new_entry_id"]) for i, r in by_old.items() if r["action"] != DROPPED} == {
        4: (RENUMBERED, 0), 7: (RENUMBERED, 1), 8: (RENUMBERED, 2), 10: (RENUMBERED, 3)}
    assert 0 not in {i for i, r in by_old.items() if r["action"] == STRIPPED}


def test_the_kept_id_is_the_one_the_reference_matcher_reports_on_the_original_list():
    original = ["cat", "dog", "cat", "bird", "dog", "fish"]
    table = M.metadata_table([("en", original, ["w"] * len(original))])
    cleaned, changes = clean_table(table)
    new_id = {c.old_entry_id: c.new_entry_id for c in changes if c.action == RENUMBERED}
    new_id.update({i: i for i in range(len(original)) if i not in {c.old_entry_id for c in changes}})
    reference, kept = Matcher(original), Matcher(list(cleaned.entries["en"]))
    for text in ["a cat and a dog", "one fish", "a bird on a cat", "dog"]:
        assert kept.match(text) == sorted(new_id[i] for i in reference.match(text)), text


def test_stripping_happens_before_the_repeat_check_and_empty_after_strip_is_dropped():
    table = pa.table({"lang": ["de"] * 4 + ["fr"], "entry_id": pa.array([0, 1, 2, 3, 0], pa.int64()),
                      "entry": ["Katze ", "Katze", "   ", "Hund", "chat"], "source": ["w", "w", "w", None, "w"]})
    cleaned, changes = clean_table(table)
    assert cleaned.entries == {"de": ("Katze", "Hund"), "fr": ("chat",)}
    assert cleaned.sources["de"] == ("w", "")
    actions = {(c.lang, c.old_entry_id): (c.action, c.reason) for c in changes}
    assert actions[("de", 0)] == (DROPPED, REPEATED)
    assert actions[("de", 2)] == (DROPPED, "empty entry")
    assert actions[("de", 3)] == (RENUMBERED, "")
    assert ("fr", 0) not in actions  # unchanged rows are not reported


def test_clean_cli_writes_a_valid_table_and_the_report(tmp_path, capsys):
    src = str(tmp_path / "in.parquet")
    pq.write_table(pa.table({"lang": ["en", "en", "en", "zh"], "entry_id": pa.array([0, 1, 2, 0], pa.int64()),
                             "entry": [" cat", "?!", "cat", "猫"], "source": ["u", "u", "w", "u"]}), src)
    assert metadata_cli(["validate", src]) == 1
    out, report = str(tmp_path / "out.parquet"), str(tmp_path / "changes.jsonl")
    assert metadata_cli(["clean", src, out, "--report", report]) == 0
    printed = capsys.readouterr().out
    assert "kept 2 entries in 2 languages; 3 change(s)" in printed
    assert metadata_cli(["validate", out]) == 0
    assert M.read_metadata(out).entries == {"en": ("cat",), "zh": ("猫",)}
    assert M.read_metadata(out).sources["en"] == ("w",)  # the last occurrence's source
    rows = [json.loads(line) for line in open(report, encoding="utf-8")]
    assert [(r["old_entry_id"], r["action"]) for r in rows] == [(0, DROPPED), (1, DROPPED), (2, RENUMBERED)]


@pytest.mark.parametrize("entry_id, ok", [(pa.array([0, 1], pa.int32()), True), (pa.array([0, 1], pa.int64()), True),
                                          (pa.array([0, 1], pa.uint16()), True),
                                          (pa.array([0.0, 1.0], pa.float64()), False),
                                          (pa.array(["0", "1"], pa.string()), False)])
def test_validate_and_curate_accept_the_same_dtypes(tmp_path, entry_id, ok):
    path = str(tmp_path / "m.parquet")
    pq.write_table(pa.table({"lang": ["en", "en"], "entry_id": entry_id, "entry": ["cat", "dog"],
                             "source": pa.array([None, "w"], pa.string())}), path)
    assert (M.validate_metadata_file(path) == []) is ok
    cfg = CurationConfig(metadata=path).validate()
    if ok:
        assert load_metadata(cfg).entries["en"] == ("cat", "dog")
    else:
        with pytest.raises(ConfigError, match="entry_id"):
            load_metadata(cfg)


def test_curate_clean_metadata_flag_cleans_instead_of_refusing(tmp_path):
    path = str(tmp_path / "m.parquet")
    pq.write_table(pa.table({"lang": ["en"] * 4, "entry_id": pa.array(range(4), pa.int64()),
                             "entry": ["cat", "...", "dog", "cat"], "source": ["w"] * 4}), path)
    with pytest.raises(ConfigError, match="(?s)punctuation only.*--clean-metadata"):
        load_metadata(CurationConfig(metadata=path).validate())
    assert load_metadata(CurationConfig(metadata=path, clean_metadata=True).validate()).entries == {
        "en": ("dog", "cat")}
