"""The report's "Data files" list: the files the analysis and the plan actually wrote, each
with what it holds (analysis ANALYSIS_FILES, plan PLAN_FILES)."""

from __future__ import annotations

import os
import stat

from analysis_fixtures import small_snapshot

from connect_analysis.analysis import analyze, write_analysis
from connect_analysis.analysis.output import ANALYSIS_FILES, write_atomic
from connect_analysis.plan import PLAN_FILES, write_plan
from connect_analysis.report.render import data_files, files_html


def _written(tmp_path):
    snapshot = small_snapshot()
    result = analyze(snapshot)
    write_analysis(result, tmp_path)
    write_plan(result, tmp_path, snapshot=snapshot)
    return result


def test_the_list_is_every_analysis_output_in_the_order_written(tmp_path):
    _written(tmp_path)
    on_disk = {p.name for p in tmp_path.iterdir() if p.is_file()}
    assert on_disk == set(ANALYSIS_FILES)  # the analysis writes each listed file, and no other
    listed = [(href, about) for href, about in data_files(tmp_path, []) if "/" not in href]
    assert [href for href, _ in listed] == list(ANALYSIS_FILES)
    assert listed[0] == ("summary.json", "the answers, machine-readable")
    assert ("readiness.csv", "every item's readiness verdict on the new cluster, reasons, "
            "what to do") in listed
    assert all(about for _, about in listed)
    assert '<a href="readiness.csv">readiness.csv</a> &mdash; every item' in files_html(listed)


def test_the_plan_files_and_the_run_record_follow_with_their_notes(tmp_path):
    _written(tmp_path)
    notebook = tmp_path / "notebooks" / "01-overview.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    files = data_files(tmp_path, [notebook, tmp_path.parent / "elsewhere.ipynb"])
    plan = {href.removeprefix("plan/"): about for href, about in files if href.startswith("plan/")}
    written = {p.relative_to(tmp_path / "plan").as_posix()
               for p in (tmp_path / "plan").rglob("*") if p.is_file()}
    assert set(plan) == written and {"values.yaml", "rebuild.sh", "plan.json"} <= written
    assert all(plan[name] == PLAN_FILES[name] for name in written if "/" not in name)
    assert files[-1] == ("notebooks/01-overview.ipynb", "executed notebook (run record)")


def test_a_csv_the_analysis_does_not_write_is_linked_without_a_note(tmp_path):
    _written(tmp_path)
    (tmp_path / "old-extra.csv").write_text("a\n1\n")
    files = dict(data_files(tmp_path, []))
    assert files["old-extra.csv"] == "" and files["runtimes.csv"] == ANALYSIS_FILES["runtimes.csv"]


def test_write_atomic_replaces_the_file_with_the_usual_mode(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old")
    old_umask = os.umask(0o022)
    try:
        assert write_atomic(target, "new \u2713") == target
    finally:
        os.umask(old_umask)
    assert target.read_text(encoding="utf-8") == "new \u2713"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # readable beside a shared report
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary left
