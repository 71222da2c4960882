"""Benchmark the simulated Connect server: demo start-up, `large` generation time and
peak memory, and page latency (cursor pages must cost O(page), wherever they are).

    .venv/bin/python bench/bench_simulator.py            # demo + large
    .venv/bin/python bench/bench_simulator.py --demo-only

Prints one line per figure; peak RSS is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from datetime import UTC, datetime

import numpy as np
import requests
from _results import write_result

from connect_simulator import generate_dataset, start_simulator

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEY = "bench-key"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def timed_get(session, url, **params) -> tuple[float, dict | list]:
    t = time.perf_counter()
    r = session.get(url, params=params, timeout=300)
    r.raise_for_status()
    return time.perf_counter() - t, r.json()


def median_ms(session, url, n=5, **params) -> float:
    return statistics.median(timed_get(session, url, **params)[0] for _ in range(n)) * 1000


FIGURES: dict[str, float] = {}


def bench_demo() -> None:
    t = time.perf_counter()
    with start_simulator("demo", api_key=KEY, now=NOW) as sim:
        started = time.perf_counter() - t
        s = requests.Session()
        s.headers["Authorization"] = f"Key {KEY}"
        listed = median_ms(s, sim.url + '/__api__/v1/content')
        print(f"demo: start {started:.2f} s; content list {listed:.1f} ms")
        FIGURES.update(demo_start_seconds=round(started, 2), demo_content_list_ms=round(listed, 1))


def bench_large() -> None:
    t = time.perf_counter()
    ds = generate_dataset("large", seed=1, now=NOW)
    gen = time.perf_counter() - t
    print(f"large: {len(ds.content)} content, {len(ds.users)} users, {len(ds.visit_log)} visits, "
          f"{len(ds.shiny_log)} Shiny sessions, {len(ds.bundles)} bundles, {len(ds.packages)} package rows")
    print(f"large: generated in {gen:.1f} s; peak RSS so far {peak_rss_mb():.0f} MB")
    t = time.perf_counter()
    with start_simulator(api_key=KEY, dataset=ds) as sim:
        print(f"large: server ready in {time.perf_counter() - t:.1f} s")
        s = requests.Session()
        s.headers["Authorization"] = f"Key {KEY}"
        visits = sim.url + "/__api__/v1/instrumentation/content/visits"
        first = median_ms(s, visits, limit=500)
        late = median_ms(s, visits, limit=500, **{"from": "2026-05-31T00:00:00Z"})
        _, body = timed_get(s, visits, limit=500, **{"from": "2026-01-01T00:00:00Z"})
        deep = median_ms(s, body["paging"]["next"])
        counts = np.bincount(ds.visit_log.content, minlength=ds.visit_log.n_guids)
        top = ds.usage_guids[np.argsort(counts)[::-1][:20]]
        filtered = median_ms(s, visits, limit=500, content_guid="|".join(top))
        print(f"large: visits page of 500: first {first:.1f} ms, from last day {late:.1f} ms, "
              f"cursor mid-year {deep:.1f} ms, 20-guid filter {filtered:.1f} ms")
        shiny = median_ms(s, sim.url + "/__api__/v1/instrumentation/shiny/usage", limit=500,
                          **{"from": "2026-03-01T00:00:00Z"})
        print(f"large: shiny page of 500 with from: {shiny:.1f} ms")
        t = time.perf_counter()
        n, page = 0, visits + "?limit=500"
        while page and n < 200_000:
            body = s.get(page, timeout=60).json()
            n += len(body["results"])
            page = body["paging"].get("next")
        rate = n / (time.perf_counter() - t)
        print(f"large: cursor walk {rate:,.0f} visits/s (one client, keep-alive)")
        took, items = timed_get(s, sim.url + "/__api__/v1/content")
        again = median_ms(s, sim.url + "/__api__/v1/content", n=3) / 1000
        print(f"large: content list ({len(items)} items) {took:.2f} s; again (cached JSON) {again:.2f} s")
        print(f"large: peak RSS {peak_rss_mb():.0f} MB (generation + server + the requests above)")
        FIGURES.update(large_generate_seconds=round(gen, 1), large_visits_per_second=round(rate),
                       large_content_list_seconds=round(took, 2), large_peak_rss_mb=round(peak_rss_mb()))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--demo-only", action="store_true")
    args = p.parse_args(argv)
    bench_demo()
    if not args.demo_only:
        bench_large()
    write_result("bench_simulator", dict(FIGURES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
