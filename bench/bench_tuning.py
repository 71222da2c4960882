"""What each process-wide setting of a fetch earns (connect_analysis/_process.py).

    .venv/bin/python bench/bench_tuning.py [--rounds 4] [--scenario large] [--latency-ms 20]

One cold fetch of the scenario, one day of usage added, then the same incremental refresh from
copies of that snapshot, each in a fresh process, with CONNECT_ANALYSIS_TUNING set to: all on,
all off, and each piece left out in turn. The settings take turns round by round, so a machine
that slows down or speeds up meanwhile weighs on each alike. Prints and records the median
refresh time, CPU time (the process's, whole run; less swayed by other jobs) and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

import pandas as pd
from _results import write_result
from bench_fetch import KEY, kit_fetch, measured

from connect_analysis._process import PIECES

# all on, all off, and (with more than one piece) each piece left out in turn
SETTINGS = {"all on": "on", "all off": "off"} | ({
    f"without {name}": ",".join(p for p in PIECES if p != name) for name in PIECES}
    if len(PIECES) > 1 else {})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="large")
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()

    from connect_simulator import start_simulator

    now = pd.Timestamp("2026-06-30T12:00:00Z")
    seconds: dict[str, list[float]] = {name: [] for name in SETTINGS}
    rss: dict[str, list[float]] = {name: [] for name in SETTINGS}
    cpu: dict[str, list[float]] = {name: [] for name in SETTINGS}  # less swayed by other jobs
    work = Path(tempfile.mkdtemp(prefix="bench-tuning-"))
    try:
        with start_simulator(scenario=args.scenario, api_key=KEY, latency_ms=args.latency_ms,
                             now=now) as sim:
            os.environ["CONNECT_ANALYSIS_TUNING"] = "on"
            cold = measured(sim, "cold fetch (all on)", kit_fetch, sim.url, str(work / "base"),
                            now.isoformat(), 90, 8, None)
            sim.advance(days=1)
            later = sim.dataset.now.isoformat()
            for r in range(args.rounds):
                for name, value in SETTINGS.items():
                    snap = work / f"snap-{r}-{value}"
                    shutil.copytree(work / "base", snap)
                    os.environ["CONNECT_ANALYSIS_TUNING"] = value
                    result = measured(sim, f"refresh {name}, round {r + 1}", kit_fetch, sim.url,
                                      str(snap), later, 90, 8, None)
                    seconds[name].append(result["seconds"])
                    rss[name].append(result["rss"] / 2**20)
                    cpu[name].append(result["cpu_seconds"])
                    shutil.rmtree(snap, ignore_errors=True)
    finally:
        os.environ.pop("CONNECT_ANALYSIS_TUNING", None)
        shutil.rmtree(work, ignore_errors=True)
    figures = {"scenario": args.scenario, "rounds": args.rounds,
               "cold_fetch_seconds": round(cold["seconds"], 2)}
    for name in SETTINGS:
        median_s, median_mib = statistics.median(seconds[name]), statistics.median(rss[name])
        median_cpu = statistics.median(cpu[name])
        print(f"{name:<16} refresh median {median_s:.2f} s (each "
              f"{', '.join(f'{s:.2f}' for s in seconds[name])}); CPU median {median_cpu:.2f} s; "
              f"peak RSS median {median_mib:.0f} MiB")
        figures[f"refresh {name}: median CPU seconds"] = round(median_cpu, 2)
        figures[f"refresh {name}: median seconds"] = round(median_s, 2)
        figures[f"refresh {name}: seconds each"] = [round(s, 2) for s in seconds[name]]
        figures[f"refresh {name}: median peak RSS MiB"] = round(median_mib)
    write_result("bench_tuning", figures)


if __name__ == "__main__":
    main()
