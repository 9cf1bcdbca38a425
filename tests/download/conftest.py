"""A local image server on 127.0.0.1: good images, every kind of broken one, hostile hosts
(dripping bytes, redirect loops, empty and oversized bodies) and pixel formats img2dataset gets
wrong on its own (16-bit, EXIF-rotated), each with the 8-bit upright picture it should become."""

from __future__ import annotations

import io
import os
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image, ImageOps

# albumentations (imported by img2dataset) would look for updates on PyPI when imported
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
SLOW_SECONDS = 4.0  # the download tests use --timeout 2
LIFETIME_SECONDS = 3600  # the server shuts itself down after this, whatever happens to the tests
# (the module takes ~20 min on a loaded 2-core machine: a 900 s lifetime failed its last tests)
# url kind -> expected outcome (a download_status reason, or None for a downloaded image)
EXPECTED_REASON = {
    "img": None, "png": None, "missing": "http_404", "error": "http_500", "truncated": "decode_error",
    "html": "decode_error", "slow": "timeout", "tiny": "too_small", "optout": "opt_out",
}
DRIP_INTERVAL = 1.0  # hostile kinds send one byte per interval: under any per-operation timeout >= 2 s
DRIP_SECONDS = 120  # ... for this long (unless the client hangs up first)
BIG_BYTES = 300_000  # body of the "big" kinds (tests cap --max-image-bytes below it)
HOSTILE_REASON = {
    "drip": "timeout", "driphead": "timeout", "loop": "redirect_loop", "loop2": "redirect_loop",
    "hops": "redirect_loop", "toftp": "bad_url", "empty": "empty_body", "big": "body_too_large",
    "bignolength": "body_too_large", "hop": None,
}
# Pixel formats: served bytes and the 8-bit RGB picture the stored image must show.
PIXEL_KINDS = ("gray16", "rgb16", "i16tiff", "palette", "la", "cmyk", "exif3", "exif6", "exif8")


