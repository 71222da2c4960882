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


def test_demo_fetches_as_a_real_server_of_its_version_would(demo_report):
    # the demo's server is 2026.06 (storage endpoints): the default fetch reads no per-bundle
    # history there, so the demo shows what users of such a server see
    manifest = json.loads((demo_report.out / "snapshot" / "manifest.json").read_text())
    assert manifest["server_version"] == "2026.06.0"
    assert manifest["sources"]["content_storage"] == "storage endpoints"
    assert pd.read_csv(demo_report.out / "storage-growth.csv").empty


def test_without_bundle_history_the_report_says_so_and_projects_nothing(demo_report):
    page = (demo_report.out / "report.html").read_text()
    storage = page[page.index('id="section-04-storage-and-downtime"'):page.index('id="section-05')]
    assert "No bundle history in this snapshot" in storage and "--bundle-history" in storage
    assert "No projection" in storage
    assert "ca-chart" not in storage and "projected" not in storage
    assert "growth per month" not in storage and "months of history" not in storage


def test_make_demo_runs_the_demo_command():
    plan = subprocess.run(["make", "-n", "demo"], cwd=REPO, capture_output=True, text=True).stdout
    assert "connect-analysis demo --out demo-output" in plan
