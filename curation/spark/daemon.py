"""Spark's Python worker daemon, with the per-process set-up of the word segmenters done once.

Spark forks every Python worker of an executor from one daemon process (``pyspark.daemon``)
and kills a worker that has waited idle for one minute (``PythonWorkerFactory``; the minute
is not configurable), so the next Python task forks a fresh one. A module-level cache in a
worker (``functools.cache`` on ``tokenize.get_segmenter`` and on the tokenizer's character
tables) therefore lasts only until the next pause between two Python steps, and each of the
``local[N]`` workers pays it again: in a RealSyn run on 2 cores that was 2 workers x every
Python stage, each paying ~10 s on a quiet machine and 25-35 s on a loaded one (the PyThaiNLP
trie, the jieba dictionary unmarshal, MeCab, the tokenizer's Unicode tables).

This module is an opt-in drop-in daemon (``spark.python.daemon.module``, :data:`DAEMON_CONF`;
``--conf spark.python.daemon.module=curation.spark.daemon``) that
builds those caches *before* the first fork: every worker then inherits them (copy-on-write;
plain Python objects and MeCab's read-only dictionary, no thread started), so they are built
once per executor. What is built: the modules of ``$WWCLIP_WARM_MODULES`` are imported
(default :data:`DEFAULT_MODULES`: the CLIP loader, i.e. torch, torchvision and open_clip, whose
import alone took 50-115 s per worker on the loaded 2-core machine), the tokenizer's character
tables built, and the segmenters of the languages in ``$WWCLIP_WARM_SEGMENTERS`` loaded
(comma-separated metadata language codes, default :data:`DEFAULT_LANGUAGES`); an empty
variable warms nothing of its kind. A segmenter that cannot be loaded (package missing)
is skipped here; the worker that needs it reports the error as before. The warmed state is
then ``gc.freeze()``-d: a worker runs ``gc.collect()`` after every task, which would otherwise
walk (and so copy) all of it. The results of the workers are unchanged: the same functions,
built in another process.

Trade-off (measured, ``benchmarks/realsyn/RESULTS.md``): the warm-up runs once but serially,
before the first Python task (15-20 s on a quiet 2-core machine), where the plain daemon's
workers load in parallel; a small run on a quiet machine is therefore slower, a 100k-document
run unchanged within noise; it pays off where workers are forked again and again (the idle
kill between Python stages, loaded machines, long runs).
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys

DAEMON_MODULE = "curation.spark.daemon"
DAEMON_CONF = {"spark.python.daemon.module": DAEMON_MODULE}
LANGUAGES_ENV = "WWCLIP_WARM_SEGMENTERS"
DEFAULT_LANGUAGES = ("zh", "ja", "th")
MODULES_ENV = "WWCLIP_WARM_MODULES"
# torch + open_clip (via the exported-model loader): 10 s quiet, 50-60 s loaded, per import.
DEFAULT_MODULES = ("open_clip", "training.model")
WARM_TEXT = "warm ภาษาไทย 中文 日本語"


def env_list(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated environment value as a tuple (unset: ``default``; empty: none)."""
    if value is None:
        return default
    return tuple(item.strip() for item in value.split(",") if item.strip())


def warm(languages: tuple[str, ...], modules: tuple[str, ...] = ()) -> list[str]:
    """Import ``modules``, build the tokenizer tables and the segmenters of ``languages`` in
    this process; returns what loaded (a module or segmenter that fails is left to the worker,
    which raises its own error when it needs it)."""
    import importlib

    from curation.metadata.sources import tokenize

    loaded = []
    for module in modules:
        try:
            importlib.import_module(module)  # imports only: no thread pool starts before the fork
            loaded.append(module)
        except Exception:  # noqa: BLE001
            continue
    tokenize.tokenize("warm", "en")  # the character tables every language uses
    for lang in languages:
        try:
            # through tokenize itself: the same get_segmenter cache key as the workers' calls,
            # and PyThaiNLP builds its dictionary trie on the first text it cuts
            tokenize.tokenize(WARM_TEXT, tokenize.normalize_lang(lang))
            loaded.append(lang)
        except Exception:  # noqa: BLE001 - missing package: the worker raises its own clear error
            continue  # functools.cache keeps no failed call: the worker tries again
    return loaded


@contextlib.contextmanager
def stdout_to_stderr():
    """File descriptor 1 points at stderr inside the block (Python prints and C libraries alike):
    the daemon tells Spark its port on stdout, so nothing else may be written there."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def main() -> None:
    with stdout_to_stderr():
        warm(env_list(os.environ.get(LANGUAGES_ENV), DEFAULT_LANGUAGES),
             env_list(os.environ.get(MODULES_ENV), DEFAULT_MODULES))
    # A worker runs gc.collect() after every task: without the freeze each collection would walk
    # (and so copy-on-write) the whole inherited state, dictionaries and torch modules alike.
    gc.collect()
    gc.freeze()
    from pyspark import daemon

    daemon.manager()


if __name__ == "__main__":
    # ``python -m curation.spark.daemon [pyspark.worker]``: pyspark.daemon reads the worker
    # module from argv at import, as when Spark starts it as ``-m pyspark.daemon``.
    sys.exit(main())
