"""Faults: a whole fetch while the simulator answers 20% of requests with 503, 429 (with
Retry-After) or a connection dropped mid-body. The snapshot equals the fault-free one row
for row, and the kit reports one retry per fault.

The same check on the `large` scenario takes minutes, so it lives in bench/bench_faults.py
(figures in the README); here it runs on the demo scenario with every bundle read, which
makes the most requests the demo server can be asked for.
"""

from __future__ import annotations

import json

import pandas as pd
from rel_suite import FIGURES, SINCE

from connect_analysis import schema
from connect_analysis.reliability import FAULT_STATUSES, comparable_tables


def test_twenty_percent_faults_lose_nothing_and_retries_are_reported(kit, simulators, demo_dataset,
                                                                     clean_snapshot):
    FIGURES.tried("20% faults during a whole fetch")
    sim = simulators(demo_dataset, fault_rate=0.2, retry_after=1, seed=11)
    snap = kit.base / "snap"
    run = kit("fetch", "--server", sim.url, "--out", snap, "--since", SINCE, "--bundle-history")
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)

    log = sim.request_log
    faults = [entry for entry in log if entry[2] in FAULT_STATUSES]
    kinds = {status for _, _, status in faults}
    assert kinds == FAULT_STATUSES, "every kind of fault was injected"
    assert 0.12 < len(faults) / len(log) < 0.28

    manifest = json.loads((snap / "manifest.json").read_text())
    clean_manifest = json.loads((clean_snapshot / "manifest.json").read_text())
    assert manifest["retries"] == len(faults)  # one retry per fault, each one reported
    assert manifest["requests"] == len(log)
    assert manifest["row_counts"] == clean_manifest["row_counts"]
    assert manifest["unavailable"] == clean_manifest["unavailable"]

    clean_url = clean_manifest["server"]
    got, want = comparable_tables(snap, sim.url), comparable_tables(clean_snapshot, clean_url)
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)
    assert sum(len(df) for df in got.values()) > 10_000

    FIGURES.faults_survived += len(faults)
    FIGURES.requests_retried += manifest["retries"]  # GET only: checked as the simulators fixture ends
