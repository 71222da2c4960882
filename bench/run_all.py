"""Run every benchmark in bench/ one after another, each in its own process.

    .venv/bin/python bench/run_all.py [--quick]

--quick skips the two long ones (bench_fetch against posit-sdk, bench_faults on `large`).
Each script prints its own figures; this prints how long each took.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LONG = {"bench_fetch.py", "bench_faults.py"}


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        if quick and script.name in LONG:
            continue
        print(f"=== {script.name}", flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"=== {script.name}: exit {rc} in {time.perf_counter() - start:.1f} s", flush=True)
        if rc:
            failed.append(script.name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
