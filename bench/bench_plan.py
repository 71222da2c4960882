"""How long `plan` takes beyond the analysis: build_plan on the demo snapshot (150 items) and on
its readiness and system-requirements rows repeated to 20,550 items (the size of `large`).

    .venv/bin/python bench/bench_plan.py

Prints the median of 3 runs of each; on a shared 2-core machine the figures are noisy.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connect_analysis.analysis import analyze, load_for_analysis  # noqa: E402
from connect_analysis.demo import make_demo_snapshot  # noqa: E402
from connect_analysis.plan import build_plan  # noqa: E402

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
    for label, r in (("demo", result), ("x137", big)):
        seconds = _median_seconds(lambda r=r: build_plan(r, snapshot=snapshot))
        print(f"build_plan {label}: {len(r.readiness):,} items: {seconds:.2f} s (median of 3)")


if __name__ == "__main__":
    main()
