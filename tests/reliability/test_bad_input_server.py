"""The bad-input matrix, the server's rows (the URL, its answers, the key, its version) and a
fetch interrupted; the other rows: test_bad_input_disk.py, test_bad_input_snapshot.py.
Each runs the real CLI in a subprocess and asserts one clear line on stderr, a non-zero exit
where the command cannot do its job, no traceback, and nothing lost: the snapshot already in
the target directory is byte-identical afterwards, with no temporary directory left beside it.

Rows whose server keeps failing are retried by the kit for about a minute before it gives
up; those commands start together in the background (`slow_rows`) and their tests collect
the results, so the matrix costs one such minute, not four.
"""

from __future__ import annotations

import contextlib
import html
import json
import shutil
import signal
import socket
import time

import odd_servers as odd
import pytest
from hostile import intact
from loopback import serve
from rel_suite import (
    FIGURES,
    KEY,
    SINCE,
    Kit,
    assert_one_line,
    check_get_only,
    fetch_into,
    tree_hash,
)

SLOW = {  # row -> the server's behaviour; every request fails the same way, for ever
    "malformed-json": odd.malformed_json,
    "truncated-body": odd.truncated,
    "proxy-502-html": odd.proxy_502,
    "503-for-ever": odd.always(503),
}


@pytest.fixture(scope="session")
def slow_rows(clean_snapshot, tmp_path_factory):
    """Start every slow row's fetch at once; yields {row: (kit, snapshot dir, hashes, proc, t0, server)}."""
    rows = {}
    with contextlib.ExitStack() as stack:
        for name, route in SLOW.items():
            srv = stack.enter_context(serve(route))
            kit = Kit(tmp_path_factory.mktemp(f"slow-{name}"), FIGURES)
            snap = kit.base / "snap"
            shutil.copytree(clean_snapshot, snap)
            before = tree_hash(snap)
            proc = kit.start("fetch", "--server", srv.url, "--out", snap)
            rows[name] = (kit, snap, before, proc, time.monotonic(), srv)
        results = {}

        def result(name):
            if name not in results:
                kit, snap, before, proc, t0, srv = rows[name]
                results[name] = (kit.finish(proc, t0, timeout=240), snap, before, srv)
            return results[name]

        yield result
        for name in rows:
            result(name)  # reap every process before its server stops


pytestmark = pytest.mark.usefixtures("slow_rows")


# --- the server URL ------------------------------------------------------------------------

@pytest.mark.parametrize("url, words", [
    ("not a url", ["http(s) URL"]),
    ("ftp://connect.example.com", ["http(s) URL"]),
    ("https://admin:secret@connect.example.com", ["must not contain credentials"]),
    ("", ["no Connect server"]),
])
def test_server_url_malformed(kit, snapshot_copy, url, words):
    FIGURES.tried(f"server URL {url!r}")
    run, before = fetch_into(kit, snapshot_copy, url)
    assert_one_line(run, *words)
    intact(snapshot_copy, before)


def test_server_unreachable(kit, snapshot_copy):
    FIGURES.tried("server unreachable")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run, before = fetch_into(kit, snapshot_copy, f"http://127.0.0.1:{port}")
    assert_one_line(run, "cannot reach", "connection refused")
    assert run.seconds < 20, "an unreachable server should not take minutes of retries"
    intact(snapshot_copy, before)


@pytest.mark.parametrize("route", [odd.plain_web_page, odd.json_api_404, odd.json_api_catch_all],
                         ids=["plain-web-page", "json-api-404", "json-api-catch-all"])
def test_not_connect(kit, snapshot_copy, route):
    FIGURES.tried(f"not Connect: {route.__name__}")
    with serve(route) as srv:
        run, before = fetch_into(kit, snapshot_copy, srv.url)
    assert_one_line(run, "not", "Connect")
    intact(snapshot_copy, before)
    assert {m for m, _, _ in srv.requests} == {"GET"}
    FIGURES.requests_logged += len(srv.requests)


