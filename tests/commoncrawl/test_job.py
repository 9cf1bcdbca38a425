"""wwclip-extract on generated WAT files (hostile, realistic, truncated, corrupt, missing), then
curation on its output: exact tables, resume, retry, and the accounting invariants."""

import json
import os
import shutil
from collections import Counter

import pytest

from curation.commoncrawl.cli import main
from curation.commoncrawl.extract import extract_file
from curation.commoncrawl.sample import write_sample
from curation.commoncrawl.settings import ExtractSettings
from curation.spark.tables import read_table

from .hostile import SMALL_MAX_BYTES, encoding_cases, hostile_cases, truncate_inside_last_member, write_hostile_crawl

pytestmark = pytest.mark.spark


def python_oracle(paths, **settings):
    """What the job must produce, computed with the pure per-file function and plain Python."""
    s = ExtractSettings(source="wat", max_record_bytes=SMALL_MAX_BYTES, **settings)
    rows, rejects, files = [], Counter(), {}
    for path in paths:
        for r in extract_file(path, s):
            if r["kind"] == "row":
                rows.append(r)
            elif r["kind"] == "reject":
                rejects[r["reason"]] += 1
            else:
                files[path] = r
    groups = {}
    for r in rows:
        groups.setdefault((r["crawl"], r["url"], r["text"]), []).append(r)
    return groups, rejects, files


def table_rows(spark, root, name, fmt="parquet"):
    return [r.asDict() for r in read_table(spark, root, name, fmt).collect()]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ccjob")
    crawl_dir = root / "in"
    _, hostile_wat = write_hostile_crawl(str(crawl_dir), hostile_cases() + encoding_cases())
    sample = write_sample(str(root / "sample"), n_pages=60, n_files=2, seed=5, formats=("wat",))["wat"]
    wat_dir = os.path.dirname(hostile_wat)
    for i, path in enumerate(sample):
        shutil.copy(path, os.path.join(wat_dir, f"sample-{i}.warc.wat.gz"))
    cut = os.path.join(wat_dir, "truncated.warc.wat.gz")
    complete = truncate_inside_last_member(sample[0], cut, cut_fraction=0.3)
    with open(os.path.join(wat_dir, "corrupt.warc.wat.gz"), "wb") as handle:
        handle.write(b"\x1f\x8b\x08\x00" + os.urandom(3000))
    files = sorted(os.path.join(wat_dir, f) for f in os.listdir(wat_dir))
    ok = [hostile_wat, *(os.path.join(wat_dir, f"sample-{i}.warc.wat.gz") for i in range(len(sample)))]
    return {"root": root, "dir": wat_dir, "files": files, "ok": ok, "cut": cut, "cut_records": complete,
            "corrupt": os.path.join(wat_dir, "corrupt.warc.wat.gz")}


def test_extract_then_curate(spark, inputs, tmp_path, capsys):
    out = str(tmp_path / "cc")
    assert main(["--input", inputs["dir"], "--output", out, "--max-record-bytes", str(SMALL_MAX_BYTES),
                 "--files-per-job", "2"]) == 0
    printed = capsys.readouterr().out
    assert "truncated file" in printed and "corrupt file" in printed

    groups, rejects, files = python_oracle(inputs["files"])
    alt = table_rows(spark, out, "alt_texts")
    # one row per distinct (crawl, url, text), counts and representative as computed in Python
    assert len(alt) == len(groups) and len({(r["crawl"], r["url"], r["text"]) for r in alt}) == len(alt)
    for r in alt:
        group = groups[(r["crawl"], r["url"], r["text"])]
        assert r["link_count"] == len(group)
        assert r["page_count"] == len({g["page_url"] for g in group})
        first = min(group, key=lambda g: (g["page_url"], g["warc_filename"] or "", g["warc_offset"] or 0,
                                          g["link_index"], g["text_source"], g["source_file"], g["source_offset"]))
        assert (r["page_url"], r["source_file"], r["source_offset"], r["text_source"]) == (
            first["page_url"], first["source_file"], first["source_offset"], first["text_source"])
    logo = [r for r in alt if r["url"] == "https://cdn.shared.example/logo.png"]
    assert [(r["text"], r["page_count"], r["link_count"], r["page_url"]) for r in logo] == [
        ("Shared logo", 2, 3, "https://site0.example/a/page0.html")]
    assert sum(r["link_count"] for r in alt) == sum(len(g) for g in groups.values())

    got_rejects = Counter(r["reason"] for r in table_rows(spark, out, "extract_rejects"))
    assert got_rejects == rejects
    assert got_rejects["bad_record"] == 2 and got_rejects["data_uri"] >= 3

    status = {r["source_file"]: (r["status"], r["records"]) for r in table_rows(spark, out, "extract_files")}
    assert status[inputs["cut"]] == ("truncated", inputs["cut_records"])
    assert status[inputs["corrupt"]] == ("corrupt", 0)
    assert sorted(status) == inputs["files"] and sum(s == "ok" for s, _ in status.values()) == len(inputs["files"]) - 2

    stats = json.load(open(os.path.join(out, "_stats.json")))["stages"]["extract"]
    assert stats["accounting_ok"] and stats["rows_out"] == len(alt)
    assert stats["rows_extracted"] == sum(f["rows"] for f in files.values())
    assert stats["links"] == sum(f["links"] for f in files.values())
    assert {b["path"]: (b["status"], b["records_read"]) for b in stats["bad_files"]} == {
        inputs["cut"]: ("truncated", inputs["cut_records"]), inputs["corrupt"]: ("corrupt", 0)}
    assert stats["files"] == {"total": len(inputs["files"]), "extracted_this_run": len(inputs["files"]), "reused": 0,
                              "by_status": {"ok": len(inputs["files"]) - 2, "truncated": 1, "corrupt": 1,
                                            "unreadable": 0}}

    # the extracted table goes through curation; every row is matched or rejected
    from curation.pipeline.config import CurationConfig
    from curation.pipeline.curate import run_curate

    cfg = CurationConfig(input=os.path.join(out, "alt_texts"), output=str(tmp_path / "curated"), quiet=True).validate()
    cur = run_curate(spark, cfg)["stages"]
    assert cur["lid"]["rows_in"] == len(alt)
    assert cur["match"]["accounting_ok"] and cur["match"]["matched"] + cur["match"]["rejects"] == len(alt)
    assert cur["match"]["matched"] > 0 and "bad_url" not in cur["match"]["rejects_by_reason"]
    assert "duplicate" not in cur["match"]["rejects_by_reason"]  # extraction already collapsed them
    matched = read_table(spark, cfg.output, "matched", "parquet")
    assert {"page_count", "link_count", "page_url", "crawl"} <= set(matched.columns)  # carried through


