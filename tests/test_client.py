"""The client against real loopback HTTP servers: auth, retries, redirects, typed errors."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from loopback import self_signed, serve

from connect_analysis import client as client_mod
from connect_analysis.client import Client, Version, normalize_server
from connect_analysis.errors import (
    AuthError,
    ConfigError,
    NotConnectError,
    NotFoundError,
    PermissionError_,
    ServerError,
    UnreachableError,
    UnsupportedError,
)

KEY = "s3cret-key-0123456789"


def fast(url, **kw):
    """A client with tiny backoff so retry tests stay fast."""
    return Client(url, KEY, backoff=0.01, max_backoff=0.05, **kw)


def flaky(failures: list, final=({"ok": True}, 200)):
    """A route that plays `failures` (callables on the handler) in turn, then answers `final`."""
    state = {"n": 0}

    def route(h):
        i = state["n"]
        state["n"] += 1
        if i < len(failures):
            failures[i](h)
        else:
            h.send_json(final[0], final[1])
    return route


def status(code, headers=None, body=None):
    return lambda h: h.send_json(body or {"code": 0, "error": "busy", "payload": None}, code, headers)


def drop(h):
    h.close_connection = True  # no response at all: the client sees the connection closed


def cut_short(h):
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "200")
    h.end_headers()
    h.wfile.write(b'{"results": [1, 2')
    h.wfile.flush()
    h.close_connection = True


def cut_short_no_length(h):
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.write(b'{"results": [1, 2')
    h.close_connection = True


# --- configuration ---------------------------------------------------------------------


def test_config_is_read_from_the_environment_when_built(monkeypatch):
    monkeypatch.setenv("CONNECT_SERVER", "https://connect.example.com/__api__/")
    monkeypatch.setenv("CONNECT_API_KEY", KEY)
    monkeypatch.delenv("CONNECT_CA_CERTIFICATE", raising=False)
    monkeypatch.delenv("CONNECT_INSECURE", raising=False)
    c = Client()
    assert c.server == "https://connect.example.com"
    assert c.url("v1/content") == "https://connect.example.com/__api__/v1/content"
    assert c.session.verify is True  # TLS verified by default
    assert KEY not in repr(c) and KEY not in repr(c._auth)


def test_insecure_and_ca_certificate(monkeypatch, tmp_path):
    monkeypatch.setenv("CONNECT_INSECURE", "true")
    assert Client("https://c.example", KEY).session.verify is False
    monkeypatch.setenv("CONNECT_INSECURE", "maybe")
    with pytest.raises(ConfigError, match="CONNECT_INSECURE"):
        Client("https://c.example", KEY)
    monkeypatch.delenv("CONNECT_INSECURE")
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    monkeypatch.setenv("CONNECT_CA_CERTIFICATE", str(ca))
    assert Client("https://c.example", KEY).session.verify == str(ca)
    monkeypatch.setenv("CONNECT_CA_CERTIFICATE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match="not a file"):
        Client("https://c.example", KEY)


@pytest.mark.parametrize("url, message", [
    ("", "CONNECT_SERVER"), ("connect.example.com", "http"), ("ftp://x", "http"),
    ("https://user:pw@c.example", "credentials"),
])
def test_bad_server_urls(url, message):
    with pytest.raises(ConfigError, match=message):
        normalize_server(url)


def test_missing_key(monkeypatch):
    monkeypatch.delenv("CONNECT_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="CONNECT_API_KEY"):
        Client("https://c.example")


def test_versions_compare_as_numbers():
    assert Version.parse("2024.11.0").at_least("2024.9.0")
    assert not Version.parse("2024.09.0").at_least("2024.11.0")
    assert Version.parse("2023.11.0-dev+103-g11242ee129").parts == (2023, 11, 0)
    assert Version.parse("") is None and Version.parse(None) is None


# --- requests ---------------------------------------------------------------------------


def test_sends_key_header_and_only_gets():
    with serve(lambda h: h.send_json({"version": "2024.09.0"})) as srv:
        with fast(srv.url) as c:
            assert c.server_settings() == {"version": "2024.09.0"}
            assert c.get_json("v1/content", {"include": "tags"}) == {"version": "2024.09.0"}
    methods = {m for m, _, _ in srv.requests}
    assert methods == {"GET"}
    assert srv.requests[0][1] == "/__api__/server_settings"
    assert srv.requests[1][1] == "/__api__/v1/content?include=tags"
    assert all(h["Authorization"] == f"Key {KEY}" for _, _, h in srv.requests)


@pytest.mark.parametrize("failure", [status(503), status(502), status(504), drop, cut_short,
                                     cut_short_no_length], ids=["503", "502", "504", "drop", "cut", "cut-no-length"])
def test_transient_failures_are_retried(failure):
    with serve(flaky([failure, failure])) as srv, fast(srv.url) as c:
        assert c.get_json("v1/x") == {"ok": True}
        assert c.retry_count == 2
    assert len(srv.requests) == 3


def test_429_honours_retry_after():
    with serve(flaky([status(429, {"Retry-After": "1"})])) as srv, fast(srv.url) as c:
        t0 = time.monotonic()
        assert c.get_json("v1/x") == {"ok": True}
        assert time.monotonic() - t0 >= 0.95  # backoff alone would be ~0.01 s
    assert len(srv.requests) == 2


def stall(h):
    time.sleep(1.0)  # longer than the client's read timeout below
    try:
        h.send_json({"late": True})
    except OSError:
        pass  # the client has hung up


def test_a_stalled_response_times_out_and_is_retried():
    with serve(flaky([stall])) as srv, fast(srv.url, timeout=(2.0, 0.3)) as c:
        t0 = time.monotonic()
        assert c.get_json("v1/x") == {"ok": True}
        assert c.retry_count == 1 and time.monotonic() - t0 < 0.9  # gave up on the stall, did not wait it out
    with serve(stall) as srv, fast(srv.url, timeout=(2.0, 0.3), retries=1) as c:
        with pytest.raises(UnreachableError, match="timed out"):
            c.get_json("v1/x")
    assert len(srv.requests) == 2


def test_requests_in_flight_are_bounded():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    lock, now, peak = threading.Lock(), [0], [0]

    def slow(h):
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.1)
        with lock:
            now[0] -= 1
        h.send_json({"ok": True})

    with serve(slow) as srv, fast(srv.url, max_in_flight=3) as c, ThreadPoolExecutor(12) as pool:
        assert list(pool.map(lambda i: c.get_json(f"v1/content/{i}/bundles"), range(12))) == [{"ok": True}] * 12
    assert peak[0] == 3  # in parallel, but never more than max_in_flight


def test_retries_exhausted_is_a_server_error():
    with serve(lambda h: status(503)(h)) as srv, fast(srv.url, retries=3) as c:
        with pytest.raises(ServerError) as err:
            c.get_json("v1/content")
    assert len(srv.requests) == 4
    assert err.value.status == 503 and "/v1/content" in str(err.value) and "try again" in str(err.value)


def test_connection_refused_is_unreachable():
    with serve(lambda h: h.send_json({})) as srv:
        url = srv.url
    with fast(url, retries=1) as c, pytest.raises(UnreachableError, match="connection refused"):
        c.get_json("v1/content")


@pytest.mark.parametrize("code, body, ctype, error, words", [
    (401, '{"code":30,"error":"Invalid login.","payload":null}', "application/json", AuthError, "CONNECT_API_KEY"),
    (403, '{"code":22,"error":"You don\'t have permission","payload":null}', "application/json",
     PermissionError_, "administrator"),
    (404, "404 page not found", "text/plain", UnsupportedError, "too old"),
    (404, '{"code":4,"error":"The requested object does not exist.","payload":null}', "application/json",
     NotFoundError, "not found"),
])
def test_error_responses_become_typed_errors(code, body, ctype, error, words):
    with serve(lambda h: h.send_text(body, code, ctype)) as srv, fast(srv.url) as c:
        with pytest.raises(error) as err:
            c.get_json("v1/vanities")
    e = err.value
    assert e.status == code and words in str(e) and "/v1/vanities" in (e.url or "")
    assert KEY not in str(e)
    assert len(srv.requests) == 1  # not retried
    if body.startswith("{"):
        assert e.code == int(body.split(":")[1].split(",")[0])


def test_not_a_connect_server():
    with serve(lambda h: h.send_text("<!DOCTYPE html><html>login</html>", 200, "text/html")) as srv:
        with fast(srv.url) as c, pytest.raises(NotConnectError, match="not a Posit Connect server"):
            c.get_json("v1/content")
    with serve(lambda h: h.send_text("404 page not found", 404)) as srv:
        with fast(srv.url) as c, pytest.raises(NotConnectError, match="server_settings gave HTTP 404"):
            c.server_settings()


def test_redirect_to_another_host_does_not_carry_the_key():
    with serve(lambda h: h.send_json({"from": "other"}), host="localhost") as other:
        def route(h):
            if h.path.startswith("/__api__/v1/same"):
                h.send_text("", 302, headers={"Location": "/__api__/v1/final"})
            elif h.path.startswith("/__api__/v1/final"):
                h.send_json({"from": "same"})
            else:
                h.send_text("", 302, headers={"Location": other.url + "/elsewhere"})
        with serve(route) as srv, fast(srv.url) as c:
            assert c.get_json("v1/same") == {"from": "same"}
            assert c.get_json("v1/away") == {"from": "other"}
    assert [h.get("Authorization") for _, _, h in srv.requests] == [f"Key {KEY}"] * 3
    assert len(other.requests) == 1
    assert "Authorization" not in other.requests[0][2]
    assert KEY not in str(other.requests)


def test_redirect_to_another_port_does_not_carry_the_key():
    with serve(lambda h: h.send_json({}, 401)) as other:
        with serve(lambda h: h.send_text("", 307, headers={"Location": other.url + "/x"})) as srv:
            with fast(srv.url) as c, pytest.raises(ConfigError, match="not sent there"):
                c.get_json("v1/content")
    assert "Authorization" not in other.requests[0][2]


def test_the_key_is_in_no_log_line(caplog):
    caplog.set_level(logging.DEBUG)
    with serve(flaky([status(503), status(401)])) as srv, fast(srv.url) as c:
        with pytest.raises(AuthError):
            c.get_json("v1/user")
    assert "GET" in caplog.text and "503" in caplog.text
    assert KEY not in caplog.text


def test_tls_is_verified_and_a_ca_bundle_is_used(tmp_path):
    """A self-signed loopback HTTPS server: refused by default, accepted with its CA."""
    cert, key = self_signed(tmp_path, days=1)
    with serve(lambda h: h.send_json({"version": "2025.01.0"}), tls=(cert, key)) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        with Client(srv.url, KEY, retries=0) as c, pytest.raises(UnreachableError, match="CONNECT_CA_CERTIFICATE"):
            c.server_settings()
        with Client(srv.url, KEY, ca_certificate=str(cert)) as c:
            assert c.server_settings()["version"] == "2025.01.0"
        with Client(srv.url, KEY, insecure=True) as c:
            assert c.server_settings()["version"] == "2025.01.0"


def test_module_reads_no_environment_at_import():
    src = Path(client_mod.__file__).read_text()
    top = src.split("class Client")[0]
    assert "os.environ" not in top.split("def _env_flag")[0]