def test_tls_untrusted_then_trusted_with_connect_ca_certificate(kit, snapshot_copy, demo_dataset):
    FIGURES.tried("TLS certificate untrusted")
    certs = kit.base.parent / f"{kit.base.name}-certs"  # beside, not in, the directory checked
    certs.mkdir()
    cert, key = odd.self_signed(certs)
    sim = odd.tls_simulator(demo_dataset, KEY, cert, key)
    try:
        run, before = fetch_into(kit, snapshot_copy, sim.url)
        assert_one_line(run, "TLS verification failed", "CONNECT_CA_CERTIFICATE")
        intact(snapshot_copy, before)
        assert sim.request_log == []  # the key never crossed an untrusted connection

        FIGURES.tried("TLS certificate trusted via CONNECT_CA_CERTIFICATE")
        run, _ = fetch_into(kit, snapshot_copy, sim.url, env={"CONNECT_CA_CERTIFICATE": str(cert)})
        assert run.returncode == 0, str(run)
        manifest = json.loads((snapshot_copy / "manifest.json").read_text())
        assert manifest["server"] == sim.url and manifest["row_counts"]["content"] == len(demo_dataset.content)
    finally:
        sim.stop()
    check_get_only(sim.request_log)


def test_wrong_key(kit, snapshot_copy, simulators, demo_dataset):
    FIGURES.tried("wrong key")
    sim = simulators(demo_dataset)
    run, before = fetch_into(kit, snapshot_copy, sim.url, key="not-the-key-" + "x" * 20)
    assert_one_line(run, "rejected the API key", "CONNECT_API_KEY")
    intact(snapshot_copy, before)
    FIGURES.tried("no key")
    run, _ = fetch_into(kit, snapshot_copy, sim.url, key=None)
    assert_one_line(run, "CONNECT_API_KEY")
    intact(snapshot_copy, before)


@pytest.mark.parametrize("role", ["publisher", "viewer"])
def test_low_privilege_keys_give_a_partial_snapshot_that_says_why(kit, simulators, demo_dataset, role):
    """Exit 0 (the command did its job), with every dataset it could not read named, with a
    reason, in the manifest, on stdout and in the analysis the report opens with."""
    FIGURES.tried(f"{role} key")
    sim = simulators(demo_dataset)
    snap = kit.base / "snap"
    run = kit("fetch", "--server", sim.url, "--out", snap, "--since", SINCE, key=f"{KEY}-{role}")
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)
    manifest = json.loads((snap / "manifest.json").read_text())
    unavailable = manifest["unavailable"]
    assert manifest["key_role"] == role
    expected = {"runtime_caches", "visits", "shiny_sessions"} if role == "viewer" else {"runtime_caches"}
    assert expected <= set(unavailable), unavailable
    for dataset in expected:
        assert len(unavailable[dataset]) > 20 and dataset in run.stdout  # a reason, and said on stdout
    # nothing the key could not read is presented as an empty table; a per-item dataset read in
    # part (the jobs of a publisher's own items) says how many items it lacks
    for dataset in unavailable:
        partial = " content items' " in unavailable[dataset] and " could not be read with this key" in unavailable[dataset]
        assert manifest["row_counts"].get(dataset, 0) == 0 or partial, (dataset, unavailable[dataset])
    if role == "publisher":
        run = kit("analyze", snap, "--out", kit.base / "analysis")
        assert run.returncode == 0, str(run)
        summary = json.loads((kit.base / "analysis" / "summary.json").read_text())
        assert set(summary["unavailable"]) == set(unavailable)
        return
    # the viewer's report (the most restricted key) says what it could not see, and why
    run = kit("report", "--snapshot", snap, "--out", kit.base / "report")
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)
    summary = json.loads((kit.base / "report" / "summary.json").read_text())
    assert set(summary["unavailable"]) == set(unavailable)
    page = html.unescape((kit.base / "report" / "report.html").read_text())
    assert "Not available from this server" in page
    for dataset, reason in unavailable.items():
        assert f"{dataset}: {reason}" in page, dataset


