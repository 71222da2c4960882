import csv
import io
import json
import subprocess
import sys

import pandas as pd
import pytest
from analysis_fixtures import CONTENT, IMAGES_YAML, SERVER, manifest, small_snapshot, tables

import connect_analysis.analysis as analysis
from connect_analysis.analysis import analyze, analyze_snapshot, write_analysis
from connect_analysis.analysis.output import csv_text
from connect_analysis.errors import AnalysisError
from connect_analysis.snapshot import write_snapshot

CONTRACT = {
    "server": {"url", "version"},
    "window": {"start", "end"},
    "content": {"total", "deployed", "never_deployed", "by_app_mode"},
    "usage": {"visits", "shiny_sessions", "unique_viewers", "events_for_deleted_content"},
    "storage": {"bundle_count", "bundle_bytes_total", "bundle_bytes_active", "bundle_bytes_inactive",
                "current_use_bytes", "recommended_bytes"},
    "run_as": {"custom", "current_user"},
    "users": {"total", "by_role"},
}


def test_all_is_honest():
    for name in analysis.__all__:
        assert getattr(analysis, name) is not None
    assert {"analyze", "write_analysis", "analyze_snapshot", "compare_snapshots", "Analysis"} <= set(analysis.__all__)


def test_summary_holds_the_contract():
    s = analyze(small_snapshot()).summary
    for key, inner in CONTRACT.items():
        assert inner <= set(s[key]), key
    for key in ("runtimes", "important_content", "license", "unavailable"):
        assert key in s
    assert set(s["runtimes"]) == {"r", "python", "quarto"}
    for lang in s["runtimes"].values():
        assert set(lang) == {"in_use", "installed", "missing_on_server"}
    assert {"guid", "title", "content_url", "vanity_url", "visits", "shiny_sessions",
            "unique_viewers", "reason"} <= set(s["important_content"][0])
    assert s["server"] == {"url": SERVER, "version": "2024.03.0"}
    assert s["window"] == {"start": "2024-03-01T00:00:00Z", "end": "2024-03-31T00:00:00Z"}
    assert s["content"] == {"total": 8, "deployed": 7, "never_deployed": 1,
                            "by_app_mode": {"jupyter-static": 1, "python-dash": 1, "python-fastapi": 1,
                                            "quarto-static": 1, "rmd-static": 1, "shiny": 1, "static": 1,
                                            "unknown": 1},
                            "no_runtime_by_app_mode": {"static": 1}}
    assert s["usage"] == {"visits": 12, "shiny_sessions": 4, "unique_viewers": 6,
                          "events_for_deleted_content": 3, "open_shiny_sessions": 1,
                          "shiny_session_hours": 15.5}
    json.dumps(s, allow_nan=False)  # plain JSON values only


def test_unavailable_is_copied_from_the_manifest():
    s = analyze(small_snapshot(unavailable={"bundles": "storage endpoints used instead"})).summary
    assert s["unavailable"] == {"bundles": "storage endpoints used instead"}


def test_fetch_style_manifest_server_as_string():
    snap = small_snapshot()
    snap.manifest = {"server": SERVER, "server_version": "2026.06.0",
                     "window": {"start": "2024-03-01T00:00:00Z", "end": "2024-03-31T00:00:00Z"}}
    assert analyze(snap).summary["server"] == {"url": SERVER, "version": "2026.06.0"}


def test_bad_options():
    with pytest.raises(AnalysisError, match="top N"):
        analyze(small_snapshot(), top_n=-1)
    with pytest.raises(AnalysisError, match="current use"):
        analyze(small_snapshot(), current_use_bytes=-5)
    with pytest.raises(AnalysisError, match="version matching"):
        analyze(small_snapshot(), version_matching="nearest")


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_write_analysis_files(tmp_path):
    r = analyze(small_snapshot(), top_n=2)
    out = write_analysis(r, tmp_path / "out")
    names = sorted(p.name for p in out.iterdir())
    for required in ("summary.json", "important-content.csv", "runtimes.csv", "image-coverage.csv",
                     "storage-by-content.csv", "run-as.csv"):
        assert required in names
    assert not [n for n in names if n.endswith(".tmp")]
    assert json.loads((out / "summary.json").read_text()) == r.summary
    imp = _rows(out / "important-content.csv")
    assert [row["guid"] for row in imp] == ["a1", "b2"]
    assert imp[0]["last_visit"] == "2024-03-30T12:00:00Z" and imp[0]["vanity_url"] == f"{SERVER}/sales/"
    assert imp[1]["r_version"] == ""  # null
    assert [row["guid"] for row in _rows(out / "storage-by-content.csv")] == ["c3", "a1", "b2", "zz"]
    assert [row["guid"] for row in _rows(out / "run-as.csv")] == ["g7", "a1", "f6", "b2"]


def test_write_analysis_refuses_a_file_as_directory(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(AnalysisError, match="cannot create"):
        write_analysis(analyze(small_snapshot()), tmp_path / "f")


def test_analyze_snapshot_round_trip_through_parquet(tmp_path):
    write_snapshot(tmp_path / "snap", tables(), manifest(),
                   {"version": "2024.03.0", "license": {"expiration": 1735689600000}})
    r = analyze_snapshot(tmp_path / "snap", tmp_path / "out", top_n=3)
    assert r.summary["usage"]["visits"] == 12
    assert [i["guid"] for i in r.summary["important_content"]] == ["a1", "b2", "g7"]
    assert r.summary["license"]["days_left"] == 276
    assert (tmp_path / "out" / "summary.json").exists()


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "connect_analysis.cli", *args],
                          capture_output=True, text=True)


