"""`connect-analysis demo` and `make demo`: the whole kit against the simulator."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
from report_fixtures import REPO


def test_demo_prints_the_report_path(demo_report):
    out = demo_report.out
    assert demo_report.stdout.strip() == str(out / "report.html")
    assert (out / "report.html").stat().st_size > 1_000_000  # plotly.js is inline
    assert (out / "snapshot" / "manifest.json").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["server"]["url"].startswith("http://127.0.0.1:")
    assert summary["content"]["total"] > 50 and summary["important_content"]


def test_demo_fetches_bundle_history(demo_report):
    growth = pd.read_csv(demo_report.out / "storage-growth.csv")
    assert len(growth) >= 6 and growth["bundles_added"].sum() > 100
    assert growth["bytes_cumulative"].is_monotonic_increasing


def test_make_demo_runs_the_demo_command():
    plan = subprocess.run(["make", "-n", "demo"], cwd=REPO, capture_output=True, text=True).stdout
    assert "connect-analysis demo --out demo-output" in plan
