"""Bounded work per request: a body-size cap, a decompression-ratio cap (gzip bombs), and an
overall deadline (a server that sends one byte every few seconds never trips a read
timeout). Also the means to stop every request in flight at once (Ctrl-C, SIGTERM, a
fatal error elsewhere), even one whose server never answers.

    CONNECT_MAX_BODY_MB        largest body of one response, decoded (default 256)
    CONNECT_REQUEST_DEADLINE   seconds one request may take in all, connect to last byte (default 600)

Every connection a Client's adapter opens is watched while a request uses it: when the
request's deadline passes, or the client aborts, its socket is shut down, which wakes a
thread blocked on it at once.
"""

from __future__ import annotations

import heapq
import os
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import ConfigError

READ_CHUNK = 1 << 20
RATIO_FLOOR = 16 << 20  # bodies smaller than this are never refused for their ratio
MAX_RATIO = 200  # JSON compresses 5-30x; a bomb 1000x


class BodyRefused(Exception):
    """A body larger than allowed, or decompressing far beyond its size on the wire."""


class DeadlineExceeded(Exception):
    """The request took longer than its overall deadline."""


class Aborted(Exception):
    """The request was stopped because its client was aborted."""


@dataclass(frozen=True)
class Limits:
    max_body: int = 256 << 20
    deadline: float = 600.0

    @classmethod
    def from_env(cls) -> Limits:
        return cls(max_body=int(_positive("CONNECT_MAX_BODY_MB", 256) * (1 << 20)),
                   deadline=_positive("CONNECT_REQUEST_DEADLINE", 600))


