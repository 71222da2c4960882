"""Benchmark: a cold fetch of an old server (no storage endpoints), this kit against posit-sdk,
and how hard each pushes a server of limited capacity.

    .venv/bin/python bench/bench_old_server.py [--scale 1.0] [--latencies 20,50] [--capacity 8]

The simulator's `large` scenario served as Connect 2024.09.0 (before /v1/content/storage: one
bundles request per item), `--scale` of its content items kept with their usage (1.0: all 20,500):
  (a) at each latency: this kit's cold fetch (defaults: adaptive concurrency up to 32, --jobs sample) and
      posit-sdk as its documentation shows it (content.find(), bundles.find() per item,
      metrics.usage.find(start, end)), each in its own spawned process: seconds, requests
      the server saw, peak RSS, and the concurrency the kit's limiter settled at;
  (b) the same server with a capacity of `--capacity` requests at once (more queue) at
      `--capacity-latency` ms: the server's median response time idle (one request at a
      time), during the kit's default fetch, and during a fetch pinned to 32 workers.
`--parts` picks what to run (sdk, kit, capacity); `--sdk-from FILE` takes (a)'s posit-sdk
figures from an earlier result file of the same scale (posit-sdk takes ~25 min at full scale).
The result is written as JSON to bench/results/old-server-DATE.json (or `--out`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import requests
from _clients import in_own_process, posit_sdk_fetch
from _results import commit, machine
from _rss import peak_rss_bytes

KEY = "bench-admin-key"
OLD = "2024.09.0"
NOW = pd.Timestamp("2026-06-30T12:00:00Z")
DAYS = 90


def kit_fetch(url, out, workers, queue):
    from connect_analysis.fetch import fetch_snapshot

    t0 = time.perf_counter()
    m = fetch_snapshot(server=url, out=out, days=DAYS, quiet=True, workers=workers, api_key=KEY,
                       now=NOW.to_pydatetime())
    queue.put({"seconds": round(time.perf_counter() - t0, 2), "peak_rss_bytes": peak_rss_bytes(),
               "rows": m["row_counts"], "concurrency": m["concurrency"],
               "content_storage_source": m["sources"].get("content_storage"),
               "jobs": {k: v for k, v in (m.get("jobs") or {}).items() if k != "guids"}})


def measured(sim, label, target, *args) -> dict:
    before = len(sim.request_log)
    sim.reset_load()
    t0 = time.monotonic()
    result = in_own_process(target, *args)
    result["requests"] = len(sim.request_log) - before
    times = sim.response_times(since=t0)
    result["server_median_ms"] = round(1000 * statistics.median(times), 1) if times else None
    result["server_peak_in_flight"] = sim.peak_in_flight
    print(f"{label:<48} {result['seconds']:8.1f} s  {result['requests']:6d} requests  "
          f"peak RSS {result['peak_rss_bytes'] / 2**20:5.0f} MiB  server median {result['server_median_ms']} ms"
          + (f"  settled at {result['concurrency']['settled']}" if "concurrency" in result else ""), flush=True)
    return result


def scaled(scale: float):
    """The `large` dataset with the first `scale` of its content items and only their usage."""
    from connect_simulator import generate_dataset

    ds = generate_dataset("large", seed=1, now=NOW)
    if scale < 1:
        ds.first(round(len(ds.content) * scale))
    return ds


def warm(sim) -> None:
    """The simulator serialises each content list once: not a client's time to measure."""
    for include in ("tags,owner", "tags,owner,vanity_url", None):
        requests.get(f"{sim.url}/__api__/v1/content", params={"include": include} if include else None,
                     headers={"Authorization": f"Key {KEY}"}, timeout=120).raise_for_status()


def idle_median_ms(sim, n: int = 60) -> float:
    """The server's median response time for per-item bundles requests sent one at a time."""
    guids = list(sim.dataset.content["guid"][:n])
    sim.reset_load()
    t0 = time.monotonic()
    with requests.Session() as s:
        for g in guids:
            s.get(f"{sim.url}/__api__/v1/content/{g}/bundles", headers={"Authorization": f"Key {KEY}"},
                  timeout=30).raise_for_status()
    return round(1000 * statistics.median(sim.response_times(since=t0)), 1)


def old_server_runs(ds, latencies, parts, sdk_from) -> list[dict]:
    from connect_simulator import start_simulator

    earlier = {r["latency_ms"]: r.get("posit_sdk") for r in (sdk_from or {}).get("old_server", [])}
    rows = []
    for latency in latencies:
        row = {"latency_ms": latency}
        with start_simulator(dataset=ds, api_key=KEY, connect_version=OLD, latency_ms=latency) as sim:
            warm(sim)
            work = Path(tempfile.mkdtemp(prefix="bench-old-"))
            try:
                if "kit" in parts:
                    row["kit"] = measured(sim, f"kit cold fetch, {latency:g} ms", kit_fetch, sim.url,
                                          str(work / "snap"), None)
                if "sdk" in parts:
                    start, end = (t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in (NOW - pd.Timedelta(days=DAYS), NOW))
                    row["posit_sdk"] = measured(sim, f"posit-sdk (content, bundles, usage), {latency:g} ms",
                                                posit_sdk_fetch, sim.url, KEY, start, end)
                elif earlier.get(latency):
                    row["posit_sdk"] = {**earlier[latency], "from": sdk_from["_path"]}
            finally:
                shutil.rmtree(work, ignore_errors=True)
        if row.get("kit") and row.get("posit_sdk"):
            row["speedup"] = round(row["posit_sdk"]["seconds"] / row["kit"]["seconds"], 1)
            print(f"  speed-up at {latency:g} ms: {row['speedup']}x (target >= 10x)", flush=True)
        rows.append(row)
    return rows


