"""The warm Python worker daemon (curation.spark.daemon): what it loads, and that it changes no result."""

import subprocess
import sys

from curation.metadata.sources import tokenize
from curation.spark import daemon


def test_env_list_unset_empty_and_values():
    assert daemon.env_list(None, ("zh",)) == ("zh",)
    assert daemon.env_list("", ("zh",)) == ()
    assert daemon.env_list(" th, ja ,,", ()) == ("th", "ja")


def test_warm_fills_the_cache_the_workers_use_and_skips_what_cannot_load():
    tokenize.get_segmenter.cache_clear()
    assert daemon.warm(("th",), ("no_such_module_for_wwclip",)) == ["th"]
    assert tokenize.get_segmenter.cache_info().currsize == 1
    before = tokenize.get_segmenter.cache_info().hits
    assert tokenize.tokenize("สวัสดีครับ", "th") == [["สวัสดี", "ครับ"]]  # the worker's own call
    assert tokenize.get_segmenter.cache_info().hits == before + 1  # a hit: nothing loaded again


def test_warming_writes_nothing_on_stdout_where_spark_reads_the_port():
    code = ("import os, sys\n"
            "from curation.spark import daemon\n"
            "with daemon.stdout_to_stderr():\n"
            "    print('python noise'); os.write(1, b'c-level noise')\n"
            "sys.stdout.write('PORT')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "PORT"
    assert "python noise" in out.stderr and "c-level noise" in out.stderr
