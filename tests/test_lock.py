"""The output lock (issue 16, item 3): created if absent with its content in one step (never
empty, never missing while held), one winner when runs race, stale and empty locks
recoverable (``--break-lock``), and checked before the JVM starts for a local output."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from curation.layout import LOCK_FILE
from curation.spark.lock import LockError, OutputLock, acquire_lock, owner, release_lock


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def _write_lock(root, holder) -> None:
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, LOCK_FILE), "w") as f:
        f.write(holder if isinstance(holder, str) else json.dumps(holder))


def test_a_second_run_is_refused_and_the_lock_names_its_holder(tmp_path):
    root = str(tmp_path / "out")
    with OutputLock(None, root, job="first") as lock:
        held = json.loads(open(os.path.join(root, LOCK_FILE)).read())
        assert held["pid"] == os.getpid() and held["job"] == "first" and held["token"] == lock.owner["token"]
        with pytest.raises(LockError, match=r"locked by another run \(host .*pid %d" % os.getpid()):
            with OutputLock(None, root):
                pass
    assert not os.path.exists(os.path.join(root, LOCK_FILE))


def test_the_lock_is_never_seen_empty_or_missing_while_it_is_taken_and_held(tmp_path):
    """A watcher reads the lock file without pause while it is taken: from the first time it
    exists until release it holds the whole owner record (the old lock was created empty, then
    deleted and renamed into place)."""
    root = str(tmp_path / "out")
    os.makedirs(root)
    path = os.path.join(root, LOCK_FILE)
    seen: list[bytes | None] = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            try:
                with open(path, "rb") as f:
                    seen.append(f.read())
            except FileNotFoundError:
                seen.append(None)

    for _ in range(20):
        seen.clear()
        done.clear()
        watcher = threading.Thread(target=watch)
        watcher.start()
        me = owner(job="watched")
        acquire_lock(None, root, me)
        deadline = time.time() + 5
        while not any(s is not None for s in seen) and time.time() < deadline:
            time.sleep(0.001)  # until the watcher has seen the held lock
        done.set()
        watcher.join()
        first = next(i for i, s in enumerate(seen) if s is not None)
        assert all(s is not None and json.loads(s)["token"] == me["token"] for s in seen[first:])
        release_lock(None, root, me)


def _contend(root: str, barrier, results, break_lock: bool = False) -> None:
    barrier.wait()
    try:
        acquire_lock(None, root, owner(job="racer"), break_lock)
        results.put(os.getpid())
        time.sleep(1.0)  # hold it while the others try
    except LockError:
        results.put(None)


@pytest.mark.parametrize("stale", [False, True])
def test_racing_runs_one_wins(tmp_path, stale):
    root = str(tmp_path / "race")
    if stale:  # all racers find a dead process's lock and try to take it over at once
        _write_lock(root, {"host": socket.gethostname(), "pid": _dead_pid(), "since": "then"})
    ctx = multiprocessing.get_context("fork")
    n = 8
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(root, barrier, results)) for _ in range(n)]
    for p in procs:
        p.start()
    winners = [r for r in (results.get(timeout=60) for _ in range(n)) if r is not None]
    for p in procs:
        p.join(timeout=60)
    assert len(winners) == 1


def test_a_dead_process_lock_is_taken_over(tmp_path):
    root = str(tmp_path / "out")
    _write_lock(root, {"host": socket.gethostname(), "pid": _dead_pid(), "since": "then"})
    with OutputLock(None, root) as lock:
        assert json.loads(open(os.path.join(root, LOCK_FILE)).read())["token"] == lock.owner["token"]
    assert os.listdir(root) == []  # nothing left aside


@pytest.mark.parametrize("content,message", [
    ("", "is empty: a run crashed while taking it"),
    ("{not json", "is unreadable"),
    (json.dumps({"host": "another-host.example", "pid": 1, "since": "then"}), "locked by another run on another host"),
])
def test_empty_unreadable_or_foreign_locks_need_break_lock(tmp_path, content, message):
    root = str(tmp_path / "out")
    _write_lock(root, content)
    with pytest.raises(LockError, match=message) as err:
        acquire_lock(None, root, owner())
    assert "--break-lock" in str(err.value)
    assert open(os.path.join(root, LOCK_FILE)).read() == content  # refused: left as it was
    with OutputLock(None, root, break_lock=True) as lock:
        assert json.loads(open(os.path.join(root, LOCK_FILE)).read())["token"] == lock.owner["token"]
    assert not os.path.exists(os.path.join(root, LOCK_FILE))


def test_release_leaves_a_lock_that_another_run_has_taken(tmp_path):
    root = str(tmp_path / "out")
    first = owner(job="first")
    acquire_lock(None, root, first)
    second = owner(job="second")
    acquire_lock(None, root, second, break_lock=True)  # the first run's lock broken by hand
    release_lock(None, root, first)  # the first run ends: must not remove the second's lock
    assert json.loads(open(os.path.join(root, LOCK_FILE)).read())["token"] == second["token"]
    release_lock(None, root, second)
    assert not os.path.exists(os.path.join(root, LOCK_FILE))


def test_the_cli_refuses_a_locked_local_output_before_starting_the_jvm(tmp_path):
    root = str(tmp_path / "out")
    holder = owner(job="test-holder")
    acquire_lock(None, root, holder)
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    env.pop("PYSPARK_GATEWAY_PORT", None)
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "curation", "curate", "--output", root, "--quiet"], env=env,
                          capture_output=True, text=True, timeout=300)
    elapsed = time.time() - t0
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "locked by another run" in proc.stderr and "--break-lock" in proc.stderr
    assert "Spark" not in proc.stderr and "Ivy" not in proc.stderr  # no JVM was started
    assert elapsed < 60  # a JVM start alone takes ~20 s here; without one, a second or two
    assert json.loads(open(os.path.join(root, LOCK_FILE)).read())["token"] == holder["token"]


@pytest.mark.spark
def test_the_lock_through_hadoop_is_exclusive_and_recovers_a_dead_holder(spark, tmp_path):
    """Outputs on HDFS, S3 or DBFS are locked through Hadoop's FileSystem (here: a local path
    forced through it)."""
    root = str(tmp_path / "hadoop")
    me = owner(job="hadoop")
    acquire_lock(spark, root, me, local=False)
    assert json.loads(open(os.path.join(root, LOCK_FILE)).read())["token"] == me["token"]
    with pytest.raises(LockError, match="locked by another run"):
        acquire_lock(spark, root, owner(), local=False)
    release_lock(spark, root, me, local=False)
    _write_lock(root, {"host": socket.gethostname(), "pid": _dead_pid(), "since": "then"})
    other = owner()
    acquire_lock(spark, root, other, local=False)
    assert json.loads(open(os.path.join(root, LOCK_FILE)).read())["token"] == other["token"]
    _write_lock(root, "")
    with pytest.raises(LockError, match="--break-lock"):
        acquire_lock(spark, root, owner(), local=False)
    release_lock(spark, root, local=False)
