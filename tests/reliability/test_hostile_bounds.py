"""Issue 18, "Unbounded time or memory": every case ends in one line, in under 60 s and
1 GB (sampled RSS of the CLI process), with the previous snapshot untouched."""

from __future__ import annotations

import json
import random
import signal
import time

import odd_servers as odd
import pytest
from hostile import case, fetch_bounded, intact
from loopback import serve
from rel_suite import FIGURES, SINCE, assert_one_line, tree_hash


@case("an endless chunked body")
def test_an_endless_body_is_cut_at_the_size_limit(kit, snapshot_copy):
    FIGURES.tried("endless chunked body")
    with serve(odd.chunked_forever) as srv:
        run, before, peak = fetch_bounded(kit, snapshot_copy, srv.url)
    assert_one_line(run, "larger than 256 MiB", "CONNECT_MAX_BODY_MB")
    intact(snapshot_copy, before)


@case("a gzip bomb")
def test_a_gzip_bomb_is_refused(kit, snapshot_copy):
    FIGURES.tried("gzip bomb (6.7 GB from 6.5 MB)")
    body = odd.gzip_bomb_body()
    assert len(body) < 8 << 20
    with serve(odd.gzip_bomb(body)) as srv:
        run, before, peak = fetch_bounded(kit, snapshot_copy, srv.url)
    assert_one_line(run, "decompression bomb")
    assert peak < 512 << 20
    intact(snapshot_copy, before)


def users_tamper(sim, change):
    def tamper(h):
        path = h.path.split("?")[0]
        if not path.endswith("/v1/users"):
            return False
        status, _, body = odd.forward(h, sim.url)
        odd.send_bytes(h, status, json.dumps(change(json.loads(body), h)).encode())
        return True
    return tamper


def page_number(h) -> int:
    from urllib.parse import parse_qs, urlsplit
    return int(parse_qs(urlsplit(h.path).query).get("page_number", ["1"])[0])


@case("a total of 10^12")
def test_a_total_of_ten_to_the_twelve(kit, snapshot_copy, simulators, demo_dataset):
    FIGURES.tried("offset total 10^12")
    sim = simulators(demo_dataset)
    with odd.tampering(sim.url, users_tamper(sim, lambda d, h: {**d, "total": 10 ** 12})) as proxy:
        run, before, _ = fetch_bounded(kit, snapshot_copy, proxy.url)
    assert_one_line(run, "1,000,000,000,000 records", "pages ended after")
    intact(snapshot_copy, before)
    # the users listing stopped within a few pages (the rest of the fetch is per-item requests)
    assert 0 < sum(1 for r in proxy.requests if "/v1/users" in r[1]) < 50


@case("offset pages cycling A, B, A, B without a total")
def test_offset_pages_that_cycle(kit, snapshot_copy, simulators, demo_dataset):
    FIGURES.tried("offset pages A,B,A,B")
    sim = simulators(demo_dataset)
    users = demo_dataset.users

    def cycle(d, h):
        a_or_b = users["guid"][:3] if page_number(h) % 2 else users["guid"][3:6]
        return {"results": [{"guid": g, "username": f"u{g[:6]}"} for g in a_or_b], "current_page": page_number(h)}
    with odd.tampering(sim.url, users_tamper(sim, cycle)) as proxy:
        run, before, _ = fetch_bounded(kit, snapshot_copy, proxy.url)
    assert_one_line(run, "sent a page it had sent before", "v1/users")
    intact(snapshot_copy, before)


@case("a cursor that is new on every page, for ever")
def test_a_cursor_new_on_every_page(kit, snapshot_copy, simulators, demo_dataset):
    FIGURES.tried("cursor new on every page")
    sim = simulators(demo_dataset)

    first = {}

    def tamper(h):
        if "/instrumentation/content/visits" not in h.path:
            return False
        if "results" not in first:  # the server's first page, then the same page for ever
            _, _, body = odd.forward(h, sim.url)
            first["results"] = json.loads(body)["results"] or [
                {"content_guid": "x", "user_guid": None, "time": SINCE + "T00:00:01Z"}]
        data = {"results": first["results"], "paging": {"cursors": {"next": f"c{random.random()}"}}}
        odd.send_bytes(h, 200, json.dumps(data).encode())
        return True
    with odd.tampering(sim.url, tamper) as proxy:
        run, before, _ = fetch_bounded(kit, snapshot_copy, proxy.url)
    assert_one_line(run, "sent a page it had sent before", "visits")
    intact(snapshot_copy, before)


@case("a slow-loris server (one byte every 2 s)")
def test_a_slow_loris_server_meets_the_deadline(kit, snapshot_copy):
    FIGURES.tried("slow loris")
    with serve(odd.slow_loris) as srv:
        run, before, _ = fetch_bounded(kit, snapshot_copy, srv.url, env={"CONNECT_REQUEST_DEADLINE": "6"})
    assert_one_line(run, "no complete answer in time", "within 6 s", "CONNECT_REQUEST_DEADLINE")
    assert run.seconds < 20
    intact(snapshot_copy, before)


@pytest.mark.parametrize("sig, code, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
                         ids=["ctrl-c", "sigterm"])
@case("Ctrl-C while the server never answers")
def test_one_signal_stops_a_fetch_whose_server_never_answers(kit, snapshot_copy, sig, code, word):
    FIGURES.tried(f"{word} while the server never answers")
    before = tree_hash(snapshot_copy)
    with serve(odd.never_answers) as srv:
        t0 = time.monotonic()
        proc = kit.start("fetch", "--server", srv.url, "--out", snapshot_copy, "--since", SINCE)
        while not srv.requests and time.monotonic() - t0 < 20:
            time.sleep(0.05)
        time.sleep(0.5)
        sent = time.monotonic()
        proc.send_signal(sig)  # once
        run = kit.finish(proc, t0, timeout=30)
    assert time.monotonic() - sent < 5, "it took more than a few seconds to stop"
    assert_one_line(run, word, "nothing was changed", exit_code=code)
    intact(snapshot_copy, before)
