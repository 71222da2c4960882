"""summary.json for the demo snapshot on a fixed seed and clock equals the golden file.

The golden file was written by this module's `write_golden()` from the code as it was before
the packaging and layering renovation (issue 13), so the renovation provably changes no
figure. Since then it gained one key and no changed figure: readiness.latest_builds (for how
many items the jobs were read; the demo's are all read). A deliberate change to the analysis
regenerates it:

    .venv/bin/python tests/test_golden_summary.py
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "golden" / "demo-summary.json"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SERVER = "http://simulator.invalid"  # the loopback URL (its port varies) is replaced by this

pytestmark = pytest.mark.integration


def demo_summary() -> dict:
    """The demo scenario (seed 1) served at NOW, fetched like `demo` does, analysed with the
    default options; the server's loopback URL replaced by SERVER."""
    from connect_analysis.analysis import analyze, load_for_analysis
    from connect_analysis.fetch import fetch_snapshot
    from connect_simulator import start_simulator

    key = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory() as tmp, \
            start_simulator(scenario="demo", api_key=key, seed=1, port=0, now=NOW) as sim:
        fetch_snapshot(sim.url, Path(tmp) / "snap", days=90, api_key=key, quiet=True,
                       now=NOW, bundle_history=True)
        summary = analyze(load_for_analysis(Path(tmp) / "snap")).summary
        text = json.dumps(summary, sort_keys=True).replace(sim.url.rstrip("/"), SERVER)
    return json.loads(text)


def write_golden() -> None:
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(demo_summary(), indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def test_demo_summary_matches_the_golden_file():
    expected = json.loads(GOLDEN.read_text())
    got = demo_summary()
    changed = sorted(k for k in expected.keys() | got.keys() if expected.get(k) != got.get(k))
    assert not changed, f"summary.json sections changed: {changed}"
    assert got == expected
    assert got["content"]["total"] > 50 and got["important_content"]  # not an empty run


if __name__ == "__main__":
    sys.exit(write_golden())
