"""Time the unattended paths: preflight NodePort sampling, a cold and a same-day scheduled run
against the demo simulator, building the Connect bundle, and the clean environment the bundle
asks for (uv, from its cache).

    .venv/bin/python bench/bench_schedule.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _results import write_result

from connect_analysis.preflight.nodeports import check_nodeports
from connect_analysis.publish import build_bundle
from connect_analysis.schedule import scheduled_run
from connect_simulator import start_simulator

KEY = "bench-key"


SECONDS: dict[str, float] = {}


def timed(label: str, fn):
    t0 = time.perf_counter()
    result = fn()
    SECONDS[label] = round(time.perf_counter() - t0, 2)
    print(f"{label:<58} {SECONDS[label]:7.2f} s", flush=True)
    return result


def main() -> None:
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    nodes = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    results = timed("preflight nodeport: 3 nodes x 128 of 2768 ports (refused)",
                    lambda: check_nodeports(nodes, (30000, 32767)))
    assert all(r.ok for r in results), results

    with tempfile.TemporaryDirectory() as tmp, \
            start_simulator(scenario="demo", api_key=KEY, port=0) as sim:
        os.environ["CONNECT_API_KEY"] = KEY
        root = Path(tmp) / "reports"
        timed("scheduled run, cold (full fetch + report)", lambda: scheduled_run(sim.url, root, keep=3))
        timed("scheduled run, same day (incremental fetch + report)",
              lambda: scheduled_run(sim.url, root, keep=3))
        assert (root / datetime.now(UTC).date().isoformat() / "report.html").is_file()

        bundle = timed("connect-analysis bundle (copy + rsconnect write-manifest)",
                       lambda: build_bundle(Path(tmp) / "bundle"))
        uv = shutil.which("uv")
        if uv:
            venv = Path(tmp) / "venv"

            def make_venv():
                subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
                subprocess.run([uv, "pip", "install", "-q", "--offline", "--python",
                                str(venv / "bin" / "python"), "-r", "requirements.txt"],
                               check=True, cwd=bundle)  # the kit's wheel is named relative to it

            timed("clean venv from requirements.txt (uv, offline cache)", make_venv)
    write_result("bench_schedule", {f"{label} (seconds)": s for label, s in SECONDS.items()})


if __name__ == "__main__":
    main()