def capacity_run(ds, capacity: int, latency: float) -> dict:
    from connect_simulator import start_simulator

    with start_simulator(dataset=ds, api_key=KEY, connect_version=OLD, latency_ms=latency,
                         capacity=capacity) as sim:
        warm(sim)
        work = Path(tempfile.mkdtemp(prefix="bench-capacity-"))
        try:
            idle = idle_median_ms(sim)
            ours = measured(sim, f"kit default fetch, capacity {capacity}", kit_fetch, sim.url, str(work / "a"), None)
            fixed = measured(sim, f"kit --workers 32, capacity {capacity}", kit_fetch, sim.url, str(work / "b"), 32)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    out = {"capacity": capacity, "latency_ms": latency, "idle_server_median_ms": idle, "kit_default": ours,
           "fixed_32_workers": fixed,
           "kit_default_vs_idle": round(ours["server_median_ms"] / idle, 2),
           "fixed_32_vs_idle": round(fixed["server_median_ms"] / idle, 2)}
    print(f"  server median: idle {idle} ms; kit default {out['kit_default_vs_idle']}x idle (target <= 1.5x); "
          f"32 workers {out['fixed_32_vs_idle']}x idle (shown > 3x)", flush=True)
    return out


def flat_figures(result: dict) -> tuple[dict, dict]:
    """(figures, targets) as bench/_results.py and the docs' performance page read them:
    flat names that say their unit."""
    fig = {"scale": result["scale"], "content_items": result["content_items"]}
    targets = {}
    for row in result.get("old_server", []):
        at = f"{row['latency_ms']:g}ms"
        for who in ("kit", "posit_sdk"):
            r = row.get(who)
            if r:
                fig |= {f"{who}_{at}_seconds": r["seconds"], f"{who}_{at}_requests": r["requests"],
                        f"{who}_{at}_peak_rss_mib": round(r["peak_rss_bytes"] / 2**20)}
        if row.get("kit"):
            fig[f"kit_{at}_settled_concurrency"] = row["kit"]["concurrency"]["settled"]
            jobs = row["kit"].get("jobs") or {}
            if jobs:
                fig[f"kit_{at}_jobs"] = f"{jobs['mode']}: {jobs['items']} of {jobs['of']} deployed items"
        if "speedup" in row:
            fig[f"speedup_{at}"] = row["speedup"]
            targets[f"speedup_{at}"] = ">= 10x"
    c = result.get("capacity_limited")
    if c:
        fig |= {"capacity": c["capacity"], "capacity_latency_ms": c["latency_ms"],
                "capacity_idle_server_median_ms": c["idle_server_median_ms"],
                "capacity_kit_default_server_median_ms": c["kit_default"]["server_median_ms"],
                "capacity_kit_default_settled_concurrency": c["kit_default"]["concurrency"]["settled"],
                "capacity_kit_default_vs_idle": c["kit_default_vs_idle"],
                "capacity_fixed_32_server_median_ms": c["fixed_32_workers"]["server_median_ms"],
                "capacity_fixed_32_vs_idle": c["fixed_32_vs_idle"]}
        targets |= {"capacity_kit_default_vs_idle": "<= 1.5x", "capacity_fixed_32_vs_idle": "> 3x"}
    return fig, targets


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the large scenario's content items")
    parser.add_argument("--latencies", default="20,50", help="ms per request, comma-separated")
    parser.add_argument("--capacity", type=int, default=8)
    parser.add_argument("--capacity-latency", type=float, default=20.0)
    parser.add_argument("--parts", default="kit,sdk,capacity")
    parser.add_argument("--sdk-from", type=Path, help="posit-sdk figures from this earlier result file")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    sdk_from = None
    if args.sdk_from:
        sdk_from = json.loads(args.sdk_from.read_text()) | {"_path": str(args.sdk_from)}
        if sdk_from.get("scale") != args.scale:
            sys.exit(f"error: {args.sdk_from} was run at scale {sdk_from.get('scale')}, not {args.scale}")

    t0 = time.perf_counter()
    ds = scaled(args.scale)
    print(f"large scenario at scale {args.scale:g}: {len(ds.content)} content items, {len(ds.bundles)} bundles; "
          f"served as Connect {OLD}; generated in {time.perf_counter() - t0:.0f} s", flush=True)
    result = {
        "bench": "old_server", "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "commit": commit(),
        "machine": {**machine(), "note": "a 2-core machine shared with other jobs: timings are noisy"}, "scenario": "large", "scale": args.scale, "content_items": len(ds.content),
        "bundles": len(ds.bundles), "connect_version": OLD, "window_days": DAYS,
        "targets": {"speedup_vs_posit_sdk": ">= 10x at each latency",
                    "capacity_kit_default_vs_idle": "<= 1.5x", "capacity_fixed_32_vs_idle": "> 3x"},
    }
    latencies = [float(x) for x in args.latencies.split(",") if x]
    if parts & {"kit", "sdk"}:
        result["old_server"] = old_server_runs(ds, latencies, parts, sdk_from)
    if "capacity" in parts:
        result["capacity_limited"] = capacity_run(ds, args.capacity, args.capacity_latency)
    result["figures"], result["targets"] = flat_figures(result)
    result["command"] = " ".join(["bench/bench_old_server.py", *sys.argv[1:]])
    result["recorded_by"] = "bench"
    out = args.out or Path(__file__).parent / "results" / f"old-server-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
