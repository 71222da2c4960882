"""How long `plan` takes beyond the analysis: build_plan on the demo snapshot (150 items) and on
its readiness and system-requirements rows repeated to 20,550 items (the size of `large`).

    .venv/bin/python bench/bench_plan.py

Prints the median of 3 runs of each; on a shared 2-core machine the figures are noisy.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from _results import write_result

from connect_analysis.analysis import analyze, load_for_analysis
from connect_analysis.demo import make_demo_snapshot
from connect_analysis.plan import build_plan

REPEAT = 137  # 150 demo items x 137 = 20,550


def _median_seconds(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = load_for_analysis(make_demo_snapshot(Path(tmp) / "snap"))
    result = analyze(snapshot)
    table = result.readiness
    rows = result.extra_tables["system-requirements.csv"]
    big = dataclasses.replace(result, readiness=pd.concat(
        [table.assign(guid=table["guid"] + f"-{k}") for k in range(REPEAT)], ignore_index=True),
        extra_tables={**result.extra_tables, "system-requirements.csv": pd.concat(
            [rows.assign(content_guid=rows["content_guid"] + f"-{k}") for k in range(REPEAT)],
            ignore_index=True)})
    figures = {}
    for label, r in (("demo", result), ("x137", big)):
        seconds = _median_seconds(lambda r=r: build_plan(r, snapshot=snapshot))
        print(f"build_plan {label}: {len(r.readiness):,} items: {seconds:.2f} s (median of 3)")
        figures[f"build_plan {label} ({len(r.readiness)} items): median seconds of 3"] = round(seconds, 2)
    write_result("bench_plan", figures)


if __name__ == "__main__":
    main()