@pytest.mark.parametrize("row, words", [
    ("malformed-json", ["answered /server_settings", "malformed JSON", "after 8 retries"]),
    ("truncated-body", ["answered /server_settings", "cut short", "after 8 retries"]),
    ("proxy-502-html", ["failed on /server_settings", "HTTP 502", "after 8 retries"]),
    ("503-for-ever", ["failed on /server_settings", "HTTP 503", "after 8 retries"]),
])
def test_a_server_that_keeps_failing(slow_rows, row, words):
    FIGURES.tried(f"server: {row}")
    run, snap, before, srv = slow_rows(row)
    line = assert_one_line(run, *words)
    assert "cannot reach" not in line  # the server answered; its answers were unusable
    intact(snap, before)
    assert {m for m, _, _ in srv.requests} == {"GET"}
    assert len(srv.requests) >= 5, "transient-looking failures are retried"
    FIGURES.requests_logged += len(srv.requests)


@pytest.mark.parametrize("route, words", [
    (odd.always(500), ["failed on /server_settings", "HTTP 500", "server's logs"]),
    (odd.proxy_login, ["HTML page", "proxy"]),
], ids=["500-for-ever", "proxy-login-page"])
def test_a_server_that_fails_at_once(kit, snapshot_copy, route, words):
    """Errors that retrying cannot fix are reported at once."""
    FIGURES.tried(f"server: {route.__name__}")
    with serve(route) as srv:
        run, before = fetch_into(kit, snapshot_copy, srv.url)
    assert_one_line(run, *words)
    assert run.seconds < 30
    intact(snapshot_copy, before)
    assert srv.requests and {m for m, _, _ in srv.requests} == {"GET"}
    FIGURES.requests_logged += len(srv.requests)


def test_server_older_than_every_preferred_endpoint(kit, simulators, demo_dataset):
    """Connect 2022.11: no environments, packages, storage endpoints, search or vanity include.
    The fetch succeeds, falls back where it can and names the version where it cannot."""
    FIGURES.tried("Connect 2022.11.0")
    sim = simulators(demo_dataset, connect_version="2022.11.0")
    snap = kit.base / "snap"
    run = kit("fetch", "--server", sim.url, "--out", snap, "--since", SINCE)
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)
    manifest = json.loads((snap / "manifest.json").read_text())
    assert manifest["server_version"] == "2022.11.0"
    assert "2023.05.0" in manifest["unavailable"]["environments"]
    assert "2024.11.0" in manifest["unavailable"]["packages"]
    assert manifest["sources"]["content_storage"] == "summed from per-item bundle lists"
    assert manifest["row_counts"]["content"] == len(demo_dataset.content)
    assert manifest["row_counts"]["vanities"] == len(demo_dataset.vanities)
    # the storage endpoints were asked for, answered 404, and the kit fell back to bundles
    assert ("GET", "/__api__/v1/system/storage", 404) in sim.request_log
    assert any("/bundles" in p and s == 200 for _, p, s in sim.request_log)


def test_ctrl_c_in_the_middle_of_a_fetch(kit, snapshot_copy, simulators, demo_dataset):
    FIGURES.tried("Ctrl-C during a fetch")
    sim = simulators(demo_dataset, latency_ms=150)
    before = tree_hash(snapshot_copy)
    t0 = time.monotonic()
    proc = kit.start("fetch", "--server", sim.url, "--out", snapshot_copy, "--since", SINCE,
                     "--bundle-history")
    deadline = time.monotonic() + 30
    while len(sim.request_log) < 20 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the fetch ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    run = kit.finish(proc, t0, timeout=30)
    assert_one_line(run, "interrupted", exit_code=130)
    intact(snapshot_copy, before)
