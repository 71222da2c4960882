"""Benchmark: a whole `large` fetch with 20% of requests faulted loses nothing.

    .venv/bin/python bench/bench_faults.py [--scenario large] [--fault-rate 0.2] [--days 90]

Serves the scenario from this process (the simulator's request log counts the faults it
injected) and fetches it twice with the real CLI in a child process (its own interpreter,
so the fetch and the server do not share one GIL): once fault-free, once with the fault
rate spread evenly over 503, 429 (Retry-After: 1) and connections dropped mid-body. Then
it compares the two snapshots table by table and prints times, requests, faults, retries
and whether every table is equal. Exit 1 when they differ or a retry went unreported.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _results import write_result

from connect_analysis import schema
from connect_analysis.reliability import FAULT_STATUSES, comparable_tables
from connect_simulator import generate_dataset, start_simulator


def fetch(url: str, key: str, out: Path, since: str) -> tuple[float, dict]:
    cli = Path(sys.executable).parent / "connect-analysis"
    env = {**os.environ, "CONNECT_API_KEY": key}
    t0 = time.perf_counter()
    subprocess.run([str(cli), "fetch", "--server", url, "--out", str(out), "--since", since, "--quiet"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0, json.loads((out / "manifest.json").read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="large")
    ap.add_argument("--fault-rate", type=float, default=0.2)
    ap.add_argument("--days", type=int, default=90)
    args = ap.parse_args()

    t0 = time.perf_counter()
    ds = generate_dataset(args.scenario, seed=1)
    print(f"generated {args.scenario}: {len(ds.content)} content, {len(ds.users)} users "
          f"in {time.perf_counter() - t0:.0f} s", flush=True)
    since = (ds.now - pd.Timedelta(days=args.days)).isoformat()
    key = secrets.token_urlsafe(24)
    work = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    atexit.register(shutil.rmtree, work, True)  # two large snapshots: gone when the bench ends

    with start_simulator(dataset=ds, api_key=key) as sim:
        clean_s, clean = fetch(sim.url, key, work / "clean", since)
        clean_url = sim.url
    with start_simulator(dataset=ds, api_key=key, fault_rate=args.fault_rate, retry_after=1, seed=5) as sim:
        faulty_s, faulty = fetch(sim.url, key, work / "faulty", since)
        log = sim.request_log
        faulty_url = sim.url
    faults = [e for e in log if e[2] in FAULT_STATUSES]
    non_get = [e for e in log if e[0] != "GET"]

    a, b = comparable_tables(work / "clean", clean_url), comparable_tables(work / "faulty", faulty_url)
    differ = []
    for name in schema.TABLES:
        try:
            pd.testing.assert_frame_equal(a[name], b[name])
        except AssertionError:
            differ.append(name)
    rows = sum(len(df) for df in a.values())
    print(f"fault-free fetch: {clean_s:.0f} s, {clean['requests']} requests, {rows} rows")
    print(f"faulted fetch:    {faulty_s:.0f} s, {faulty['requests']} requests, {len(faults)} faults injected "
          f"({len(faults) / len(log):.0%}: " + ", ".join(
              f"{sum(1 for e in faults if e[2] == s)} x {s or 'dropped'}" for s in (503, 429, 0)) + ")")
    print(f"retries reported: {faulty['retries']} (one per fault: {faulty['retries'] == len(faults)})")
    print(f"tables equal: {len(schema.TABLES) - len(differ)} of {len(schema.TABLES)}"
          + (f"; differ: {differ}" if differ else "") + f"; non-GET requests: {len(non_get)}")
    ok = not differ and faulty["retries"] == len(faults) and not non_get
    write_result("bench_faults", {"scenario": args.scenario, "fault_rate": args.fault_rate,
                                  "clean_fetch_seconds": round(clean_s, 1),
                                  "faulted_fetch_seconds": round(faulty_s, 1),
                                  "faults_injected": len(faults), "retries": faulty["retries"],
                                  "tables_equal": len(schema.TABLES) - len(differ),
                                  "tables": len(schema.TABLES), "non_get_requests": len(non_get)})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