NOT_THERE = "00000000-0000-4000-8000-000000000000"


def test_cli_analyze(tmp_path):
    write_snapshot(tmp_path / "snap", tables(), manifest(), {"version": "2024.03.0"})
    (tmp_path / "images.yaml").write_text(IMAGES_YAML)
    p = _cli("analyze", str(tmp_path / "snap"), "--out", str(tmp_path / "out"), "--images",
             str(tmp_path / "images.yaml"), "--must-keep", NOT_THERE,
             "--must-keep-tag", "marketing", "--top", "1", "--current-use-bytes", str(60 * 10**9))
    assert p.returncode == 0, p.stderr
    assert f"must-keep GUID {NOT_THERE} is not on the server" in p.stderr
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [i["guid"] for i in s["important_content"]] == ["a1", "c3"]  # c3 rank 4 by tag
    assert s["storage"]["recommended_bytes"] == 120 * 10**9
    assert s["images"]["minimal_set"] == ["img-a", "img-c"]


@pytest.mark.parametrize("args, message", [
    (["analyze", "NOSNAP", "--out", "OUT"], "is not a snapshot directory"),
    (["analyze", "SNAP", "--out", "OUT", "--images", "NOFILE"], "images: no such file"),
    (["analyze", "SNAP", "--out", "OUT", "--must-keep", "d4"], "must_keep: not a content GUID: 'd4'"),
])
def test_cli_analyze_bad_input_is_one_line(tmp_path, args, message):
    write_snapshot(tmp_path / "snap", tables(), manifest(), {})
    subst = {"NOSNAP": str(tmp_path / "missing"), "SNAP": str(tmp_path / "snap"),
             "OUT": str(tmp_path / "out"), "NOFILE": str(tmp_path / "none.yaml")}
    p = _cli(*[subst.get(a, a) for a in args])
    assert p.returncode == 1
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stderr


def _readme_section():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    # readiness.csv and its summary keys are documented on their own page
    return ((root / "docs" / "reference" / "analysis-files.qmd").read_text()
            + (root / "docs" / "reference" / "readiness-codes.qmd").read_text())


def test_readme_documents_every_summary_key_and_csv_column(tmp_path):
    section = _readme_section()
    r = analyze(small_snapshot(), top_n=2)
    own = [k for k in r.summary if k not in ("packages", "system_requirements", "package_gaps")]
    for key in own:
        assert f"`{key}" in section, key
    for block in ("content", "usage", "storage", "downtime", "images"):
        for key in r.summary[block]:
            assert key in section, f"{block}.{key}"
    for key in r.summary["license"]:
        assert f"`{key}`" in section, f"license.{key}"
    out = write_analysis(r, tmp_path / "out")
    for path in out.glob("*.csv"):
        if path.name in r.extra_tables:
            continue
        assert f"`{path.name}`" in section, path.name
        with open(path, newline="") as f:
            for column in next(csv.reader(f)):
                assert f"`{column}`" in section, f"{path.name}: {column}"


def test_an_empty_snapshot_analyses_to_zeros(tmp_path):
    from connect_analysis.snapshot import Snapshot

    r = analyze(Snapshot(manifest={}, server_settings={}))
    s = r.summary
    assert s["content"]["total"] == 0 and s["usage"]["visits"] == 0 and s["important_content"] == []
    assert s["storage"]["recommended_bytes"] == 100 * 10**9 and s["license"] is None
    assert s["window"] == {"start": None, "end": None} and s["server"] == {"url": None, "version": None}
    write_analysis(r, tmp_path / "out")
    assert (tmp_path / "out" / "important-content.csv").read_text().startswith("position,usage_rank,guid")


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    # server titles are untrusted: "=HYPERLINK(...)" in a CSV opened in Excel is a formula.
    # In the CSVs such text cells get a leading apostrophe; summary.json keeps the exact text.
    titles = {"a1": "=HYPERLINK(\"http://evil\",\"x\")", "b2": "+1+cmd", "c3": "-2+3", "g7": "@SUM(A1)",
              "f6": "\tTab", "d4": "plain = fine"}
    content = [dict(c, title=titles.get(c["guid"], c["title"])) for c in CONTENT]
    r = analyze(small_snapshot(content=content), top_n=10)
    out = write_analysis(r, tmp_path / "out")
    rows = {row["guid"]: row for row in _rows(out / "important-content.csv")}
    assert rows["a1"]["title"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert (rows["b2"]["title"], rows["c3"]["title"], rows["g7"]["title"], rows["f6"]["title"]) == (
        "'+1+cmd", "'-2+3", "'@SUM(A1)", "'\tTab")
    storage = {row["guid"]: row for row in _rows(out / "storage-by-content.csv")}
    assert storage["c3"]["title"] == "'-2+3" and storage["c3"]["bytes_total"] == "1000"
    titles_of_all = {row["guid"]: row["title"] for row in _rows(out / "content-images.csv")}
    assert titles_of_all["d4"] == "plain = fine" and titles_of_all["h8"] == ""  # null stays empty
    # numbers stay numbers (a negative number is not text), and the JSON is exact
    assert pd.read_csv(io.StringIO(csv_text(pd.DataFrame({"n": [-5, 3]}))))["n"].tolist() == [-5, 3]
    summary = json.loads((out / "summary.json").read_text())
    assert {i["guid"]: i["title"] for i in summary["important_content"]}["a1"] == titles["a1"]
