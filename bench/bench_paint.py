"""First contentful paint of the demo report in headless Chromium (target < 0.6 s).

    .venv/bin/python bench/bench_paint.py [--runs 5] [--report OUT/report.html]

Without --report the demo is built first (`connect-analysis demo --renderer builtin` into a
temporary directory). Each run opens the page in a fresh Chromium profile (Debian's chromium,
the flags the kit's PDF printing uses) and reads the paint timing entry. Writes
bench/results/paint-YYYYMMDDTHHMMSSZ.json: date, commit, machine, figures. The machine is
shared: figures vary with its load (the load average is recorded).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the DevTools-over-a-pipe helper the tests use
from _results import write_result  # noqa: E402

PROBE = """(() => {
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  return {fcp_ms: fcp ? fcp.startTime : null, load_ms: nav ? nav.loadEventEnd : null,
          charts_drawn: document.querySelectorAll('.ca-chart svg.main-svg').length};
})()"""


def build_demo(root: Path) -> Path:
    subprocess.run([sys.executable, "-m", "connect_analysis.cli", "demo", "--out", str(root / "demo"),
                    "--renderer", "builtin"], check=True, capture_output=True, cwd=REPO)
    return root / "demo" / "report.html"


def main() -> int:
    from chromium import available, visit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()
    if not available():
        print("error: needs chromium (make system-deps)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-paint-") as tmp:
        report = args.report or build_demo(Path(tmp))
        runs = [visit(report.resolve().as_uri(), probe=PROBE, settle_s=0.5).facts
                for _ in range(args.runs)]
        size = report.stat().st_size
    fcp = [r["fcp_ms"] / 1000 for r in runs]
    figures = {"report_bytes": size, "runs": len(runs), "fcp_s": fcp,
               "fcp_median_s": statistics.median(fcp), "target_s": 0.6,
               "load_s": [r["load_ms"] / 1000 for r in runs],
               "charts_drawn": [r["charts_drawn"] for r in runs]}
    path = write_result("bench_paint", figures)
    print(json.dumps(figures, indent=2))
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
