"""--input expansion (files, globs, folders, list files) and the CLI's configuration checks."""

import gzip

import pytest

from curation.commoncrawl.config import build_parser, config_from_args
from curation.commoncrawl.inputs import InputListError, crawl_id, expand_inputs, fsspec_path
from curation.pipeline.config import ConfigError


@pytest.fixture()
def tree(tmp_path):
    d = tmp_path / "crawl-data" / "CC-MAIN-2024-22" / "segments" / "1" / "wat"
    d.mkdir(parents=True)
    names = ["a.warc.wat.gz", "b.warc.wat.gz", "c.warc.gz", "notes.md", ".hidden.wat.gz"]
    for n in names:
        (d / n).write_bytes(b"x")
    return tmp_path, d


def test_files_globs_folders_and_commas(tree):
    root, d = tree
    a, b, c = str(d / "a.warc.wat.gz"), str(d / "b.warc.wat.gz"), str(d / "c.warc.gz")
    assert expand_inputs([a]) == [a]
    assert expand_inputs([f"{b},{a}", a]) == [a, b]  # sorted, no repeats
    assert expand_inputs([str(d / "*.wat.gz")]) == [a, b]  # hidden files skipped
    assert expand_inputs([str(root / "**" / "*.gz")]) == [a, b, c]
    assert expand_inputs([str(root)]) == [a, b, c]  # folders: data files only, hidden ones skipped


def test_list_files(tree, tmp_path):
    root, d = tree
    listing = "# Common Crawl style, relative to the list's folder\n\ncrawl-data/CC-MAIN-2024-22/segments/1/wat/a.warc.wat.gz\n" \
              f"{d / 'c.warc.gz'}\n"
    (root / "wat.paths").write_text(listing)
    with gzip.open(root / "wat.paths.gz", "wt") as f:
        f.write(listing)
    (root / "custom.list").write_text("https://data.example/x.wat.gz\n")
    expected = [str(d / "a.warc.wat.gz"), str(d / "c.warc.gz")]
    assert expand_inputs([str(root / "wat.paths")]) == expected
    assert expand_inputs([str(root / "wat.paths.gz")]) == expected
    assert expand_inputs([f"@{root / 'custom.list'}"]) == ["https://data.example/x.wat.gz"]  # remote: not checked
    assert expand_inputs([str(root / "wat.paths")], path_prefix="s3a://commoncrawl/") == sorted([
        "s3a://commoncrawl/crawl-data/CC-MAIN-2024-22/segments/1/wat/a.warc.wat.gz", str(d / "c.warc.gz")])


@pytest.mark.parametrize("value, message", [
    ("missing.wat.gz", "no such file"), ("nothing-*.wat.gz", "matches no file"), ("@missing.txt", "cannot read"),
])
def test_bad_inputs_are_named(tmp_path, value, message):
    with pytest.raises(InputListError, match=message):
        expand_inputs([str(tmp_path / value) if not value.startswith("@") else "@" + str(tmp_path / value[1:])])
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(InputListError, match="names no file"):
        expand_inputs([str(tmp_path / "empty.txt")])
    assert issubclass(InputListError, ConfigError)


def test_paths_and_crawl_ids():
    assert fsspec_path("s3a://commoncrawl/x.gz") == "s3://commoncrawl/x.gz"
    assert fsspec_path("S3N://b/x") == "s3://b/x" and fsspec_path("hdfs://nn/x") == "hdfs://nn/x"
    assert crawl_id("s3a://commoncrawl/crawl-data/CC-MAIN-2024-22/segments/1/wat/CC-MAIN-20240518-00001.warc.wat.gz") \
        == "CC-MAIN-2024-22"
    assert crawl_id("/data/my.warc.gz") is None


def test_cli_config_is_validated_before_work():
    parse = build_parser().parse_args
    cfg = config_from_args(parse(["--input", "a", "--input", "b,c", "--output", "o", "--text-attrs", "title, alt",
                                  "--text-mode", "first", "--empty-text", "drop", "--crawl", "CC-MAIN-2024-22",
                                  "--conf", "spark.x=1"]))
    assert cfg.inputs == ["a", "b,c"] and cfg.settings.text_attrs == ("title", "alt")
    assert (cfg.settings.text_mode, cfg.settings.empty_text, cfg.settings.crawl) == ("first", "drop", "CC-MAIN-2024-22")
    assert cfg.spark_conf == {"spark.x": "1"}
    for bad in (["--text-attrs", "alt,srcset"], ["--max-record-bytes", "10"], ["--files-per-job", "-1"],
                ["--conf", "novalue"]):
        with pytest.raises(ConfigError):
            config_from_args(parse(["--input", "a", "--output", "o", *bad]))
    with pytest.raises(SystemExit):
        parse(["--input", "a", "--output", "o", "--source", "wet"])
