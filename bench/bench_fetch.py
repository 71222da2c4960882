"""Benchmark: this kit's fetch against posit-sdk, on the simulator's `large` scenario.

    .venv/bin/python bench/bench_fetch.py [--scenario large] [--latency-ms 20] [--days 90]

In one run, against one simulated server with `latency-ms` added to every request:
  (a)  the kit's cold fetch (defaults: storage endpoints, no per-bundle history);
  (a') the kit's cold fetch with --bundle-history (one bundles call per item, like (b));
  (b)  the same data collected with posit-sdk as its documentation shows:
       content.find(), bundles.find() per item, metrics.usage.find(start, end);
  (c)  the kit's incremental refresh of (a) after sim.advance(days=1), `--refreshes` times from
       copies of (a) (the ratio uses the median: one run on a shared 2-core machine varies);
       the day adds usage and changes no content item;
  (c') the same refresh once more, after `--edited` of the content items got a new title.
Each client runs in its own (spawned) process so its peak RSS is its own. Prints the
times, the ratios, the requests each made and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import requests
from _clients import in_own_process, posit_sdk_fetch
from _results import write_result
from _rss import peak_rss_bytes

KEY = "bench-admin-key"


def kit_fetch(url, out, now, days, workers, bundle_history, queue):
    from connect_analysis.fetch import fetch_snapshot

    t0 = time.perf_counter()
    m = fetch_snapshot(server=url, out=out, days=days, quiet=True, workers=workers, api_key=KEY,
                       now=pd.Timestamp(now).to_pydatetime(), bundle_history=bundle_history)
    queue.put({"seconds": time.perf_counter() - t0, "peak_rss_bytes": peak_rss_bytes(), "rows": m["row_counts"],
               "mode": m["refresh"]["mode"], "cpu_seconds": time.process_time()})


def measured(sim, label, target, *args) -> dict:
    before = len(sim.request_log)
    result = in_own_process(target, *args)
    result["requests"] = len(sim.request_log) - before
    print(f"{label:<44} {result['seconds']:9.1f} s  {result['requests']:7d} requests  "
          f"peak RSS {result['peak_rss_bytes'] / 2**20:7.0f} MiB", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="large")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--skip-sdk", action="store_true", help="skip (b), the slow posit-sdk run")
    parser.add_argument("--refreshes", type=int, default=3, help="times (c) runs, each from a copy of (a)")
    parser.add_argument("--edited", type=float, default=0.01, help="share of content items edited for (c')")
    args = parser.parse_args()

    from connect_simulator import start_simulator

    now = pd.Timestamp("2026-06-30T12:00:00Z")
    t0 = time.perf_counter()
    with start_simulator(scenario=args.scenario, api_key=KEY, latency_ms=args.latency_ms, now=now) as sim:
        ds = sim.dataset
        print(f"scenario {args.scenario}: {len(ds.content)} content items, {len(ds.bundles)} bundles, "
              f"{len(ds.visit_log)} visits and {len(ds.shiny_log)} Shiny sessions in the year; "
              f"{args.latency_ms:g} ms per request; window {args.days} days; generated in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
        work = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
        try:
            end, start = now, now - pd.Timedelta(days=args.days)
            a = measured(sim, "(a)  kit cold fetch", kit_fetch, sim.url, str(work / "snap"), now.isoformat(),
                         args.days, args.workers, None)
            a2 = measured(sim, "(a') kit cold fetch --bundle-history", kit_fetch, sim.url,
                          str(work / "snap-history"), now.isoformat(), args.days, args.workers, True)
            b = None
            if not args.skip_sdk:
                b = measured(sim, "(b)  posit-sdk (content, bundles, usage)", posit_sdk_fetch, sim.url, KEY,
                             start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ"))
            for i in range(1, args.refreshes + 1):  # the same refresh again, from copies of (a)
                shutil.copytree(work / "snap", work / f"snap-{i}")
            sim.advance(days=1)
            later = sim.dataset.now
            runs = [measured(sim, f"(c)  kit incremental refresh, 1 day later, #{i + 1}", kit_fetch, sim.url,
                             str(work / ("snap" if i == 0 else f"snap-{i}")), later.isoformat(), args.days,
                             args.workers, None) for i in range(args.refreshes)]
            c = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]  # the median
            content = sim.dataset.content
            edited = content.sample(frac=args.edited, random_state=1).index
            content.loc[edited, "title"] = content.loc[edited, "title"].fillna("") + " (edited)"
            sim.reload()
            # the simulator serialises a content list once per state: not the kit's time to measure
            requests.get(f"{sim.url}/__api__/v1/content", params={"include": "tags,owner,vanity_url"},
                         headers={"Authorization": f"Key {KEY}"}, timeout=60).raise_for_status()
            c2 = measured(sim, f"(c') the same, {len(edited)} items edited since (a)", kit_fetch, sim.url,
                          str(work / f"snap-{args.refreshes}"), later.isoformat(), args.days, args.workers, None)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    summarise(args, a, a2, b, runs, c, c2)


def summarise(args, a, a2, b, runs, c, c2) -> None:
    """Print the figures and write them as a result (bench/results/)."""
    print()
    print(f"kit rows: visits {a['rows']['visits']}, shiny_sessions {a['rows']['shiny_sessions']}, "
          f"content {a['rows']['content']}, bundles (a') {a2['rows']['bundles']}")
    if b:
        print(f"posit-sdk rows: content {b['rows']['content']}, bundles {b['rows']['bundles']}, "
              f"usage events {b['rows']['usage']}")
        print(f"speed-up (b)/(a):  {b['seconds'] / a['seconds']:.1f}x   (target >= 10x)")
        print(f"speed-up (b)/(a'): {b['seconds'] / a2['seconds']:.1f}x")
    each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    print(f"refresh (c)/(a):   {100 * c['seconds'] / a['seconds']:.1f}% of the cold fetch   (target <= 5%); "
          f"median of {len(runs)} refreshes ({each} s); mode {c['mode']}")
    print(f"refresh (c')/(a):  {100 * c2['seconds'] / a['seconds']:.1f}% with {args.edited:.0%} of the items edited")
    peak = max(a['peak_rss_bytes'], a2['peak_rss_bytes'], c2['peak_rss_bytes'], *(r['peak_rss_bytes'] for r in runs))
    print(f"peak RSS of the kit: {peak / 2**30:.2f} GiB   (target <= 1.5 GiB)")
    figures = {"scenario": args.scenario, "latency_ms": args.latency_ms, "tuning": tuning_state(),
               "cold_fetch_seconds": round(a["seconds"], 2),
               "cold_fetch_bundle_history_seconds": round(a2["seconds"], 2),
               "refresh_seconds_each": [round(r["seconds"], 2) for r in runs],
               "refresh_median_percent_of_cold": round(100 * c["seconds"] / a["seconds"], 1),
               "refresh_edited_percent_of_cold": round(100 * c2["seconds"] / a["seconds"], 1),
               "peak_rss_gib": round(peak / 2**30, 2)}
    if b:
        figures |= {"posit_sdk_seconds": round(b["seconds"], 1),
                    "speedup_vs_posit_sdk": round(b["seconds"] / a["seconds"], 1)}
    write_result("bench_fetch", figures)


def tuning_state() -> str:
    """CONNECT_ANALYSIS_TUNING as the fetches saw it ("on" when unset): the process-wide
    settings they held (connect_analysis/_process.py)."""
    return os.environ.get("CONNECT_ANALYSIS_TUNING", "").strip() or "on"


if __name__ == "__main__":
    main()