def _positive(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return float(default)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1e9:
        raise ConfigError(f"{name} must be a positive number, got {text!r}")
    return value


# --- reading a body ------------------------------------------------------------------------

def read_body(response: requests.Response, limits: Limits) -> bytes:
    """The whole body of a streamed response, decoded (gzip, deflate); BodyRefused past the
    limits. Transport failures are raised as requests' exceptions, as iter_content does."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    try:
        wire = response.raw.stream(READ_CHUNK, decode_content=False)
        if encoding in ("gzip", "x-gzip", "deflate"):
            return _join(_inflate(wire, encoding, limits), limits.max_body)
        if encoding not in ("", "identity"):
            raise BodyRefused(f"an unsupported Content-Encoding ({encoding[:40]})")
        return _join(wire, limits.max_body)
    except urllib3.exceptions.SSLError as e:
        raise requests.exceptions.SSLError(e) from None
    except urllib3.exceptions.ReadTimeoutError as e:
        raise requests.exceptions.ConnectionError(e) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError, OSError) as e:
        raise requests.exceptions.ChunkedEncodingError(e) from None


def _join(chunks: Iterator[bytes], max_body: int) -> bytes:
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_body:
            raise BodyRefused(f"a body larger than {max_body >> 20} MiB (CONNECT_MAX_BODY_MB)")
        parts.append(chunk)
    return b"".join(parts)


def _inflate(wire: Iterator[bytes], encoding: str, limits: Limits) -> Iterator[bytes]:
    decoder, used, out = None, 0, 0  # used: compressed bytes consumed so far
    for chunk in wire:
        if decoder is None:  # "deflate" is zlib-wrapped by the standard, raw by some servers
            raw = encoding == "deflate" and chunk[:1] != b"\x78"
            decoder = zlib.decompressobj(-zlib.MAX_WBITS if raw else (16 if "gzip" in encoding else 0)
                                         + zlib.MAX_WBITS)
        data = chunk
        while data:
            try:
                piece = decoder.decompress(data, READ_CHUNK)
            except zlib.error as e:
                raise urllib3.exceptions.DecodeError(f"a broken {encoding} body: {e}") from None
            used += len(data) - len(decoder.unconsumed_tail) - len(decoder.unused_data)
            out += len(piece)
            if out > RATIO_FLOOR and out > MAX_RATIO * used:
                raise BodyRefused(f"a {encoding} body that decompresses more than {MAX_RATIO} times its size "
                                  "(a decompression bomb)")
            yield piece
            data = decoder.unconsumed_tail
            if decoder.eof:  # gzip may hold several members, one after another
                data = decoder.unused_data
                decoder = zlib.decompressobj(16 + zlib.MAX_WBITS) if data else decoder
    if decoder is not None:
        yield decoder.flush()


# --- deadlines and aborting ----------------------------------------------------------------

@dataclass(eq=False)
class _Watch:
    owner: object
    deadline: float
    connections: list = field(default_factory=list)
    expired: bool = False
    aborted: bool = False
    done: bool = False


class _Watchdog:
    """One thread for the process: shuts down the sockets of requests past their deadline."""

    def __init__(self):
        self._lock = threading.Condition()
        self._by_thread: dict[int, _Watch] = {}
        self._heap: list[tuple[float, int, _Watch]] = []
        self._thread: threading.Thread | None = None

    def begin(self, owner, seconds: float) -> _Watch:
        watch = _Watch(owner, time.monotonic() + seconds)
        with self._lock:
            self._by_thread[threading.get_ident()] = watch
            earliest = not self._heap or watch.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (watch.deadline, id(watch), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            if earliest:  # else the watchdog already wakes up sooner than this deadline
                self._lock.notify()
        return watch

    def end(self, watch: _Watch) -> None:
        with self._lock:
            if self._by_thread.get(threading.get_ident()) is watch:
                del self._by_thread[threading.get_ident()]
            watch.connections.clear()
            watch.done = True

    def using(self, connection) -> None:
        """The calling thread's request uses `connection` (called as it connects and sends)."""
        with self._lock:
            watch = self._by_thread.get(threading.get_ident())
            if watch is not None and connection not in watch.connections:
                watch.connections.append(connection)
                if watch.aborted or watch.expired:
                    _shut(connection)

    def abort(self, owner) -> None:
        """Stop every request of `owner` in flight now."""
        with self._lock:
            for watch in self._by_thread.values():
                if watch.owner is owner:
                    watch.aborted = True
                    for c in watch.connections:
                        _shut(c)

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if len(self._heap) > 4096:  # many finished requests behind a long one
                    self._heap = [e for e in self._heap if not e[2].done]
                    heapq.heapify(self._heap)
                wait = self._heap[0][0] - time.monotonic() if self._heap else 60.0
                if wait > 0:
                    self._lock.wait(min(wait, 60.0))
                    continue
                _, _, watch = heapq.heappop(self._heap)
                watch.expired = True
                for c in watch.connections:
                    _shut(c)


def _shut(connection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    try:  # the plain socket's shutdown, also for TLS: wakes a thread blocked reading it
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


WATCHDOG = _Watchdog()


class watch:  # noqa: N801 - used as a context manager, like open()
    """While a request runs: its deadline, and abort() reaching it. On the way out a
    failure caused by either is raised as DeadlineExceeded or Aborted."""

    def __init__(self, owner, seconds: float):
        self.owner, self.seconds = owner, seconds

    def __enter__(self) -> _Watch:
        self.state = WATCHDOG.begin(self.owner, self.seconds)
        return self.state

    def __exit__(self, kind, exc, tb) -> None:
        WATCHDOG.end(self.state)
        if kind is not None and issubclass(kind, Exception):
            if self.state.aborted:
                raise Aborted("stopped") from None
            if self.state.expired:
                raise DeadlineExceeded(f"no complete answer within {self.seconds:g} s") from None


class _Watched:
    """Tells the watchdog which connection the calling thread's request uses."""

    def connect(self):
        WATCHDOG.using(self)
        super().connect()
        WATCHDOG.using(self)

    def request(self, *args, **kw):
        WATCHDOG.using(self)
        return super().request(*args, **kw)


class _WatchedHTTP(_Watched, HTTPConnection):
    pass


class _WatchedHTTPS(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTP


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPS


class WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections the watchdog can shut down."""

    def init_poolmanager(self, *args, **kw):
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def proxy_manager_for(self, proxy, **kw):
        manager = super().proxy_manager_for(proxy, **kw)
        manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
        return manager


class aborting:  # noqa: N801 - a context manager
    """On any exception (Ctrl-C, SIGTERM, an error) leaving the block: cancel the client, so
    every request of it in flight stops at once and the threads waiting on them return."""

    def __init__(self, client):
        self.client = client

    def __enter__(self):
        return self.client

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None:
            self.client.cancel("the fetch stopped")
