"""How a download run ends when it is stopped: ``wwclip-download`` in a subprocess, stuck on
dripping hosts, then Ctrl-C (a clean exit that releases the lock) or SIGKILL of the driver (no
process of the run survives it).

The two drivers (one per test) start together in one module fixture, on distinct urls: their JVM
starts and url lists overlap instead of running one after the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from curation.layout import LOCK_FILE

from .test_hostile_download import write_curated

pytest.importorskip("img2dataset")
pytestmark = pytest.mark.spark

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
START_SECONDS = 600  # two JVM starts + url lists at once on a loaded 2-core machine (339 s seen at load 20)


def start_download(server, root: str, first: int = 500) -> subprocess.Popen:
    """``python -m curation.download`` over 8 dripping urls ``drip/<first>..<first+7>`` (each would
    take minutes), in its own session (process group) as a terminal would start it."""
    urls = [server.url("drip", first + i) for i in range(8)]
    write_curated(root, urls)
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "NO_ALBUMENTATIONS_UPDATE": "1", "PYSPARK_PYTHON": sys.executable}
    cmd = [sys.executable, "-m", "curation.download", "--output", root, "--timeout", "5", "--image-deadline", "900",
           "--thread-count", "4", "--number-sample-per-shard", "4", "--master", "local[2]",
           "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=2"]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def requests_of(server, first: int) -> int:
    """Requests the server got for ``drip/<first>..<first+7>`` (one driver's urls)."""
    paths = {f"/drip/{first + i}.jpg" for i in range(8)}
    return sum(n for path, n in list(server.hits.items()) if path in paths)


def wait_for_requests(server, proc: subprocess.Popen, first: int, n: int = 2) -> None:
    stop = time.monotonic() + START_SECONDS
    while requests_of(server, first) < n:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the download ended before requesting anything (rc {proc.returncode}):\n{out}\n{err[-3000:]}")
        if time.monotonic() > stop:
            pytest.fail("no request reached the server")
        time.sleep(0.5)
    time.sleep(2)  # both shards under way


def alive(processes: list[psutil.Process]) -> list[str]:
    left = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    return left


def wait_gone(processes: list[psutil.Process], seconds: float) -> list[str]:
    stop = time.monotonic() + seconds
    while alive(processes) and time.monotonic() < stop:
        time.sleep(0.5)
    return alive(processes)


def kill_all(proc: subprocess.Popen, processes: list[psutil.Process]) -> None:
    """Test cleanup: only the processes this test started."""
    for p in [psutil.Process(proc.pid)] if proc.poll() is None else []:
        processes = processes + [p]
    for p in processes:
        try:
            p.kill()
        except psutil.Error:
            pass


KILLED, INTERRUPTED = 500, 600  # first url number of each test's driver


@pytest.fixture(scope="module")
def drivers(image_server, tmp_path_factory):
    """``{first url number: (driver, output root)}``: both drivers started at once."""
    image_server.reset()
    started = {}
    try:
        for first in (KILLED, INTERRUPTED):
            root = str(tmp_path_factory.mktemp(f"lifecycle{first}") / "out")
            started[first] = (start_download(image_server, root, first), root)
        yield started
    finally:
        for proc, _ in started.values():  # whatever a failed test left running
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.communicate()


def test_sigkill_of_the_driver_leaves_no_process_behind(image_server, drivers):
    proc, _ = drivers[KILLED]
    descendants: list[psutil.Process] = []
    try:
        wait_for_requests(image_server, proc, KILLED)
        descendants = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(p.name() for p in descendants)
        assert "java" in names and "python" in names  # the JVM and its Python workers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        assert wait_gone(descendants, 60) == []
    finally:
        kill_all(proc, descendants)
        proc.communicate()


def test_ctrl_c_releases_the_lock_and_exits_cleanly(image_server, drivers):
    proc, root = drivers[INTERRUPTED]
    descendants: list[psutil.Process] = []
    try:
        wait_for_requests(image_server, proc, INTERRUPTED)
        assert os.path.exists(os.path.join(root, LOCK_FILE))
        descendants = psutil.Process(proc.pid).children(recursive=True)
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
        out, err = proc.communicate(timeout=180)
        took = time.monotonic() - t0
        assert proc.returncode == 130, err[-3000:]
        assert "Traceback" not in err and "Py4J" not in err, err[-3000:]
        assert "interrupted: running Spark jobs cancelled" in err and "released" in err, err[-3000:]
        assert not os.path.exists(os.path.join(root, LOCK_FILE))
        assert took < 120, took
        assert wait_gone(descendants, 60) == []
    finally:
        kill_all(proc, descendants)
        if proc.poll() is None:
            proc.communicate()
