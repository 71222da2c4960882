"""Session fixtures for the report tests: each report is rendered once per test session.

demo_report:    `connect-analysis demo` (simulator -> fetch -> analyse -> notebooks -> HTML).
Both pin `--renderer builtin`, so no test depends on whether a Quarto is installed.
hostile_report: `connect-analysis report` on a hand-built snapshot whose titles, owner and
                preflight text carry markup, with a must-keep GUID and a preflight file.
Both run with a canary CONNECT_API_KEY in the environment, which must appear nowhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from report_snapshot import GUIDS, write_hostile_snapshot

CANARY_KEY = "canary-key-5f0b7e2c91d84a6b"
REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
PREFLIGHT_DETAIL = "<script>alert('preflight')</script> disk full"


@dataclass
class Rendered:
    out: Path  # the report directory
    returncode: int
    stdout: str
    stderr: str


def _run_cli(args: list[str]) -> Rendered:
    env = {k: v for k, v in os.environ.items() if k not in ("CONNECT_SERVER", "QUARTO_PATH")}
    env["CONNECT_API_KEY"] = CANARY_KEY
    proc = subprocess.run([sys.executable, "-m", "connect_analysis.cli", *args], env=env,
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    out = Path(args[args.index("--out") + 1])
    return Rendered(out, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory) -> Rendered:
    """The demo, run once: ROOT/demo-output holds the snapshot and the report."""
    root = tmp_path_factory.mktemp("demo")
    made = _run_cli(["demo", "--out", str(root / "demo-output"), "--renderer", "builtin"])
    assert made.returncode == 0, made.stderr[-3000:]
    return made


@pytest.fixture(scope="session")
def hostile_report(tmp_path_factory) -> Rendered:
    """A report on a snapshot full of markup, with --must-keep, --top and --preflight."""
    root = tmp_path_factory.mktemp("hostile")
    snapshot = write_hostile_snapshot(root / "snapshot")
    preflight = root / "preflight.json"
    preflight.write_text(json.dumps([
        {"name": "storage", "target": "/mnt/<shared>", "ok": False, "detail": PREFLIGHT_DETAIL,
         "fix": "grow the volume"},
        {"name": "postgres", "target": "db:5432", "ok": True, "detail": "PostgreSQL 15.4",
         "fix": None}]))
    made = _run_cli(["report", "--snapshot", str(snapshot), "--out", str(root / "out"),
                     "--top", "3", "--must-keep", GUIDS[4], "--preflight", str(preflight),
                     "--renderer", "builtin"])
    assert made.returncode == 0, made.stderr[-3000:]
    return made


def save_artifact(name: str, data: bytes) -> Path:
    """Keep a file (e.g. a screenshot) in test-artifacts/ (gitignored) for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def large_report(tmp_path_factory) -> Path:
    """A report of the simulator's `large` scenario (20,500 items), fetched with the default
    options as from a 2026.06 server; returns the report directory."""
    import secrets

    from connect_analysis.fetch import fetch_snapshot
    from connect_simulator import start_simulator

    root = tmp_path_factory.mktemp("large")
    key = secrets.token_urlsafe(16)
    with start_simulator(scenario="large", api_key=key, seed=1, port=0) as sim:
        fetch_snapshot(sim.url, root / "snapshot", days=90, api_key=key, quiet=True)
    made = _run_cli(["report", "--snapshot", str(root / "snapshot"), "--out", str(root / "out"),
                     "--renderer", "builtin"])
    assert made.returncode == 0, made.stderr[-3000:]
    return made.out
