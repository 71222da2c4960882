"""Benchmarks write results, not prose: one JSON file per run under bench/results/.

    write_result("bench_fetch", {"cold_fetch_seconds": 16.7, ...}, command=sys.argv)

Each file holds when and where the figures were measured (date, commit, machine facts, the
load average) beside the figures themselves. docs/explanation/performance.qmd is generated
from these files by tools/gen_docs.py; no figure is ever written into the docs by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
REPO = RESULTS.parents[1]


def machine() -> dict:
    """Facts about the machine a figure was measured on."""
    load = [round(x, 2) for x in os.getloadavg()]
    facts = {"cpus": os.cpu_count(), "platform": platform.platform(),
             "python": platform.python_version(), "load_average_1m": load[0], "load_average_1_5_15": load}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        facts["cpu"] = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines()
                             if ln.startswith("model name")), None)
        meminfo = Path("/proc/meminfo").read_text().split()
        facts["memory_gib"] = round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1)
    except (OSError, ValueError):
        pass
    return facts


def commit() -> str:
    """The commit measured: short hash, with "-dirty" when the tree had changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short=7", "HEAD") or "unknown"
    return head + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def write_result(bench: str, figures: dict, *, command: list[str] | None = None,
                 notes: str | None = None, directory: Path = RESULTS) -> Path:
    """Write bench/results/BENCH-YYYYmmddTHHMMSSZ.json and return its path.

    figures: {name: number or text}, names saying their unit (e.g. "refresh_percent_of_cold").
    """
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    result = {"bench": bench, "date": now.isoformat().replace("+00:00", "Z"), "commit": commit(),
              "command": " ".join(command if command is not None else ["bench/" + Path(sys.argv[0]).name,
                                                                     *sys.argv[1:]]),
              "machine": machine(), "recorded_by": "bench", "figures": figures}
    if notes:
        result["notes"] = notes
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{bench}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"result: {path}")
    return path
