"""GET one image with a wall-clock deadline that no server can extend.

A socket timeout bounds each ``recv``, not a request: a host that sends one byte every few
seconds keeps a thread (and its shard) busy for as long as it likes. ``fetch`` bounds the whole
request — connect, TLS handshake, status line, headers, redirects and body — by an absolute
``deadline`` on the monotonic clock:

* every socket a request opens is registered with one watchdog thread per process, which shuts
  it down (``shutdown(SHUT_RDWR)``) when the deadline passes, so a blocked ``recv`` returns at
  once instead of after the next per-operation timeout;
* every socket operation also gets ``min(timeout, time left)`` as its own timeout;
* the body is read in chunks with the deadline and a size cap checked between them.

So a request ends by ``deadline`` + the watchdog's tick (0.05 s). DNS resolution
(``getaddrinfo``) cannot be interrupted from Python; it is bounded by the system resolver's own
timeouts, not by the deadline.

Failures raise ``FetchError`` whose message names the cause (``timed out``, ``redirect loop``,
``empty body``, ``body too large``); ``curation.download.reasons`` maps messages to reasons.
Only ``http`` and ``https`` are followed (urllib's default opener would also follow ``ftp`` and
open ``file:`` URLs); environment proxies are honoured as urllib does.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit

CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 10
WATCHDOG_TICK = 0.05  # seconds: the most a blocked read outlives its deadline
ALLOWED_SCHEMES = ("http", "https")


class FetchError(Exception):
    """A failed request; ``str(err)`` is the message recorded in the shard (``error_message``)."""


@dataclass(frozen=True)
class Fetched:
    """A successful response: final URL, status, headers and the whole body."""

    url: str
    status: int
    headers: Message
    body: bytes


class _Watchdog:
    """One daemon thread per process: shuts down registered sockets whose deadline has passed."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._sockets: dict[int, tuple[float, socket.socket]] = {}
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def watch(self, sock: socket.socket, deadline: float) -> int:
        with self._cond:
            self._ensure_running()
            token = next(self._ids)
            self._sockets[token] = (deadline, sock)
            heapq.heappush(self._heap, (deadline, token))
            self._cond.notify()
            return token

    def forget(self, token: int) -> None:
        with self._cond:
            self._sockets.pop(token, None)

    def _ensure_running(self) -> None:
        import os

        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            # (re)start after a fork too: threads do not survive fork
            self._heap, self._sockets, self._pid = [], {}, os.getpid()
            self._thread = threading.Thread(target=self._run, name="wwclip-fetch-watchdog", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            expired = []
            with self._cond:
                while self._heap and self._heap[0][1] not in self._sockets:
                    heapq.heappop(self._heap)  # forgotten
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    _, token = heapq.heappop(self._heap)
                    entry = self._sockets.pop(token, None)
                    if entry is not None:
                        expired.append(entry[1])
                if not expired:
                    wait = self._heap[0][0] - now if self._heap else None
                    self._cond.wait(timeout=None if wait is None else max(wait, WATCHDOG_TICK))
                    continue
            for sock in expired:
                try:  # the base-class call works on SSL sockets too, without touching TLS state
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed, or detached into an SSL socket that is watched too


_WATCHDOG = _Watchdog()
_current = threading.local()  # the deadline and watched sockets of this thread's request


def _watch(sock: socket.socket) -> socket.socket:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        _current.tokens.append(_WATCHDOG.watch(sock, deadline))
        sock.settimeout(max(0.001, min(_current.timeout, deadline - time.monotonic())))
    return sock


def _watched_connection(base):
    """``base`` (HTTP(S)Connection) whose sockets are watched from the moment TCP connects, so
    a dripping TLS handshake is cut as well as a dripping body."""

    class Watched(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            create = self._create_connection
            self._create_connection = lambda *a, **k: _watch(create(*a, **k))

        def connect(self):
            super().connect()
            _watch(self.sock)  # HTTPS: the TLS socket that replaced the raw one

    Watched.__name__ = f"Watched{base.__name__}"
    return Watched


_HTTPConnection = _watched_connection(http.client.HTTPConnection)
_HTTPSConnection = _watched_connection(http.client.HTTPSConnection)


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_HTTPSConnection, req, context=self._context)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows http(s) redirects only, at most MAX_REDIRECTS, and calls a revisited URL a loop.

    Checked in ``redirect_request``, before urllib drains the redirect's body (which could be
    endless), so the body of a redirect is never read."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        hops = getattr(req, "wwclip_hops", [req.full_url])
        scheme = urlsplit(newurl).scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise FetchError(f"redirect to a {scheme or 'relative'}: URL refused ({newurl[:200]})")
        if newurl in hops:
            raise FetchError(f"redirect loop: {' -> '.join(u[:100] for u in hops + [newurl])}"[:1000])
        if len(hops) > MAX_REDIRECTS:
            raise FetchError(f"redirect loop: more than {MAX_REDIRECTS} redirects from {hops[0][:200]}")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.wwclip_hops = hops + [newurl]
            fp.close()  # urllib would read the whole body of the redirect next
        return new


