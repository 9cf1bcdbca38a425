"""``--lid reference|improved`` and ``--matching reference|extended`` end to end (issue 22).

The reference modes must leave the tables, ``_stats.json`` keys and fingerprints as they were
before the modes existed (MetaCLIP 2's rules); the opt-in modes add a ``lid_method`` column,
record themselves in ``_stats.json`` and in the stage fingerprints, and give the same tables
whether lid and match run fused (``curate``) or as stage jobs."""

from __future__ import annotations

import os
import sys

import pyarrow.parquet as pq
import pytest

from curation import __version__
from curation.lid_codes import LID_TO_METADATA_VERSION
from curation.lid_script import IMPROVED_LID_VERSION
from curation.matching_extended import MATCHING_EXTENDED_VERSION
from curation.pipeline.config import ConfigError, CurationConfig, build_parser, config_from_args
from curation.pipeline.curate import run_curate, run_stage
from curation.pipeline.stats import fingerprint
from curation.spark.tables import read_table

from .pipeline_fixtures import write_inputs

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from compare_outputs import compare_table, table_digest  # noqa: E402

# texts_lid's columns before the modes; ``_corrupt_record`` (the raw bytes of a record the reader
# rejected, issue 16) came with the readers' accounting, not with a mode.
OLD_TEXTS_LID = ["uid", "url", "text", "lid_label", "lang", "lang_score", "reject_reason", "row_no",
                 "_corrupt_record", "batch_id"]


# ---------------------------------------------------------------- flags (no Spark)

def test_mode_flags_parse_with_reference_defaults():
    cfg = config_from_args(build_parser("curate", "").parse_args([]))
    assert (cfg.lid_mode, cfg.matching_mode, cfg.matcher_cache_entries) == ("reference", "reference", 0)
    cfg = config_from_args(build_parser("curate", "").parse_args(
        ["--lid", "improved", "--matching", "extended", "--matcher-cache-entries", "5000000"]))
    assert (cfg.lid_mode, cfg.matching_mode, cfg.matcher_cache_entries) == ("improved", "extended", 5_000_000)


@pytest.mark.parametrize("flags", [["--lid", "best"], ["--matching", "fuzzy"]])
def test_unknown_modes_are_refused_by_the_parser(flags, capsys):
    with pytest.raises(SystemExit):
        build_parser("curate", "").parse_args(flags)
    assert "invalid choice" in capsys.readouterr().err


def test_bad_mode_settings_and_missing_packages_fail_before_any_work(monkeypatch):
    with pytest.raises(ConfigError, match="--lid must be one of"):
        CurationConfig(lid_mode="cld3").validate()
    with pytest.raises(ConfigError, match="--matcher-cache-entries"):
        CurationConfig(matcher_cache_entries=-1).validate()
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pycld2" else real(name, *a))
    with pytest.raises(ConfigError, match="needs pycld2"):
        CurationConfig(lid_mode="improved").validate()
    CurationConfig().validate()  # the reference modes need none of the extras


# ---------------------------------------------------------------- end to end (Spark)

