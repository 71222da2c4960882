"""Time per stage of the report on the demo snapshot: analyse, execute (papermill), render.

    .venv/bin/python bench/bench_report.py [--runs 3] [--pdf] [--dir DIR]

The demo snapshot is fetched once from the in-process simulator (timed separately as
"fetch"); each run then builds the whole report from it with the built-in renderer.
Target: the whole report (analyse + execute + render) in <= 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _results import write_result

from connect_analysis.demo import make_demo_snapshot
from connect_analysis.report import build_report

TARGET_S = 60.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pdf", action="store_true", help="also time printing report.pdf")
    ap.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-report-"))
    if not args.dir:
        atexit.register(shutil.rmtree, work, True)  # a temporary one goes when the bench ends

    t0 = time.perf_counter()
    snapshot = make_demo_snapshot(work / "snapshot")
    fetch_s = time.perf_counter() - t0
    print(f"cpus: {os.cpu_count()}  fetch (simulator -> snapshot): {fetch_s:.1f} s")

    stages: dict[str, list[float]] = {}
    for i in range(args.runs):
        t0 = time.perf_counter()
        made = build_report(snapshot, work / f"out-{i}", pdf=args.pdf, renderer="builtin")
        total = time.perf_counter() - t0
        for stage, s in made.seconds.items():
            stages.setdefault(stage, []).append(s)
        stages.setdefault("total", []).append(total)
        size = made.html.stat().st_size / 1e6
        print(f"run {i + 1}: " + "  ".join(f"{k} {v:.1f} s" for k, v in made.seconds.items())
              + f"  total {total:.1f} s  report.html {size:.1f} MB")
    print("median: " + "  ".join(f"{k} {statistics.median(v):.1f} s" for k, v in stages.items()))
    write_result("bench_report", {"runs": args.runs, "fetch_seconds": round(fetch_s, 2)} | {
        f"{stage}_median_seconds": round(statistics.median(v), 2) for stage, v in stages.items()})
    ok = statistics.median(stages["total"]) <= TARGET_S
    print(f"target <= {TARGET_S:.0f} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
