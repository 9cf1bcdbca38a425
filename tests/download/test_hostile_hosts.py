"""Hostile hosts and pixel formats, without Spark: the fetcher's deadline, redirect and body rules,
the pixel normalisation and the failure reasons their messages become."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image, ImageOps

from curation.download.fetch import FetchError, fetch
from curation.download.images import inspect_header, normalise, orient, to_uint8
from curation.download.img2dataset import fetch_image
from curation.download.reasons import failure_reason

from .conftest import BIG_BYTES, DRIP_INTERVAL, HOSTILE_REASON, PIXEL_KINDS, image_bytes, pixel_case

SLACK = 1.5  # seconds a request may outlive its deadline on a loaded machine (watchdog tick is 0.05 s)


def get(server, kind: str, n: int = 0, deadline_s: float = 3.0, timeout: float = 2.0, max_bytes: int = 10**6):
    return fetch(server.url(kind, n), headers={"User-Agent": "t"}, timeout=timeout,
                 deadline=time.monotonic() + deadline_s, max_bytes=max_bytes)


@pytest.mark.parametrize("kind", ["drip", "driphead"])
def test_a_dripping_server_cannot_extend_the_deadline(image_server, kind):
    """One byte per second never trips a 2 s per-operation timeout; the 3 s deadline still ends it."""
    assert DRIP_INTERVAL < 2.0
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="timed out") as err:
        get(image_server, kind, deadline_s=3.0, timeout=2.0)
    took = time.monotonic() - t0
    assert 3.0 - 0.1 <= took <= 3.0 + SLACK, took
    assert failure_reason("failed_to_download", str(err.value)) == ("timeout", None)


def test_the_deadline_holds_for_many_parallel_drips(image_server):
    """16 threads each stuck on a dripping host all return by the deadline (one watchdog for all)."""
    results: list[float] = []

    def one(i):
        t0 = time.monotonic()
        with pytest.raises(FetchError):
            get(image_server, "drip", i, deadline_s=2.5)
        results.append(time.monotonic() - t0)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 16 and max(results) <= 2.5 + SLACK + 1.0, results


@pytest.mark.parametrize("kind", ["loop", "loop2", "hops"])
def test_redirect_loops_are_named(image_server, kind):
    with pytest.raises(FetchError, match="redirect loop") as err:
        get(image_server, kind, 2)
    assert failure_reason("failed_to_download", str(err.value)) == ("redirect_loop", None)


def test_a_redirect_is_followed_but_not_to_another_scheme(image_server):
    got = get(image_server, "hop", 5)
    assert got.body == image_bytes(5) and got.url.endswith("/img/5.jpg") and got.status == 200
    with pytest.raises(FetchError, match="URL refused") as err:
        get(image_server, "toftp")
    assert failure_reason("failed_to_download", str(err.value))[0] == "bad_url"


def test_empty_and_oversized_bodies(image_server):
    with pytest.raises(FetchError, match="empty body") as err:
        get(image_server, "empty")
    assert failure_reason("failed_to_download", str(err.value)) == ("empty_body", None)
    for kind in ("big", "bignolength"):  # refused from Content-Length, or while reading
        with pytest.raises(FetchError, match="body too large") as err:
            get(image_server, kind, max_bytes=BIG_BYTES // 2)
        assert failure_reason("failed_to_download", str(err.value)) == ("body_too_large", None)
    assert len(get(image_server, "bignolength", max_bytes=BIG_BYTES).body) == BIG_BYTES


def test_http_errors_keep_their_status(image_server):
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as err:
        get(image_server, "missing")
    assert failure_reason("failed_to_download", str(err.value)) == ("http_404", 404)


def test_fetch_image_retries_within_one_deadline_and_honours_the_shard_deadline(image_server):
    """Retries share the image's deadline; past the shard deadline nothing is requested."""
    import img2dataset.downloader  # noqa: F401 - its slow first import must not eat the deadline measured

    common = dict(timeout=2, max_bytes=10**6, user_agent_token="t", disallowed=None)
    t0 = time.monotonic()
    stream, error = fetch_image(image_server.url("drip", 7), deadline=t0 + 2.0, retries=3, shard_deadline=None,
                                **common)
    assert stream is None and error.startswith("timed out") and time.monotonic() - t0 <= 2.0 + SLACK
    image_server.reset()
    stream, error = fetch_image(image_server.url("img", 7), deadline=time.monotonic() + 5, retries=0,
                                shard_deadline=time.monotonic() - 1, **common)
    assert stream is None and failure_reason("failed_to_download", error) == ("shard_deadline", None)
    assert sum(image_server.hits.values()) == 0
    stream, error = fetch_image(image_server.url("img", 7), deadline=time.monotonic() + 5, retries=0,
                                shard_deadline=None, **common)
    assert error is None and stream.getvalue() == image_bytes(7)
    stream, error = fetch_image(image_server.url("optout", 7), deadline=time.monotonic() + 5, retries=0,
                                shard_deadline=None, **{**common, "disallowed": {"noai"}})
    assert stream is None and failure_reason("failed_to_download", error) == ("opt_out", None)


