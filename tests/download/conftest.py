"""A local image server on 127.0.0.1 (good images and every kind of broken one) and curation
outputs whose URLs point at it."""

from __future__ import annotations

import io
import os
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

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