def _pattern(n: int, size: tuple[int, int] = (48, 32)) -> np.ndarray:
    """An RGB picture whose quadrants differ (so a rotation or mirror is visible), with noise."""
    w, h = size
    rng = np.random.default_rng(1000 + n)
    pixels = np.zeros((h, w, 3), np.int16)
    pixels[: h // 2, : w // 2] = (200, 40, 40)
    pixels[: h // 2, w // 2:] = (40, 200, 40)
    pixels[h // 2:, : w // 2] = (40, 40, 200)
    pixels[h // 2:, w // 2:] = (230, 230, 60)
    return np.clip(pixels + rng.integers(-15, 15, pixels.shape), 0, 255).astype(np.uint8)


def pixel_case(kind: str, n: int) -> tuple[bytes, np.ndarray]:
    """``(served bytes, expected 8-bit RGB picture)`` for a kind of PIXEL_KINDS.

    The expectations are computed independently of curation.download.images: 16-bit values
    v -> v / 257, alpha composited on white, Pillow's own palette/CMYK conversion and
    ``ImageOps.exif_transpose`` for orientation."""
    import cv2

    rgb = _pattern(n)
    buf = io.BytesIO()
    if kind in ("gray16", "i16tiff"):
        rng = np.random.default_rng(n)
        wide = np.clip(np.linspace(8000, 56000, 48)[None, :] + rng.normal(0, 3000, (32, 48)), 0, 65535)
        wide = wide.astype(np.uint16)
        Image.fromarray(wide).save(buf, format="PNG" if kind == "gray16" else "TIFF")  # mode I;16
        grey = np.rint(wide / 257).astype(np.uint8)
        return buf.getvalue(), np.repeat(grey[..., None], 3, axis=2)
    if kind == "rgb16":
        wide = (rgb.astype(np.uint16) * 257 + np.random.default_rng(n).integers(0, 257, rgb.shape)).astype(np.uint16)
        ok, enc = cv2.imencode(".png", np.ascontiguousarray(wide[..., ::-1]))  # OpenCV writes BGR
        assert ok
        return enc.tobytes(), np.rint(wide / 257).astype(np.uint8)
    if kind == "palette":
        im = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
        im.save(buf, format="PNG")
        return buf.getvalue(), np.asarray(im.convert("RGB"))
    if kind == "la":
        grey = np.asarray(Image.fromarray(rgb).convert("L")).astype(np.float64)
        alpha = np.tile(np.linspace(60, 255, 48)[None, :], (32, 1)).astype(np.uint8)
        Image.fromarray(np.dstack([grey.astype(np.uint8), alpha]), "LA").save(buf, format="PNG")
        a = alpha.astype(np.float64)
        flat = np.rint(np.clip(a / 255 * grey.astype(np.uint8) + 255 - a, 0, 255)).astype(np.uint8)
        return buf.getvalue(), np.repeat(flat[..., None], 3, axis=2)
    if kind == "cmyk":
        Image.fromarray(rgb).convert("CMYK").save(buf, format="JPEG", quality=95)
        return buf.getvalue(), np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    if kind.startswith("exif"):
        im = Image.fromarray(rgb)
        exif = im.getexif()
        exif[0x0112] = int(kind[4:])
        im.save(buf, format="JPEG", quality=95, exif=exif)
        return buf.getvalue(), np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
    raise ValueError(kind)


def image_bytes(n: int, fmt: str = "JPEG", size: tuple[int, int] = (48, 40)) -> bytes:
    """A deterministic picture: a colour per ``n`` with noise (so truncation really breaks it)."""
    rng = np.random.default_rng(n)
    base = np.array([(n * 67) % 256, (n * 131) % 256, (n * 29) % 256], dtype=np.int16)
    pixels = np.clip(base + rng.integers(-40, 40, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt)
    return buf.getvalue()


class ImageServer:
    """``ThreadingHTTPServer`` on 127.0.0.1 serving ``/<kind>/<n>.<ext>`` (kinds: EXPECTED_REASON)."""

    def __init__(self):
        self.hits: Counter = Counter()
        self.user_agents: set[str] = set()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def drip(self, data: bytes) -> None:
                """One byte per DRIP_INTERVAL until the client hangs up or DRIP_SECONDS pass."""
                stop = time.monotonic() + DRIP_SECONDS
                for i in range(len(data)):
                    if time.monotonic() > stop:
                        return
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    time.sleep(DRIP_INTERVAL)

            def hostile(self, kind: str, n: int) -> bool:
                """Serve a hostile kind; False if ``kind`` is not one."""
                base = f"http://127.0.0.1:{server.port}"
                if kind == "drip":  # headers at once, then the body one byte at a time
                    body = image_bytes(n)
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.drip(body)
                elif kind == "driphead":  # even the status line drips
                    self.drip(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n" + b"X-Pad: " + b"a" * 400)
                elif kind in ("loop", "loop2", "hops", "hop", "toftp"):
                    target = {"loop": f"/loop/{n}.jpg", "loop2": f"/loop2/{n + 1 if n % 2 == 0 else n - 1}.jpg",
                              "hops": f"/hops/{n + 1}.jpg", "hop": f"/img/{n}.jpg",
                              "toftp": "ftp://127.0.0.1/x.jpg"}[kind]
                    self.send_response(301)
                    self.send_header("Location", target if target.startswith("ftp") else base + target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif kind == "empty":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif kind in ("big", "bignolength"):
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    if kind == "big":
                        self.send_header("Content-Length", str(BIG_BYTES))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(b"\xff" * BIG_BYTES)
                elif kind in PIXEL_KINDS:
                    body = pixel_case(kind, n)[0]
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    return False
                return True

            def do_GET(self):  # noqa: N802 - http.server API
                with server._lock:
                    server.hits[self.path] += 1
                    server.user_agents.add(self.headers.get("User-Agent", ""))
                parts = self.path.strip("/").split("/")
                kind = parts[0] if len(parts) == 2 else "missing"
                try:
                    n = int(parts[-1].split(".")[0])
                except ValueError:
                    kind, n = "missing", 0
                try:
                    if self.hostile(kind, n):
                        return
                except OSError:  # the client hung up (deadline): nothing to do
                    return
                status, headers, body = 200, {"Content-Type": "image/jpeg"}, b""
                if kind == "img":
                    body = image_bytes(n)
                elif kind == "png":
                    body, headers["Content-Type"] = image_bytes(n, "PNG"), "image/png"
                elif kind == "truncated":
                    full = image_bytes(n)
                    body = full[: len(full) // 2]
                elif kind == "html":
                    body, headers["Content-Type"] = b"<html><body>not an image</body></html>", "text/html"
                elif kind == "slow":
                    time.sleep(SLOW_SECONDS)
                    body = image_bytes(n)
                elif kind == "tiny":
                    body = image_bytes(n, size=(8, 8))
                elif kind == "optout":
                    body, headers["X-Robots-Tag"] = image_bytes(n), "noai"
                elif kind == "error":
                    status, body = 500, b"boom"
                else:
                    status, body = 404, b"not found"
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (timeout): nothing to do
                    pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the default backlog of 5 drops connections under 16 parallel clients
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self._watchdog = threading.Timer(LIFETIME_SECONDS, self.stop)
        self._watchdog.daemon = True

    def url(self, kind: str, n: int) -> str:
        ext = "png" if kind == "png" else "jpg"
        return f"http://127.0.0.1:{self.port}/{kind}/{n}.{ext}"

    def reset(self) -> None:
        with self._lock:
            self.hits.clear()

    def start(self) -> "ImageServer":
        self._thread.start()
        self._watchdog.start()
        return self

    def stop(self) -> None:
        self._watchdog.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="package")
def image_server():
    server = ImageServer().start()
    yield server
    server.stop()