def test_failure_reasons_of_hostile_messages():
    cases = {
        "HTTP Error 301: The HTTP server returned a redirect error that would lead to an infinite loop.\n"
        "The last 30x error message was:\nMoved Permanently": ("redirect_loop", None),
        "redirect loop: http://a -> http://a": ("redirect_loop", None),
        "empty body: the server sent 0 bytes": ("empty_body", None),
        "OpenCV(4.9.0) error: (-215:Assertion failed) !buf.empty() in function 'imdecode_'": ("empty_body", None),
        "timed out: no complete response within the deadline of 30 s": ("timeout", None),
        "timed out: shard deadline passed before this image was requested": ("shard_deadline", None),
        "body too large: more than 10 bytes": ("body_too_large", None),
        "HTTP Error 301: Moved Permanently": ("http_301", 301),
    }
    for message, expected in cases.items():
        assert failure_reason("failed_to_download", message) == expected, message
    assert set(HOSTILE_REASON.values()) - {None} <= {"timeout", "redirect_loop", "bad_url", "empty_body",
                                                      "body_too_large"}


# ---------------------------------------------------------------- pixels

def test_to_uint8_keeps_the_mean_of_every_depth():
    assert to_uint8(np.array([0, 128, 129, 257, 32767, 65535], np.uint16)).tolist() == [0, 0, 1, 1, 127, 255]
    assert to_uint8(np.array([-5, 0, 65535, 70000], np.int32)).tolist() == [0, 0, 255, 255]
    assert to_uint8(np.array([-0.5, 0.0, 0.5, 1.0, 2.0, np.nan], np.float32)).tolist() == [0, 0, 128, 255, 255, 0]
    assert to_uint8(np.array([True, False])).tolist() == [255, 0]
    ramp = np.arange(0, 65536, 7, dtype=np.uint16)
    assert abs(to_uint8(ramp).mean() - ramp.mean() / 257) < 0.05
    same = np.zeros((2, 2, 3), np.uint8)
    assert to_uint8(same) is same


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orient_matches_pillow_exif_transpose(orientation):
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    im = Image.fromarray(pixels)
    exif = im.getexif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, format="PNG", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
    assert np.array_equal(orient(pixels, orientation), expected)
    assert inspect_header(buf.getvalue()).orientation == orientation


def _decoded_rgb(data: bytes) -> np.ndarray:
    import cv2

    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels.ndim == 2:
        return np.repeat(pixels[..., None], 3, axis=2)
    if pixels.shape[2] == 4:  # img2dataset's own alpha matting on white
        a = pixels[..., 3:].astype(np.float64)
        pixels = np.rint(np.clip(a / 255 * pixels[..., :3] + 255 - a, 0, 255)).astype(np.uint8)
    return pixels[..., ::-1]


