"""The docs: a short README that starts with the set-up commands, generated reference pages that
match the code (the drift check fails on a stale one), and benchmark results with provenance."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.unit


def _gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "tools" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_is_short_and_starts_with_the_two_set_up_commands():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 150
    assert lines[:6] == ["# connect-analysis", "", "```sh",
                         "make demo   # runs the whole kit against the embedded simulated Connect server; "
                         "prints the report path", "make test   # ruff and the test suite", "```"]


def test_every_link_in_the_readme_and_the_site_index_exists():
    import re

    for page in (REPO / "README.md", REPO / "docs" / "index.qmd"):
        for target in re.findall(r"\]\(([^)#]+)\)", page.read_text()):
            if not target.startswith("http"):
                assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_generated_pages_are_current():
    assert _gen_docs().stale_pages() == []


def test_the_drift_check_fails_on_a_stale_page(tmp_path, monkeypatch):
    gen = _gen_docs()
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    page = tmp_path / "docs" / "reference" / "cli.qmd"
    page.write_text(page.read_text().replace("--out", "--output", 1))
    monkeypatch.setattr(gen, "DOCS", tmp_path / "docs")
    assert gen.stale_pages() == ["reference/cli.qmd"]
    assert gen.main(["--check"]) == 1


def test_bench_results_carry_their_provenance_and_reach_the_performance_page():
    results = [json.loads(p.read_text()) for p in sorted((REPO / "bench" / "results").glob("*.json"))]
    assert {r["bench"] for r in results} >= {"bench_fetch", "bench_analysis", "bench_report",
                                            "bench_faults", "bench_schedule", "bench_simulator",
                                            "bench_sysreqs"}
    page = (REPO / "docs" / "explanation" / "performance.qmd").read_text()
    for r in results:
        assert {"bench", "date", "commit", "machine", "figures", "recorded_by"} <= set(r)
        for value in r["figures"].values():
            shown = value if isinstance(value, str) else json.dumps(value)
            assert shown.replace("|", "\\|") in page
    fetch = next(r for r in results if r["bench"] == "bench_fetch" and "README" in r["recorded_by"])
    assert "**29.7x**" in fetch["figures"]["cold fetch of `large`, 20 ms latency, vs posit-sdk as documented"]
    assert fetch["commit"].startswith("ec6aa57")
