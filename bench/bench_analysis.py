"""Benchmark: analyze() on a snapshot with 10 million usage events.

    .venv/bin/python bench/bench_analysis.py [--events 10000000] [--dir DIR]

Builds the snapshot once (in a child process, not measured), then loads and analyses it in
a fresh child process that reports load time, analyze() time and its own peak RSS.
Targets: analyze() < 30 s and peak RSS < 2 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _results import write_result
from _rss import peak_rss_bytes

N_CONTENT = 20_000
N_USERS = 5_000
SHINY_FRACTION = 0.1
DELETED_FRACTION = 0.03
ANONYMOUS_FRACTION = 0.2
WINDOW_END = pd.Timestamp("2026-06-30T00:00:00Z")
WINDOW_START = WINDOW_END - pd.Timedelta(days=365)


def _guids(prefix: int, n: int) -> np.ndarray:
    return np.array([f"{prefix:08x}-{i:04x}-4000-8000-{i:012x}"[:36] for i in range(n)], dtype=object)


def build(path: Path, events: int, seed: int = 1) -> None:
    from connect_analysis.snapshot import write_snapshot

    rng = np.random.default_rng(seed)
    content_guids = _guids(0xC0, N_CONTENT)
    deleted_guids = _guids(0xDE, 500)
    user_guids = _guids(0xA0, N_USERS)
    modes = np.array(["shiny", "rmd-static", "quarto-static", "python-dash", "jupyter-static", "static", "api"])
    mode = modes[rng.integers(0, len(modes), N_CONTENT)]
    r_versions = np.array(["3.6.3", "4.0.5", "4.1.3", "4.2.3", "4.3.3", "4.4.1", None], dtype=object)
    py_versions = np.array(["3.8.10", "3.9.19", "3.10.14", "3.11.9", "3.12.4", None], dtype=object)
    deployed = rng.random(N_CONTENT) > 0.05
    content = pd.DataFrame({
        "guid": content_guids, "title": [f"Item {i} <&>" for i in range(N_CONTENT)], "app_mode": mode,
        "owner_username": [f"user{i % N_USERS}" for i in range(N_CONTENT)],
        "bundle_id": np.where(deployed, np.arange(N_CONTENT).astype(str), None),
        "r_version": r_versions[rng.integers(0, len(r_versions), N_CONTENT)],
        "py_version": py_versions[rng.integers(0, len(py_versions), N_CONTENT)],
        "quarto_version": np.where(mode == "quarto-static", "1.4.553", None),
        "run_as": np.where(rng.random(N_CONTENT) < 0.02, "svc", None),
        "content_url": [f"http://connect.example/content/{g}/" for g in content_guids],
        "last_deployed_time": WINDOW_START,
    })
    # Zipf-like popularity over content; a few percent of events hit deleted content.
    weights = 1 / np.arange(1, N_CONTENT + 1) ** 1.1
    weights /= weights.sum()

    def pick_content(n):
        idx = rng.choice(N_CONTENT, size=n, p=weights)
        out = content_guids[idx]
        gone = rng.random(n) < DELETED_FRACTION
        out[gone] = deleted_guids[rng.integers(0, len(deleted_guids), gone.sum())]
        return out

    def pick_users(n):
        users = user_guids[rng.integers(0, N_USERS, n)]
        users[rng.random(n) < ANONYMOUS_FRACTION] = None
        return users

    def times(n):
        span = (WINDOW_END - WINDOW_START).value
        return pd.to_datetime(WINDOW_START.value + rng.integers(0, span, n), utc=True)

    n_sessions = int(events * SHINY_FRACTION)
    n_visits = events - n_sessions
    visits = pd.DataFrame({"content_guid": pick_content(n_visits), "user_guid": pick_users(n_visits),
                           "time": times(n_visits)})
    started = times(n_sessions)
    ended = started + pd.to_timedelta(rng.integers(60, 4 * 3600, n_sessions), unit="s")
    ended = ended.where(rng.random(n_sessions) > 0.01)  # 1% still open
    sessions = pd.DataFrame({"content_guid": pick_content(n_sessions), "user_guid": pick_users(n_sessions),
                             "started": started, "ended": ended})
    sizes = rng.lognormal(15, 2, N_CONTENT).astype(np.int64)
    storage = pd.DataFrame({"content_guid": content_guids, "bundle_count": 3, "bytes_total": sizes * 3,
                            "bytes_active": sizes, "bytes_inactive": sizes * 2})
    users = pd.DataFrame({"guid": user_guids, "user_role": "viewer", "active_time": WINDOW_END, "locked": False})
    runtimes = pd.DataFrame({"language": ["r", "r", "python", "python"],
                             "version": ["4.3.3", "4.4.1", "3.11.9", "3.12.4"]})
    manifest = {"server": "http://connect.example", "server_version": "2026.06.0",
                "window": {"start": WINDOW_START.isoformat(), "end": WINDOW_END.isoformat()},
                "unavailable": {"bundles": "storage endpoints used instead"}}
    write_snapshot(path, {"content": content, "visits": visits, "shiny_sessions": sessions,
                          "content_storage": storage, "users": users, "server_runtimes": runtimes},
                   manifest, {"version": "2026.06.0"})


def measure(path: Path) -> dict:
    from connect_analysis.analysis import analyze, load_for_analysis

    t0 = time.perf_counter()
    snap = load_for_analysis(path)  # what `connect-analysis analyze` loads
    t1 = time.perf_counter()
    result = analyze(snap)
    t2 = time.perf_counter()
    return {"events": int(len(snap.visits) + len(snap.shiny_sessions)), "load_seconds": round(t1 - t0, 1),
            "analyze_seconds": round(t2 - t1, 1),
            "peak_rss_mb": round(peak_rss_bytes() / 2**20),
            "visits_counted": result.summary["usage"]["visits"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, help="Snapshot directory to build (default: a temporary one).")
    parser.add_argument("--phase", choices=["build", "measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "build":
        build(args.dir, args.events)
        return
    if args.phase == "measure":
        print(json.dumps(measure(args.dir)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        snap = args.dir or Path(tmp) / "snapshot"
        t = time.perf_counter()
        if not (snap / "manifest.json").exists():
            subprocess.run([sys.executable, __file__, "--phase", "build", "--dir", str(snap),
                            "--events", str(args.events)], check=True)
        print(f"built snapshot in {time.perf_counter() - t:.0f} s")
        out = subprocess.run([sys.executable, __file__, "--phase", "measure", "--dir", str(snap)],
                             check=True, capture_output=True, text=True).stdout
        figures = json.loads(out)
        print(json.dumps(figures, indent=2))
        write_result("bench_analysis", figures)
        ok = figures["analyze_seconds"] < 30 and figures["peak_rss_mb"] * 2**20 < 2 * 10**9
        print("targets (analyze < 30 s, peak RSS < 2 GB):", "met" if ok else "NOT met")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