@pytest.mark.parametrize("kind", PIXEL_KINDS)
def test_normalise_gives_the_expected_8bit_upright_pixels(kind):
    data, expected = pixel_case(kind, 3)
    got = _decoded_rgb(normalise(data))
    assert got.shape == expected.shape
    tolerance = 6 if kind in ("cmyk",) or kind.startswith("exif") else 1  # JPEG decoders differ slightly
    assert np.abs(got.astype(int) - expected.astype(int)).mean() <= tolerance


def test_normalise_leaves_ordinary_images_alone_and_can_ignore_orientation():
    plain = image_bytes(4)
    assert normalise(plain) is plain  # no decode, no re-encode
    png = image_bytes(4, "PNG")
    assert normalise(png) is png
    rotated, _ = pixel_case("exif6", 1)
    assert normalise(rotated, apply_orientation=False) is rotated
    assert _decoded_rgb(normalise(rotated)).shape == (48, 32, 3)
    assert normalise(b"not an image") == b"not an image"


def test_a_huge_declared_canvas_fails_before_it_is_decoded():
    """A 400-megapixel PNG of ~0.5 MB would take 400 MB to decode: refused from its header."""
    from curation.download.img2dataset import MAX_DECODE_PIXELS, _resizer_class

    bomb = io.BytesIO()
    Image.new("L", (20000, 20000)).save(bomb, format="PNG")
    assert len(bomb.getvalue()) < 1_000_000
    assert inspect_header(bomb.getvalue()).pixels >= 20000 * 20000 > MAX_DECODE_PIXELS
    resizer = _resizer_class()(exif_orientation=True, image_size=64, resize_mode="keep_ratio",
                               resize_only_if_bigger=True)
    assert resizer(io.BytesIO(bomb.getvalue()))[-1] == "image area too large"
    img, width, height, *_, error = resizer(io.BytesIO(pixel_case("exif8", 2)[0]))
    assert error is None and (width, height) == (32, 48)  # upright: 48 x 32 turned a quarter
    img, width, height, *_, error = resizer(io.BytesIO(pixel_case("gray16", 2)[0]))
    assert error is None and abs(_decoded_rgb(img).mean() - pixel_case("gray16", 2)[1].mean()) < 1.5


# ---------------------------------------------------------------- stopping a run

class _FakeSpark:
    """Counts cancelAllJobs calls (the real one is exercised by test_lifecycle in a subprocess)."""

    def __init__(self):
        self.cancels = 0
        self.sparkContext = self

    def cancelAllJobs(self):  # noqa: N802 - pyspark's name
        self.cancels += 1


def test_sigterm_cancels_the_run_and_waits_for_its_cleanup():
    import os
    import signal

    from curation.download.lifecycle import Interrupted, run_interruptibly

    spark, cleaned = _FakeSpark(), []

    def run(cancel):
        try:
            while not cancel.wait(0.05):
                pass
            time.sleep(0.6)  # slow cleanup (lock release): the caller must wait for it
        finally:
            cleaned.append(True)
        return "finished"

    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    with pytest.raises(Interrupted) as err:
        run_interruptibly(spark, run, grace_seconds=10)
    assert err.value.released and cleaned == [True] and spark.cancels >= 1
    assert signal.getsignal(signal.SIGTERM) is not None  # the previous handler is back
    assert run_interruptibly(spark, lambda cancel: "done") == "done"
    with pytest.raises(ValueError):
        run_interruptibly(spark, lambda cancel: int("x"))


def test_an_interrupted_run_that_does_not_stop_says_so():
    import os
    import signal

    from curation.download.cli import interrupted_message
    from curation.download.lifecycle import Interrupted, run_interruptibly

    hang = threading.Event()
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    with pytest.raises(Interrupted) as err:
        run_interruptibly(_FakeSpark(), lambda cancel: hang.wait(30), grace_seconds=1)
    hang.set()
    assert err.value.released is False
    message = interrupted_message("/o", released=False)
    assert "/o/_LOCK may remain" in message and f"pid {os.getpid()}" in message and "delete /o/_LOCK" in message
    assert "/o/_LOCK released" in interrupted_message("/o", released=True)