def test_resume_retry_and_delta(spark, inputs, tmp_path):
    listed = inputs["ok"]
    missing = os.path.join(inputs["dir"], "arrives-later.warc.wat.gz")
    list_file = tmp_path / "wat.txt"
    list_file.write_text("\n".join([*listed, missing]) + "\n")
    out = str(tmp_path / "cc")
    args = ["--input", f"@{list_file}", "--output", out, "--format", "delta", "--max-record-bytes",
            str(SMALL_MAX_BYTES), "--files-per-job", "3", "--quiet"]
    assert main(args) == 0
    first = json.load(open(os.path.join(out, "_stats.json")))["stages"]["extract"]
    assert first["files"]["by_status"]["unreadable"] == 1 and first["files"]["extracted_this_run"] == 4
    alt1 = sorted(map(str, table_rows(spark, out, "alt_texts", "delta")))
    # the same input in parts of one file each: the same table (order-independent dedup)
    other = str(tmp_path / "cc-one-per-part")
    assert main(["--input", f"@{list_file}", "--output", other, "--format", "delta", "--max-record-bytes",
                 str(SMALL_MAX_BYTES), "--files-per-job", "1", "--quiet"]) == 0
    assert sorted(map(str, table_rows(spark, other, "alt_texts", "delta"))) == alt1

    # the missing file appears: only it is extracted again; the others are reused
    shutil.copy(inputs["ok"][1], missing)
    try:
        assert main(args) == 0
    finally:
        os.remove(missing)
    second = json.load(open(os.path.join(out, "_stats.json")))["stages"]["extract"]
    assert second["files"]["extracted_this_run"] == 1 and second["files"]["reused"] == 3
    assert second["files"]["by_status"] == {"ok": 4, "truncated": 0, "corrupt": 0, "unreadable": 0}
    alt2 = table_rows(spark, out, "alt_texts", "delta")
    # it is a copy of a file already read: more occurrences of the same (url, text), no new row
    assert len(alt2) == len(alt1)
    assert sum(r["link_count"] for r in alt2) == second["rows_extracted"] > first["rows_extracted"]

    # a third run changes nothing
    assert main(args) == 0
    third = json.load(open(os.path.join(out, "_stats.json")))["stages"]["extract"]
    assert third["files"]["extracted_this_run"] == 0
    assert sorted(map(str, table_rows(spark, out, "alt_texts", "delta"))) == sorted(map(str, alt2))


def test_bad_input_fails_before_any_work(tmp_path, capsys):
    assert main(["--input", str(tmp_path / "nothing-*.wat.gz"), "--output", str(tmp_path / "o")]) == 2
    assert "matches no file" in capsys.readouterr().err
    assert main(["--input", str(tmp_path), "--output", str(tmp_path / "o")]) == 2
    assert main(["--input", "x.wat.gz", "--output", str(tmp_path / "o"), "--text-attrs", "alt,src"]) == 2
    assert "unknown attribute" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "o")
