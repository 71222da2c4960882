"""connect_analysis/_bounds.py against real loopback servers: body size, decompression
ratio, the overall deadline, and aborting a request whose server never answers."""

from __future__ import annotations

import gzip
import threading
import time

import pytest
from loopback import serve

from connect_analysis.client import Cancelled, Client
from connect_analysis.errors import ServerError


def send(h, body: bytes, headers: dict | None = None):
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)


def test_gzip_and_multi_member_gzip_bodies_decode(monkeypatch):
    data = b'{"items": [' + b",".join(b'{"n": %d}' % i for i in range(5000)) + b"]}"
    half = len(data) // 2
    two = gzip.compress(data[:half]) + gzip.compress(data[half:])
    with serve(lambda h: send(h, two, {"Content-Encoding": "gzip"})) as srv, Client(srv.url, "key-12345678") as c:
        assert c.get_json("v1/x")["items"][-1] == {"n": 4999}


def test_a_body_past_the_limit_is_refused(monkeypatch):
    monkeypatch.setenv("CONNECT_MAX_BODY_MB", "1")
    body = b'["' + b"x" * (2 << 20) + b'"]'
    with serve(lambda h: send(h, body)) as srv, Client(srv.url, "key-12345678") as c, \
            pytest.raises(ServerError, match="larger than 1 MiB"):
        c.get_json("v1/x")
    assert len(srv.requests) == 1  # not retried


def test_a_decompression_bomb_is_refused_early():
    bomb = gzip.compress(b" " * (200 << 20), compresslevel=9)  # 200 MiB from ~200 KB
    with serve(lambda h: send(h, bomb, {"Content-Encoding": "gzip"})) as srv, Client(srv.url, "key-12345678") as c, \
            pytest.raises(ServerError, match="decompression bomb"):
        c.get_json("v1/x")


def test_the_deadline_stops_a_trickling_body(monkeypatch):
    monkeypatch.setenv("CONNECT_REQUEST_DEADLINE", "1.5")

    def trickle(h):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        try:
            for _ in range(100):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.3)
        except OSError:
            pass
    t0 = time.monotonic()
    with serve(trickle) as srv, Client(srv.url, "key-12345678", timeout=(5, 30)) as c, \
            pytest.raises(ServerError, match="no complete answer within 1.5 s"):
        c.get_json("v1/x")
    assert time.monotonic() - t0 < 6


def test_cancel_stops_a_request_whose_server_never_answers():
    stop = threading.Event()
    with serve(lambda h: stop.wait(30)) as srv, Client(srv.url, "key-12345678", timeout=(5, 60)) as c:
        failed = []
        t = threading.Thread(target=lambda: failed.append(pytest.raises(Cancelled, c.get_json, "v1/x")))
        t0 = time.monotonic()
        t.start()
        time.sleep(0.5)
        c.cancel("stopped by the test")
        t.join(10)
        stop.set()
    assert not t.is_alive() and time.monotonic() - t0 < 5
    assert "stopped by the test" in str(failed[0].value)