_OPENER: urllib.request.OpenerDirector | None = None


def _opener() -> urllib.request.OpenerDirector:
    """http(s) only, environment proxies, our redirect rules; shared by threads as urllib's own is."""
    global _OPENER
    if _OPENER is None:
        opener = urllib.request.OpenerDirector()
        for handler in (urllib.request.ProxyHandler(), _HTTPHandler(), _HTTPSHandler(), _RedirectHandler(),
                        urllib.request.HTTPDefaultErrorHandler(), urllib.request.HTTPErrorProcessor()):
            opener.add_handler(handler)
        _OPENER = opener
    return _OPENER


def _timed_out(deadline_seconds: float) -> FetchError:
    return FetchError(f"timed out: no complete response within the deadline of {deadline_seconds:g} s")


def fetch(url: str, *, headers: dict[str, str], timeout: float, deadline: float, max_bytes: int) -> Fetched:
    """GET ``url``; the whole body, or FetchError. ``deadline`` is absolute (``time.monotonic()``).

    ``timeout`` still bounds each socket operation (and is capped by the time left); ``max_bytes``
    caps the body (a ``Content-Length`` above it fails before reading). HTTP errors raise
    urllib's ``HTTPError`` unchanged (message ``HTTP Error <code>: ...``)."""
    budget = deadline - time.monotonic()
    if budget <= 0:
        raise _timed_out(0)
    _current.deadline, _current.timeout, _current.tokens = deadline, timeout, []
    response = None
    try:
        request = urllib.request.Request(url, headers=headers)
        try:
            response = _opener().open(request, timeout=min(timeout, budget))
            length = response.headers.get("Content-Length")
            if length and length.strip().isdigit() and int(length) > max_bytes:
                raise FetchError(f"body too large: Content-Length {int(length)} > {max_bytes} bytes")
            chunks, size = [], 0
            while True:
                if time.monotonic() >= deadline:
                    raise _timed_out(budget)
                chunk = response.read(CHUNK_BYTES)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"body too large: more than {max_bytes} bytes")
                chunks.append(chunk)
        except FetchError:
            raise
        except urllib.error.HTTPError as err:
            err.close()  # its body is never read
            if time.monotonic() >= deadline:
                raise _timed_out(budget) from None
            raise
        except (OSError, http.client.HTTPException, ValueError) as err:
            if time.monotonic() >= deadline:  # the watchdog cut the socket: whatever broke, it is the deadline
                raise _timed_out(budget) from None
            raise FetchError(str(err) or type(err).__name__) from None
        if time.monotonic() > deadline:  # a body completed just as the watchdog fired is still late
            raise _timed_out(budget)
        body = b"".join(chunks)
        if not body:
            raise FetchError("empty body: the server sent 0 bytes")
        return Fetched(url=response.geturl(), status=response.status, headers=response.headers, body=body)
    finally:
        if response is not None:
            response.close()
        for token in _current.tokens:
            _WATCHDOG.forget(token)
        _current.deadline, _current.tokens = None, []
