"""Fixtures of the reliability and security suite (issue 7); the helpers are in rel_suite.py.

- `kit` runs the real CLI in a subprocess (HOME and the working directory inside the
  test's own directory) and, after every command, scans its stdout, stderr and every
  file under that directory for the API key: the count must stay zero.
- `simulators` starts simulated Connect servers and, when the test ends, checks that
  their request logs hold GET requests only.
- FIGURES counts what the suite tried; the totals are printed at the end of the run (and
  written to $RELIABILITY_FIGURES as JSON when that is set). The README quotes them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from rel_suite import FIGURES, KEY, NOW, SINCE, Kit, check_get_only

from connect_simulator import generate_dataset, start_simulator


def pytest_configure(config):
    config.addinivalue_line("markers", "hostile(why): a case of issue 18's Why (counted in the docs)")


def pytest_terminal_summary(terminalreporter):
    if not FIGURES.commands_run:
        return
    figures = FIGURES.as_dict()
    terminalreporter.write_sep("-", "reliability and security suite")
    terminalreporter.write_line(" ".join(f"{k}={v}" for k, v in figures.items()))
    target = os.environ.get("RELIABILITY_FIGURES")
    if target:
        Path(target).write_text(json.dumps(figures, indent=2) + "\n")


@pytest.fixture
def kit(tmp_path) -> Kit:
    k = Kit(tmp_path, FIGURES)
    yield k
    k.scan()  # whatever the test did after its last command, the key is still nowhere


@pytest.fixture(scope="session")
def demo_dataset():
    """The demo scenario on a fixed clock. Simulators only read it, so one is shared."""
    return generate_dataset("demo", seed=3, now=NOW)


@pytest.fixture
def simulators():
    """start(**kw) -> a running simulator (the suite's key); stopped and checked for GET-only
    request logs when the test ends."""
    started = []

    def start(dataset, **kw):
        kw.setdefault("api_key", KEY)
        sim = start_simulator(dataset=dataset, **kw)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()
    for sim in started:
        check_get_only(sim.request_log)


@pytest.fixture(scope="session")
def clean_snapshot(demo_dataset, tmp_path_factory) -> Path:
    """One admin fetch of the demo server (in-process, bundle history on): the snapshot that
    bad-input tests put in harm's way, and the reference the fault tests compare with."""
    from connect_analysis.fetch import fetch_snapshot

    path = tmp_path_factory.mktemp("clean") / "snapshot"
    with start_simulator(dataset=demo_dataset, api_key=KEY) as sim:
        fetch_snapshot(sim.url, path, since=SINCE, api_key=KEY, quiet=True, bundle_history=True)
    check_get_only(sim.request_log)
    return path


@pytest.fixture
def snapshot_copy(clean_snapshot, tmp_path) -> Path:
    """A private copy of the clean snapshot in the test's directory, at tmp_path/snap."""
    dest = tmp_path / "snap"
    shutil.copytree(clean_snapshot, dest)
    return dest
