"""The bad-input matrix: one test per row. Each runs the real CLI in a subprocess and asserts
one clear line on stderr, a non-zero exit where the command cannot do its job, no
traceback, and nothing lost: the snapshot already in the target directory is
byte-identical afterwards, with no temporary directory left beside it.

Rows whose server keeps failing are retried by the kit for about a minute before it gives
up; those commands start together in the background (`slow_rows`) and their tests collect
the results, so the matrix costs one such minute, not four.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import odd_servers as odd
import pytest
from loopback import serve
from rel_suite import (
    FIGURES,
    KEY,
    SINCE,
    Kit,
    assert_one_line,
    check_get_only,
    leftovers,
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


def intact(snap: Path, before: dict) -> None:
    assert tree_hash(snap) == before, "the previous snapshot changed"
    assert leftovers(snap.parent, {snap.name, "home"}) == [], "something was left beside the snapshot"


def fetch_into(kit: Kit, snap: Path, server: str, *more: str, **kw):
    before = tree_hash(snap)
    run = kit("fetch", "--server", server, "--out", snap, "--since", SINCE, *more, **kw)
    return run, before


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


# --- the snapshot directory ----------------------------------------------------------------


def test_snapshot_directory_is_a_file(kit, simulators, demo_dataset):
    FIGURES.tried("--out is a file")
    sim = simulators(demo_dataset)
    target = kit.base / "snap"
    target.write_text("my notes\n")
    run, before = fetch_into(kit, target, sim.url)
    assert_one_line(run, "--out", "is a file", exit_code=2)
    assert tree_hash(target) == before
    FIGURES.tried("--snapshot is a file")
    run = kit("report", "--snapshot", target, "--out", kit.base / "out")
    assert_one_line(run, "--snapshot", "is a file", exit_code=2)
    assert tree_hash(target) == before and not (kit.base / "out").exists()


@contextlib.contextmanager
def mounted_tmpfs(path: Path, size: str = "16m"):
    """A tmpfs at path (root only); yields False when mounting is not possible here."""
    path.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        yield False
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                          capture_output=True)
    if done.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_snapshot_directory_read_only(kit, clean_snapshot, simulators, demo_dataset):
    """A read-only file system (root ignores permission bits, so as root: a tmpfs remounted
    read-only; otherwise a directory without write permission)."""
    FIGURES.tried("snapshot on a read-only file system")
    sim = simulators(demo_dataset)
    disk = kit.base / "disk"
    with mounted_tmpfs(disk) as mounted:
        snap = disk / "snap"
        shutil.copytree(clean_snapshot, snap)
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        else:
            if os.geteuid() == 0:
                pytest.skip("root without mount: nothing here is read-only to root")
            disk.chmod(0o555)
        try:
            run, before = fetch_into(kit, snap, sim.url)
            assert_one_line(run, "cannot write")
            assert "read-only" in run.stderr.lower() or "permission denied" in run.stderr.lower()
            intact(snap, before)
            kit.scan(None, disk)
        finally:
            if not mounted:
                disk.chmod(0o755)


def test_disk_fills_during_the_write(kit, clean_snapshot, simulators, demo_dataset):
    """The file system fills up while the new snapshot is written: the old one survives and
    the half-written one is removed (tmpfs with 64 KiB left; else RLIMIT_FSIZE)."""
    FIGURES.tried("disk full during the write")
    sim = simulators(demo_dataset)
    disk = kit.base / "disk"
    with mounted_tmpfs(disk, size="8m") as mounted:
        snap = disk / "snap"
        shutil.copytree(clean_snapshot, snap)
        extra = {}
        if mounted:
            st = os.statvfs(disk)
            (disk / "filler").write_bytes(b"\0" * (st.f_bavail * st.f_frsize - 64 * 1024))
        else:
            def limit():  # files larger than 16 KiB fail with EFBIG (Python ignores SIGXFSZ)
                resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))
            extra["preexec_fn"] = limit
        run, before = fetch_into(kit, snap, sim.url, **extra)
        assert_one_line(run, "cannot write")
        assert "no space left" in run.stderr.lower() or "too large" in run.stderr.lower()
        assert tree_hash(snap) == before
        assert leftovers(disk, {"snap", "filler"}) == []
        kit.scan(None, disk)


def test_corrupt_snapshot(kit, snapshot_copy):
    FIGURES.tried("corrupt snapshot")
    part = snapshot_copy / "content.parquet"
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    before = tree_hash(snapshot_copy)
    run = kit("analyze", snapshot_copy, "--out", kit.base / "analysis")
    assert_one_line(run, "corrupt")
    run = kit("report", "--snapshot", snapshot_copy, "--out", kit.base / "report")
    assert_one_line(run, "corrupt")
    assert tree_hash(snapshot_copy) == before


def test_foreign_snapshot(kit, snapshot_copy, simulators, demo_dataset):
    FIGURES.tried("foreign snapshot (unknown format)")
    manifest = json.loads((snapshot_copy / "manifest.json").read_text())
    manifest["format"] = "another-tool-snapshot/3"
    (snapshot_copy / "manifest.json").write_text(json.dumps(manifest))
    foreign = tree_hash(snapshot_copy)
    run = kit("report", "--snapshot", snapshot_copy, "--out", kit.base / "report")
    assert_one_line(run, "not a connect-analysis snapshot")
    assert tree_hash(snapshot_copy) == foreign and not (kit.base / "report").exists()
    FIGURES.tried("--out holds someone else's files")
    sim = simulators(demo_dataset)
    theirs = kit.base / "theirs"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("\\documentclass{article}\n")
    run, before = fetch_into(kit, theirs, sim.url)
    assert_one_line(run, "not a connect-analysis snapshot")
    assert tree_hash(theirs) == before
    assert sim.request_log == [] or all(m == "GET" for m, _, _ in sim.request_log)


@pytest.mark.parametrize("args, words, code", [
    (["--bogus", "1"], ["no such option", "--bogus"], 2),
    (["--must-keep", "not-a-guid"], ["must_keep", "not-a-guid"], 1),
    (["--images", "no-such-images.yaml"], ["images", "no-such-images.yaml"], 1),
    (["--top", "-1"], ["--top"], 2),
], ids=["unknown-option", "bad-must-keep", "missing-images-file", "top-negative"])
def test_notebooks_given_unknown_or_bad_parameters(kit, snapshot_copy, args, words, code):
    """Parameters are checked before any notebook starts: one line, nothing executed."""
    FIGURES.tried(f"report parameters {args[0]}")
    out = kit.base / "report"
    before = tree_hash(snapshot_copy)
    run = kit("report", "--snapshot", snapshot_copy, "--out", out, *args)
    assert_one_line(run, *words, exit_code=code)
    assert not (out / "notebooks").exists()
    assert tree_hash(snapshot_copy) == before
    assert run.seconds < 20


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


def test_disk_full_under_the_analysis_output(kit, clean_snapshot):
    """`analyze` into a directory holding a previous analysis, on a file system with 8 KiB
    left: one line, and the previous analysis byte-identical."""
    FIGURES.tried("disk full under the analysis output")
    disk = kit.base / "disk"
    with mounted_tmpfs(disk, size="4m") as mounted:
        if not mounted:
            pytest.skip("needs a tmpfs mount (root)")
        out = disk / "analysis"
        first = kit("analyze", clean_snapshot, "--out", out)
        assert first.returncode == 0, str(first)
        before = tree_hash(out)
        st = os.statvfs(disk)
        (disk / "filler").write_bytes(b"\0" * (st.f_bavail * st.f_frsize - 8 * 1024))
        run = kit("analyze", clean_snapshot, "--out", out)
        assert_one_line(run, "cannot write", "no space left")
        assert tree_hash(out) == before
        assert leftovers(disk, {"analysis", "filler"}) == []
        kit.scan(None, disk)