@pytest.fixture(scope="module")
def runs(spark, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("modes")
    input_path, metadata_path, _ = write_inputs(tmp)
    out = {}
    for name, kw in (("reference", {}), ("opt_in", {"lid_mode": "improved", "matching_mode": "extended"})):
        cfg = CurationConfig(input=input_path, metadata=metadata_path, output=str(tmp / name), **kw).validate()
        out[name] = {"cfg": cfg, "stats": run_curate(spark, cfg)}
    staged = CurationConfig(input=input_path, metadata=metadata_path, output=str(tmp / "staged"),
                            lid_mode="improved", matching_mode="extended").validate()
    for stage in ("lid", "match", "count", "thresholds", "sample"):
        stats = run_stage(spark, staged, stage)
    out["staged"] = {"cfg": staged, "stats": stats}
    return out


def _rows(spark, run, name):
    return read_table(spark, run["cfg"].output, name, "parquet").toPandas()



@pytest.mark.spark
def test_reference_mode_keeps_the_old_columns_keys_and_fingerprints(spark, runs):
    ref = runs["reference"]
    assert read_table(spark, ref["cfg"].output, "texts_lid", "parquet").columns == OLD_TEXTS_LID
    stats = ref["stats"]
    lid, match = stats["stages"]["lid"], stats["stages"]["match"]
    assert not {"lid_mode", "lid_methods", "lid_version"} & set(lid)
    assert not {"matching_mode", "matching_version", "segmenters"} & set(match)
    assert not {"lid_improved", "matching_extended"} & set(stats["run"]["versions"])
    cfg = ref["cfg"]
    # the lid fingerprint as it was computed before the modes existed
    input_fp = stats["batches"]["base"]["input_fingerprint"]
    assert lid["fingerprint"] == fingerprint("lid", input_fp, "base", cfg.max_text_chars, cfg.lid_min_score,
                                             cfg.url_col, cfg.text_col, cfg.uid_col, LID_TO_METADATA_VERSION,
                                             __version__)
    assert match["fingerprint"] == fingerprint("match", lid["fingerprint"], stats["run"]["metadata"]["fingerprint"],
                                               __version__)


# Digests (``scripts/compare_outputs.table_digest``: file names, schemas, rows in file order) of
# the reference run's tables, computed with main's code before the modes existed (commit
# fa5c4ae, the same fixture and Spark session settings). ``--lid reference --matching
# reference`` must keep every table byte for byte as MetaCLIP 2's rules and the old code wrote
# it: any change of rows, order, columns or file layout fails here. ``rejects`` and ``texts_lid``
# were re-pinned once when the readers' accounting (issue 16) added the binary
# ``_corrupt_record`` column (raw bytes of malformed/invalid-UTF-8 records); every other table
# and every other column kept its digest.
REFERENCE_DIGESTS = {
    "batch_counts": "7431eafd7a48e1e5",
    "curated": "ab05017f2d382d92",
    "entry_counts": "cc85d31d718aea90",
    "entry_probs": "9c225c06e26109e7",
    "matched": "99fde73a88483a00",
    "rejects": "824fa95951ad6b89",
    "texts_lid": "745a641b63a969b7",
    "thresholds": "39a32c8db547e497",
}


@pytest.mark.spark
def test_reference_mode_tables_are_those_of_the_code_before_the_modes(runs):
    out = runs["reference"]["cfg"].output
    got = {name: table_digest(os.path.join(out, name)) for name in REFERENCE_DIGESTS}
    assert got == REFERENCE_DIGESTS
    assert sorted(d for d in os.listdir(out) if not d.startswith(("_", "."))) == sorted(REFERENCE_DIGESTS)


@pytest.mark.spark
def test_improved_lid_adds_lid_method_and_records_its_mode(spark, runs):
    opt = runs["opt_in"]
    texts = _rows(spark, opt, "texts_lid")
    assert list(texts.columns) == [*OLD_TEXTS_LID[:7], "lid_method", *OLD_TEXTS_LID[7:]]
    ok = texts["reject_reason"].isna()
    assert texts.loc[ok, "lid_method"].notna().all() and texts.loc[~ok, "lid_method"].isna().all()
    by_text = dict(zip(texts["text"], texts["lid_method"]))
    assert by_text["ソファで寝ている黒い猫の写真です"] == "script:Jpan"
    assert by_text["แมวดำนอนอยู่บนโซฟาในบ้าน"] == "script:Thai"
    lid = opt["stats"]["stages"]["lid"]
    assert (lid["lid_mode"], lid["lid_version"]) == ("improved", IMPROVED_LID_VERSION)
    assert sum(lid["lid_methods"].values()) == lid["rows_ok"]
    assert lid["lid_methods"]["script:Jpan"] == int((texts.loc[ok, "lid_method"] == "script:Jpan").sum())
    assert opt["stats"]["run"]["versions"]["lid_improved"] == IMPROVED_LID_VERSION
    for table in ("matched", "curated"):
        assert "lid_method" in _rows(spark, opt, table).columns


@pytest.mark.spark
def test_extended_matching_adds_morpheme_matches_and_records_its_mode(spark, runs):
    ref = _rows(spark, runs["reference"], "matched")
    ext = _rows(spark, runs["opt_in"], "matched")
    ramen = "美味しいラーメンを食べに行きました"
    assert ramen not in set(ref["text"])  # ラーメン ends in kana: the reference never matches it here
    assert ramen in set(ext["text"]) and all(list(ids) == [3] for ids in ext[ext["text"] == ramen]["entry_ids"])
    match = runs["opt_in"]["stats"]["stages"]["match"]
    assert (match["matching_mode"], match["matching_version"]) == ("extended", MATCHING_EXTENDED_VERSION)
    assert set(match["segmenters"]) >= {"fugashi", "unidic-lite", "kiwipiepy"}
    stages_ref, stages_opt = runs["reference"]["stats"]["stages"], runs["opt_in"]["stats"]["stages"]
    assert all(stages_ref[s]["fingerprint"] != stages_opt[s]["fingerprint"] for s in stages_ref)


@pytest.mark.spark
def test_opt_in_modes_give_the_same_tables_fused_or_stage_by_stage(runs):
    fused, staged = runs["opt_in"]["cfg"].output, runs["staged"]["cfg"].output
    for table in ("texts_lid", "matched", "rejects", "entry_counts", "curated"):
        assert compare_table(os.path.join(fused, table), os.path.join(staged, table)) == []
    for stage in ("lid", "match", "sample"):
        assert runs["opt_in"]["stats"]["stages"][stage]["fingerprint"] == \
            runs["staged"]["stats"]["stages"][stage]["fingerprint"]
    assert pq.read_table(os.path.join(staged, "texts_lid")).column_names[7] == "lid_method"
