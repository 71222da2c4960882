"""Issue 18, "The API key leaves or is written down" and "Requests steered by server data":
real hostile servers on loopback. Every case asserts the exit status, the one line, that
nothing was lost, and (through the `kit` fixture's scan) that the key is nowhere."""

from __future__ import annotations

import json
from urllib.parse import unquote, urlsplit

import odd_servers as odd
import pytest
from hostile import case, fetch_bounded, intact
from loopback import serve
from rel_suite import FIGURES, KEY, assert_one_line


def connect_without_key(h):
    h.send_json({"code": 24, "error": "You must be authenticated to perform this action.", "payload": None}, 401)


@case("redirect with a backslash in the authority")
def test_a_backslash_in_a_redirect_does_not_send_the_key_elsewhere(kit, snapshot_copy):
    FIGURES.tried("redirect to OTHER\\@SERVER")
    with serve(connect_without_key) as other:
        me = {}

        def route(h):
            h.send_text("", 302, headers={"Location": f"http://{me['netloc']}\\@{me['self']}{h.path}"})
        with serve(route) as first:
            me.update(netloc=urlsplit(other.url).netloc, self=urlsplit(first.url).netloc)
            run, before, _ = fetch_bounded(kit, snapshot_copy, first.url)
    assert_one_line(run, "will not follow", "backslash")
    assert other.requests == [], "nothing reached the other server"
    intact(snapshot_copy, before)


def echo_key(h) -> str:
    return h.headers.get("Authorization", "").removeprefix("Key ")


@case("a server echoes the key in error bodies and in its text")
def test_a_key_echoed_by_the_server_is_written_nowhere(kit, simulators, demo_dataset):
    """The key comes back in a 403 body (plain, JSON-escaped and \\u-escaped), in a Location
    header, and in a content title; the fetch, analysis and report hold it nowhere."""
    FIGURES.tried("key echoed in error bodies and titles")
    sim = simulators(demo_dataset)

    def tamper(h):
        path = h.path.split("?")[0]
        key = echo_key(h)
        if path.endswith("/v1/system/caches/runtime"):
            escaped = "".join(f"\\u{ord(c):04x}" for c in key)
            body = ('{"code": 4, "error": "Key ' + key + ' may not read this", "payload": "'
                    + escaped + '"}').encode()
            odd.send_bytes(h, 403, body)
            return True
        if path.endswith("/v1/content"):
            status, _, body = odd.forward(h, sim.url)
            items = json.loads(body)
            items[0]["title"] = f"Leaked {key} here"
            items[1]["description"] = json.dumps(key)
            odd.send_bytes(h, status, json.dumps(items).encode())
            return True
        return False

    with odd.tampering(sim.url, tamper) as proxy:
        snap = kit.base / "snap"
        run, _, _ = fetch_bounded(kit, snap, proxy.url)
        assert run.returncode == 0, str(run)
        manifest = json.loads((snap / "manifest.json").read_text())
        assert "***" in manifest["unavailable"]["runtime_caches"]
        run = kit("report", "--snapshot", snap, "--out", kit.base / "report")
        assert run.returncode == 0, str(run)
        page = (kit.base / "report" / "report.html").read_text()
        assert "***" in page
    # the kit fixture scans stdout, stderr, the snapshot, the report and its notebooks for the key


@case("a server echoes the key in the error that stops the fetch")
def test_a_key_echoed_in_a_fatal_error_is_not_printed(kit, snapshot_copy):
    FIGURES.tried("key echoed in a fatal error")

    def route(h):
        h.send_json({"code": 2, "error": f"bad key {echo_key(h)}", "payload": None}, 500)
    with serve(route) as srv:
        run, before, _ = fetch_bounded(kit, snapshot_copy, srv.url)
    line = assert_one_line(run, "HTTP 500", "***")
    assert KEY not in line
    intact(snapshot_copy, before)


@pytest.mark.parametrize("bad", [KEY + "\nsecond-line", KEY + " x", KEY + "\u20ac", "\u043a\u043b\u044e\u0447-" + KEY],
                         ids=["line-break", "space", "non-latin-1", "cyrillic"])
@case("a key with a line break or non-Latin-1 characters")
def test_a_malformed_key_gives_one_line_that_never_shows_it(kit, snapshot_copy, simulators, demo_dataset, bad):
    FIGURES.tried(f"malformed key: {bad[-12:]!r}")
    sim = simulators(demo_dataset)
    run, before, _ = fetch_bounded(kit, snapshot_copy, sim.url, key=bad)
    assert_one_line(run, "CONNECT_API_KEY is not a valid API key")
    intact(snapshot_copy, before)
    assert sim.request_log == [], "no request was sent with it"


@case("content GUIDs that are paths")
def test_guids_that_are_paths_stay_one_path_segment(kit, simulators, demo_dataset):
    """GUIDs such as ../../etc and /tmp/x in the content list: every per-item request stays
    under /__api__/v1/content/, with the GUID as one segment."""
    FIGURES.tried("GUIDs ../../etc and /tmp/x")
    sim = simulators(demo_dataset, connect_version="2022.11.0")  # per-item bundles for storage
    hostile = ["../../etc", "/tmp/x", "..", "a/../../b?x=1#y"]

    def change(items, h):
        for item, guid in zip(items, hostile, strict=False):
            item["guid"] = guid
        return items
    with odd.tampering(sim.url, odd.rewriting(sim.url, "/v1/content", change)) as proxy:
        snap = kit.base / "snap"
        run, _, _ = fetch_bounded(kit, snap, proxy.url)
    assert run.returncode == 0, str(run)
    paths = [p.split("?")[0] for _, p, _ in proxy.requests]
    per_item = [p for p in paths if p.startswith("/__api__/v1/content/")]
    assert all(p.count("/") == 5 for p in per_item), [p for p in per_item if p.count("/") != 5]
    assert {unquote(p.split("/")[4]) for p in per_item} >= set(hostile)
    assert not any(p.startswith(("/tmp", "/etc", "/__api__/etc", "/b")) for p in paths)
    FIGURES.requests_logged += len(proxy.requests)
