"""``curation.spark.fs`` (the one Hadoop FileSystem helper) and ``curation.spark.lock`` on local paths."""

from __future__ import annotations

import gzip
import io
import json
import os

import pytest

from curation.layout import LOCK_FILE
from curation.spark import fs
from curation.spark.lock import LockError, OutputLock

pytestmark = pytest.mark.spark


def test_small_files_round_trip_and_atomic_write(spark, tmp_path):
    path = str(tmp_path / "a" / "stats.json")
    assert fs.read_text(spark, path) is None and fs.read_json(spark, path) == {}
    fs.mkdirs(spark, str(tmp_path / "a"))
    fs.write_json(spark, path, {"b": 1, "a": "é"})
    assert open(path, encoding="utf-8").read() == '{\n  "a": "é",\n  "b": 1\n}\n'  # sorted, UTF-8
    fs.write_text(spark, path, "second")
    assert fs.read_text(spark, path) == "second"
    # no temporary file left (Hadoop's local file system keeps a hidden .crc next to each file)
    assert [n for n in os.listdir(tmp_path / "a") if not n.startswith(".")] == ["stats.json"]
    assert fs.exists(spark, path) and fs.path_bytes(spark, str(tmp_path)) == len("second")


def test_listing_skips_hidden_and_underscore_names(spark, tmp_path):
    for rel, data in (("x/part-0.json", b"12"), ("x/sub/part-1.json", b"345"), ("x/_SUCCESS", b""),
                      ("x/.part-0.json.crc", b"c"), ("x/_delta_log/0.json", b"{}"), ("x/.hidden/y.json", b"z")):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    files = fs.list_files(spark, str(tmp_path / "x"))
    assert [(os.path.relpath(f.path.replace("file:", ""), tmp_path), f.size) for f in files] == \
        [("x/part-0.json", 2), ("x/sub/part-1.json", 3)]
    assert all(isinstance(f.mtime, int) and f.mtime > 0 for f in files)
    assert json.loads(json.dumps(files)) == [list(f) for f in files]  # the input fingerprint hashes this
    single = fs.list_files(spark, str(tmp_path / "x" / "part-0.json"))
    assert [f.size for f in single] == [2]  # a single file is its own listing
    assert fs.list_files(spark, str(tmp_path / "x"), recursive=False) == files[:1]
    # every child but checksum files, which Hadoop's local (checksum) file system never lists
    assert fs.list_names(spark, str(tmp_path / "x")) == [".hidden", "_SUCCESS", "_delta_log", "part-0.json", "sub"]
    assert fs.list_names(spark, str(tmp_path / "missing")) == []
    globbed = fs.glob_files(spark, str(tmp_path / "x" / "*.json"))
    assert [os.path.basename(g) for g in globbed] == ["part-0.json"]
    assert [os.path.basename(g) for g in fs.glob_files(spark, str(tmp_path / "x" / "sub"))] == ["part-1.json"]
    assert fs.glob_files(spark, str(tmp_path / "nothing*")) == []


def test_byte_reads(spark, tmp_path):
    raw = tmp_path / "f.bin"
    raw.write_bytes(b"PAR1 middle PAR1")
    assert fs.read_ranges(spark, str(raw), [(0, 4), (12, 4), (14, 10)]) == [b"PAR1", b"PAR1", b"R1"]
    assert fs.read_head(spark, str(raw), 3) == b"PAR"
    packed = tmp_path / "t.txt.gz"
    packed.write_bytes(gzip.compress(b"<mediawiki> siteinfo"))
    assert fs.read_head(spark, str(packed), 11, decompress=True) == b"<mediawiki>"
    assert fs.read_head(spark, str(packed), 2) == b"\x1f\x8b"  # compressed bytes without decompress
    # a Python binary stream over Hadoop: real bytes (py4j copies byte[] arguments, so a read
    # into a Java array would leave zeros), seek/tell, reads past the end stop at the end
    data = bytes(range(256)) * 40
    big = tmp_path / "big.bin"
    big.write_bytes(data)
    with fs.open_input(spark, str(big)) as stream:
        assert stream.size == len(data) and stream.read(5) == data[:5] and stream.tell() == 5
        assert stream.seek(-10, io.SEEK_END) == len(data) - 10 and stream.read(100) == data[-10:]
        assert stream.read(1) == b"" and stream.seek(300) == 300
        assert io.BufferedReader(stream, 64).read(600) == data[300:900]
    assert stream.closed


def test_rename_delete_create_new_copy(spark, tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("s")
    dst = str(tmp_path / "deep" / "er" / "dst.txt")
    fs.rename(spark, str(src), dst)  # creates the parent
    assert open(dst).read() == "s" and not src.exists()
    fs.delete(spark, str(tmp_path / "deep"))
    fs.delete(spark, str(tmp_path / "deep"))  # missing: nothing happens
    assert not (tmp_path / "deep").exists()
    marker = str(tmp_path / "m")
    assert fs.create_new(spark, marker) and not fs.create_new(spark, marker)
    local = tmp_path / "local.txt"
    local.write_text("copied")
    fs.put_file(spark, str(local), str(tmp_path / "copy.txt"))
    assert (tmp_path / "copy.txt").read_text() == "copied"


def test_output_lock_is_reentrant_per_object_and_excludes_a_second_run(spark, tmp_path):
    root = str(tmp_path / "out")
    lock_file = tmp_path / "out" / LOCK_FILE
    lock = OutputLock(spark, root, job="test")
    with lock:
        owner = json.loads(lock_file.read_text())
        assert owner["pid"] == os.getpid() and owner["job"] == "test" and owner["since"]
        with lock:  # a stage inside curate: same run, same lock
            assert lock.depth == 2
        assert lock_file.exists() and lock.depth == 1
        with pytest.raises(LockError, match="locked by another run"):
            with OutputLock(spark, root):  # another run, even in this process
                pass
        assert lock_file.exists()
    assert not lock_file.exists() and lock.depth == 0


def test_stale_lock_of_a_dead_process_is_taken_over(spark, tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    (root / LOCK_FILE).write_text(json.dumps({"host": os.uname().nodename, "pid": dead, "since": "then"}))
    with OutputLock(spark, str(root)):
        assert json.loads((root / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert not (root / LOCK_FILE).exists()
