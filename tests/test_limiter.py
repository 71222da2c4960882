"""The adaptive concurrency limit (connect_analysis/limiter.py) against real loopback servers:
the simulator with a capacity (its in-flight count measured on the server side), and a tiny
server that answers 429 with Retry-After."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
from loopback import serve

from connect_analysis.client import Client
from connect_analysis.fetch import fetch_snapshot
from connect_analysis.limiter import AdaptiveLimit, FixedLimit
from connect_simulator import generate_dataset, start_simulator

KEY = "limiter-test-key"


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset("demo", seed=5, now=pd.Timestamp("2026-03-01T12:00:00Z"))


def bundle_requests(sim, limit, rounds: int) -> dict:
    """Many per-item bundle requests through one Client, from more threads than the limit allows."""
    guids = list(sim.dataset.content["guid"]) * rounds
    with Client(sim.url, KEY, limiter=limit) as client, ThreadPoolExecutor(64) as pool:
        list(pool.map(lambda g: client.get_json(f"v1/content/{g}/bundles"), guids))
    return limit.summary()


def test_settles_near_the_capacity_of_a_server(dataset):
    with start_simulator(dataset=dataset, api_key=KEY, latency_ms=150, capacity=8) as sim:
        seen = bundle_requests(sim, AdaptiveLimit(max_limit=32), rounds=3)
        peak = sim.peak_in_flight
    assert seen["mode"] == "adaptive" and seen["max"] == 32
    assert 4 <= seen["settled"] <= 12, seen  # capacity 8, within 50%
    assert peak <= 32 and seen["peak_in_flight"] <= 32
    assert 145 <= seen["latency_ms"]["baseline"] <= 220, seen  # the idle 150 ms, as the client sees it


def test_never_more_in_flight_than_max_workers(dataset, tmp_path):
    with start_simulator(dataset=dataset, api_key=KEY, connect_version="2024.09.0", latency_ms=10) as sim:
        m = fetch_snapshot(server=sim.url, out=tmp_path / "snap", api_key=KEY, days=30, max_workers=5,
                           now=dataset.now.to_pydatetime())
        adaptive_peak = sim.peak_in_flight
        sim.reset_load()
        fixed = fetch_snapshot(server=sim.url, out=tmp_path / "fixed", api_key=KEY, days=30, workers=3,
                               now=dataset.now.to_pydatetime())
        fixed_peak = sim.peak_in_flight
    c = m["concurrency"]
    assert c["mode"] == "adaptive" and c["max"] == 5 and c["peak_in_flight"] <= 5
    assert 3 <= adaptive_peak <= 5  # measured by the server; it did grow past the start of 4
    assert fixed["concurrency"]["mode"] == "fixed" and fixed["concurrency"]["settled"] == 3
    assert fixed_peak <= 3
    assert set(c["latency_ms"]) == {"baseline", "median"} and c["latency_ms"]["median"] >= 10


def test_a_429_with_retry_after_halves_the_limit_and_holds_every_request_back():
    limit = AdaptiveLimit(max_limit=8, initial=8)
    arrivals: list[tuple[float, float, str]] = []  # (when, the client's limit then, path)
    sent = []
    lock = threading.Lock()

    def route(h):
        with lock:
            arrivals.append((time.monotonic(), limit.limit, h.path))
            n = len(arrivals)
        time.sleep(0.05)
        if n != 3:
            return h.send_json({"ok": n})
        h.send_json({"code": 277, "error": "Rate limit exceeded"}, status=429, headers={"Retry-After": "1"})
        sent.append(time.monotonic())

    with serve(route) as server, Client(server.url, KEY, limiter=limit) as client, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: client.get_json(f"v1/thing/{i}"), range(24)))
    assert sorted(r["ok"] for r in results) == [n for n in range(1, 26) if n != 3]  # the 429 was retried
    assert client.retry_count == 1
    told = sent[0]
    retried = [t for t, _, path in arrivals[3:] if path == arrivals[2][2]]
    assert retried and retried[0] >= told + 1.0  # the refused request waited the Retry-After second
    # and so did every other: none sent meanwhile (a quarter second allowed for requests that
    # were already on their way on a busy machine)
    assert not [t for t, _, _ in arrivals if told + 0.25 < t < told + 1.0], str([(round(t - told, 3), x, p) for t, x, p in arrivals])
    after = [lim for t, lim, _ in arrivals if t >= told + 1.0]
    assert arrivals[0][1] == 8.0 and after[0] == 4.0  # halved
    assert limit.summary()["peak_in_flight"] == 8


def test_a_fixed_limit_counts_what_it_used():
    limit = FixedLimit(2)
    with limit.slot() as s:
        s.status = 200
    seen = limit.summary()
    assert seen["mode"] == "fixed" and seen["settled"] == 2 and seen["peak_in_flight"] == 1


@pytest.mark.parametrize(("capacity", "slowest"), [(None, 1), (4, 3)])
def test_the_simulator_queues_requests_beyond_its_capacity(dataset, capacity, slowest):
    """16 requests at once on a 50 ms server: all served together, or 4 at a time (4 waves;
    at least 3 when some arrive late)."""
    with start_simulator(dataset=dataset, api_key=KEY, latency_ms=50, capacity=capacity) as sim:
        guids = list(dataset.content["guid"][:16])
        with Client(sim.url, KEY, max_in_flight=16) as client, ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda g: client.get_json(f"v1/content/{g}/bundles"), guids))
        times = sorted(sim.response_times())
        peak = sim.peak_in_flight
    assert len(times) == 16 and peak >= 8  # (some may arrive after others were answered)
    assert times[0] >= 0.05 and slowest * 0.05 <= times[-1] < (slowest + 2.5) * 0.05
    if capacity:
        assert statistics.median(times) >= 0.075  # most waited in the queue (unqueued: ~0.05)


def test_simulate_offers_a_capacity():
    from click.testing import CliRunner

    from connect_analysis.cli import main

    assert "--capacity" in CliRunner().invoke(main, ["simulate", "--help"]).output
    with pytest.raises(ValueError, match="capacity"):
        start_simulator(scenario="demo", capacity=0)
