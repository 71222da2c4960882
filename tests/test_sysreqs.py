"""Who needs which OS package, against hand-built package lists.

Every expected OS package below was looked up by hand in the bundled catalogue
(rstudio/r-system-requirements rules/*.json and its CRAN SystemRequirements sample) or in
data/sysreqs/python-sysreqs.yaml, and is written out literally. One package at a time:
tests/test_catalogue.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

from connect_analysis import schema
from connect_analysis.analysis.sysreqs import CSV_COLUMNS, system_requirements
from connect_analysis.errors import AnalysisError

U22, U24 = "ubuntu-22.04", "ubuntu-24.04"


def _content(rows):
    return schema.conform(pd.DataFrame(rows), "content")


def _packages(rows):
    return schema.conform(pd.DataFrame(rows, columns=["content_guid", "language", "name", "version"]),
                          "packages")


def test_unknown_os_is_an_analysis_error():
    with pytest.raises(AnalysisError, match="unknown image OS 'ubuntu-23.10'"):
        system_requirements(_packages([]), _content([]), os_list=["ubuntu-23.10"])


# -- content: who needs what, and content whose packages are unknown -----------------------------

CONTENT = [
    {"guid": "c-map", "title": "Map <app>", "bundle_id": "1", "r_version": "4.3.2"},
    {"guid": "c-api", "title": "Orders API", "bundle_id": "2", "py_version": "3.11.4"},
    {"guid": "c-dash", "title": "Dash", "bundle_id": "3", "r_version": "4.4.1"},
    {"guid": "c-bare", "title": "R without packages", "bundle_id": "4", "r_version": "4.3.2"},
    {"guid": "c-static", "title": "Static", "bundle_id": "5", "app_mode": "static"},
    {"guid": "c-draft", "title": "Never deployed", "bundle_id": None, "r_version": "4.3.2"},
]
PACKAGES = [
    ("c-map", "r", "sf", "1.0-16"),
    ("c-map", "r", "MASS", "7.3-60"),
    ("c-map", "r", "adaHuber", "1.1"),
    ("c-map", "r", "rgdal", "1.6-7"),
    ("c-api", "python", "psycopg2", "2.9.9"),
    ("c-api", "python", "requests", "2.32.3"),
    ("c-dash", "r", "terra", "1.7-78"),
    ("c-dash", "r", "RPostgres", "1.4.7"),
]


def test_content_resolution_by_os_package():
    result = system_requirements(_packages(PACKAGES), _content(CONTENT), important_guids=["c-map"])
    # sf and terra share gdal/geos/proj/sqlite3; RPostgres and psycopg2 share libpq-dev.
    expected = ["gdal-bin", "libgdal-dev", "libgeos-dev", "libpq-dev", "libpq5", "libproj-dev",
                "libsqlite3-dev"]
    assert result.os_packages == {U22: expected, U24: expected}
    assert result.install_lines[U24] == [
        "apt-get update",
        "apt-get install -y --no-install-recommends " + " ".join(expected),
    ]
    by = result.by_os_package[result.by_os_package["os"] == U22].set_index("os_package")
    assert by.loc["libpq-dev", "content_count"] == 2
    assert by.loc["libpq-dev", "important_content_count"] == 0
    assert by.loc["libpq-dev", "packages"] == "python:psycopg2, r:RPostgres"
    assert by.loc["libpq-dev", "rules"] == "postgresql, python:psycopg2 build"
    assert by.loc["libgdal-dev", "content_count"] == 2
    assert by.loc["libgdal-dev", "important_content_count"] == 1
    assert by.loc["libpq5", "content_count"] == 1


def test_csv_rows_say_why():
    result = system_requirements(_packages(PACKAGES), _content(CONTENT), os_list=[U22])
    rows = result.rows
    assert list(rows.columns) == CSV_COLUMNS
    assert set(rows["os"]) == {U22}
    why = rows[(rows["content_guid"] == "c-map") & (rows["os_package"] == "libgeos-dev")]
    assert why[["package", "package_version", "rule", "requirement", "content_title"]].values.tolist() == [
        ["sf", "1.0-16", "geos", "GDAL (>= 2.0.1), GEOS (>= 3.4.0), PROJ (>= 4.8.0), sqlite3", "Map <app>"]]
    # resolved: sf 5 + terra 5 + RPostgres 1 + psycopg2 2; no_rule: adaHuber; unknown: c-bare.
    assert rows["status"].value_counts().to_dict() == {
        "resolved": 13, "no_rule": 1, "no_packages_recorded": 1}
    no_rule = rows[rows["status"] == "no_rule"].iloc[0]
    assert (no_rule["package"], no_rule["requirement"]) == ("adaHuber", "C++11")
    assert pd.isna(no_rule["os_package"])
    # Packages that need nothing, or that the catalogue does not know, are not CSV rows.
    assert not rows["package"].isin(["MASS", "rgdal", "requests"]).any()
    unresolved = result.unresolved_packages
    assert unresolved[["status", "language", "package"]].values.tolist() == [
        ["no_rule", "r", "adaHuber"], ["not_in_catalogue", "python", "requests"],
        ["not_in_catalogue", "r", "rgdal"]]
    status = result.package_status.set_index("package")["status"].to_dict()
    assert status == {"MASS": "none", "adaHuber": "no_rule", "rgdal": "not_in_catalogue",
                      "sf": "resolved", "terra": "resolved", "RPostgres": "resolved",
                      "psycopg2": "resolved", "requests": "not_in_catalogue"}


def test_content_with_unknown_packages_is_never_reported_as_needing_nothing():
    result = system_requirements(_packages(PACKAGES), _content(CONTENT))
    status = result.content_status.set_index("content_guid")["status"].to_dict()
    # never-deployed content is left out; static content needs no packages at all.
    assert status == {"c-map": "recorded", "c-api": "recorded", "c-dash": "recorded",
                      "c-bare": "no_packages_recorded", "c-static": "no_r_or_python"}
    assert result.unknown_content["content_guid"].tolist() == ["c-bare"]
    bare = result.rows[result.rows["content_guid"] == "c-bare"]
    assert bare["status"].tolist() == ["no_packages_recorded"] * 2
    assert bare["os"].tolist() == [U22, U24]


def test_packages_unavailable_marks_every_r_and_python_item_unknown():
    reason = "Connect 2024.05.0 has no package API (needs 2024.11.0)"
    result = system_requirements(_packages([]), _content(CONTENT), os_list=[U24],
                                 packages_unavailable=reason)
    assert result.os_packages == {U24: []}
    assert result.install_lines == {U24: []}
    assert result.install_script() == "# ubuntu-24.04\n# nothing to install from the packages recorded\n"
    unknown = result.unknown_content
    assert unknown["content_guid"].tolist() == ["c-map", "c-api", "c-dash", "c-bare"]
    assert set(unknown["status"]) == {"packages_unavailable"}
    assert set(unknown["reason"]) == {reason}
    assert result.rows["status"].tolist() == ["packages_unavailable"] * 4
    assert set(result.rows["requirement"]) == {reason}


def test_pre_and_post_install_lines_in_order():
    content = _content([{"guid": "a", "title": "A", "bundle_id": "1", "r_version": "4.4.1"}])
    packages = _packages([("a", "r", "chromote", "0.3.1"), ("a", "r", "rJava", "1.0-11")])
    result = system_requirements(packages, content, os_list=[U22])
    assert result.install_lines[U22] == [
        "apt-get install -y software-properties-common",
        "add-apt-repository -y ppa:xtradeb/apps",
        "apt-get update",
        "apt-get install -y --no-install-recommends chromium default-jdk make",
        "R CMD javareconf",
    ]
    assert result.install_script().splitlines()[0] == "# ubuntu-22.04"
    assert result.install_script().splitlines()[1:7] == result.install_lines[U22]


def test_empty_snapshot():
    result = system_requirements(_packages([]), _content([]))
    assert result.os_packages == {U22: [], U24: []}
    assert result.rows.empty and list(result.rows.columns) == CSV_COLUMNS
    assert result.content_status.empty


def test_packages_analysis_from_a_snapshot_on_disk(tmp_path):
    from connect_analysis.analysis.sysreqs import packages_analysis
    from connect_analysis.snapshot import load_snapshot, write_snapshot

    tables = {"content": _content(CONTENT), "packages": _packages(PACKAGES)}
    snap = load_snapshot(write_snapshot(tmp_path / "snap", tables, {"unavailable": {}}))
    summary, csvs = packages_analysis(snap, important_guids=["c-map"])
    expected = ["gdal-bin", "libgdal-dev", "libgeos-dev", "libpq-dev", "libpq5", "libproj-dev",
                "libsqlite3-dev"]
    assert summary == {
        "packages": {"r": 6, "python": 2},
        "system_requirements": {U22: expected, U24: expected},
        "package_gaps": {
            "unknown_content": 1,
            "packages_unavailable": None,
            "no_rule": ["r:adaHuber"],
            "no_os_package": {U22: [], U24: []},
            "not_in_catalogue": {"r": 1, "python": 1},
        },
    }
    assert sorted(csvs) == ["packages.csv", "system-requirements.csv"]
    assert len(csvs["system-requirements.csv"]) == 2 * (13 + 1 + 1)

    reason = "Connect 2024.05.0 has no package API (needs 2024.11.0)"
    old = load_snapshot(write_snapshot(tmp_path / "old", {"content": _content(CONTENT)},
                                       {"unavailable": {"packages": reason}}))
    summary, _ = packages_analysis(old)
    assert summary["packages"] == {"r": 0, "python": 0}
    assert summary["system_requirements"] == {U22: [], U24: []}
    assert summary["package_gaps"]["unknown_content"] == 4
    assert summary["package_gaps"]["packages_unavailable"] == reason


# -- end to end: the simulator, a fetch, the analysis ---------------------------------------------

@pytest.fixture(scope="module")
def demo_dataset():
    from connect_simulator import generate_dataset

    return generate_dataset("demo", seed=3, now=pd.Timestamp("2026-03-01T12:00:00Z"))


def _fetched(dataset, version, out):
    from connect_analysis.fetch import fetch_snapshot
    from connect_analysis.snapshot import load_snapshot
    from connect_simulator import start_simulator

    with start_simulator(dataset=dataset, api_key="k3y", connect_version=version) as sim:
        fetch_snapshot(server=sim.url, out=out, api_key="k3y", quiet=True, days=7,
                       now=dataset.now.to_pydatetime())
    return load_snapshot(out)


def test_fetched_from_the_simulator_new_and_old(demo_dataset, tmp_path):
    from connect_analysis.analysis.sysreqs import packages_analysis

    content = demo_dataset.content
    deployed = content[content["bundle_id"].notna()]
    served = demo_dataset.packages[demo_dataset.packages["content_guid"].isin(deployed["guid"])]
    r_names = set(served.loc[served["language"] == "r", "name"])

    snap = _fetched(demo_dataset, "2026.01.0", tmp_path / "new")
    # packages.parquet holds exactly what the server lists for deployed content
    assert sorted(snap.packages[["content_guid", "language", "name", "version"]].itertuples(
        index=False, name=None)) == sorted(served[["content_guid", "language", "name", "version"]].itertuples(
            index=False, name=None))
    assert snap.manifest["sources"]["packages"] == "/v1/packages"
    summary, csvs = packages_analysis(snap)
    assert summary["packages"]["r"] == len(r_names)
    # GDAL's packages are needed exactly when some deployed item uses sf or terra.
    wants_gdal = bool(r_names & {"sf", "terra"})
    assert ("libgdal-dev" in summary["system_requirements"][U22]) == wants_gdal
    assert ("libpq-dev" in summary["system_requirements"][U24]) == bool(
        r_names & {"RPostgres"} or "psycopg2" in set(served["name"]))
    rows = csvs["system-requirements.csv"]
    assert set(rows.loc[rows["os_package"] == "libxml2-dev", "package"]) <= {"xml2"}

    old = _fetched(demo_dataset, "2024.05.0", tmp_path / "old")
    assert "packages" in old.unavailable
    summary, csvs = packages_analysis(old)
    with_runtime = deployed["r_version"].notna() | deployed["py_version"].notna()
    assert summary["system_requirements"] == {U22: [], U24: []}
    assert summary["package_gaps"]["unknown_content"] == int(with_runtime.sum())
    assert summary["package_gaps"]["packages_unavailable"] == old.unavailable["packages"]
    assert set(csvs["system-requirements.csv"]["status"]) == {"packages_unavailable"}


# -- content whose runtime the key cannot see ------------------------------------------------

# A viewer's (or another owner's) key gets r_version/py_version/quarto_version as null: a
# Shiny app seen that way still needs R packages; only its app mode says so.
HIDDEN = [
    {"guid": "h-shiny", "title": "Hidden Shiny", "bundle_id": "1", "app_mode": "shiny"},
    {"guid": "h-api", "title": "Hidden API", "bundle_id": "2", "app_mode": "python-fastapi"},
    {"guid": "h-quarto", "title": "Quarto, runtime hidden", "bundle_id": "3", "app_mode": "quarto-static"},
    {"guid": "h-none", "title": "Mode unknown", "bundle_id": "4", "app_mode": None},
    {"guid": "q-plain", "title": "Quarto, no engine", "bundle_id": "5", "app_mode": "quarto-static",
     "quarto_version": "1.4.550"},
    {"guid": "s-site", "title": "Site", "bundle_id": "6", "app_mode": "static"},
]


def test_content_with_hidden_runtimes_is_unknown_not_needing_nothing():
    result = system_requirements(_packages([]), _content(HIDDEN), os_list=[U22])
    status = result.content_status.set_index("content_guid")["status"].to_dict()
    assert status == {"h-shiny": "no_packages_recorded", "h-api": "no_packages_recorded",
                      "h-quarto": "no_packages_recorded", "h-none": "no_packages_recorded",
                      "q-plain": "no_r_or_python", "s-site": "no_r_or_python"}
    reason = "Connect 2024.05.0 has no package API (needs 2024.11.0)"
    old = system_requirements(_packages([]), _content(HIDDEN), os_list=[U22], packages_unavailable=reason)
    assert old.unknown_content["content_guid"].tolist() == ["h-shiny", "h-api", "h-quarto", "h-none"]
    assert set(old.unknown_content["status"]) == {"packages_unavailable"}


# -- end to end: analyze(), the CSV, summary.json and notebook 06 ---------------------------------

def _old_server_snapshot(path):
    from connect_analysis.snapshot import write_snapshot

    content = _content(CONTENT + HIDDEN[:1])
    manifest = {"server": {"url": "http://connect.example", "version": "2024.05.0"},
                "window": {"start": "2026-03-01T00:00:00Z", "end": "2026-05-31T00:00:00Z"},
                "fetched_at": "2026-05-31T00:00:00Z",
                "unavailable": {"packages": "Connect 2024.05.0 has no package API (needs 2024.11.0)"}}
    return write_snapshot(path, {"content": content}, manifest, {"version": "2024.05.0"})


def test_unknown_content_reaches_summary_csv_and_report_notebook(tmp_path):
    import csv
    import json

    import nbformat
    import papermill

    from connect_analysis.analysis import analyze, write_analysis
    from connect_analysis.report import notebooks_dir
    from connect_analysis.report.execute import ThisPythonKernelManager
    from connect_analysis.snapshot import load_snapshot

    path = _old_server_snapshot(tmp_path / "snap")
    out = write_analysis(analyze(load_snapshot(path)), tmp_path / "out")
    summary = json.loads((out / "summary.json").read_text())
    unknown = ["c-map", "c-api", "c-dash", "c-bare", "h-shiny"]
    assert summary["packages"] == {"r": 0, "python": 0}
    assert summary["system_requirements"] == {U22: [], U24: []}
    assert summary["package_gaps"]["unknown_content"] == len(unknown)
    assert "2024.11.0" in summary["package_gaps"]["packages_unavailable"]
    with open(out / "system-requirements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["os"], r["content_guid"], r["status"]) for r in rows) == sorted(
        (o, g, "packages_unavailable") for o in (U22, U24) for g in unknown)
    assert all(r["os_package"] == "" for r in rows)

    executed = tmp_path / "06.ipynb"
    papermill.execute_notebook(str(notebooks_dir() / "06-packages-and-system-requirements.ipynb"),
                               str(executed), parameters={"snapshot": str(path)}, kernel_name="python3",
                               progress_bar=False, cwd=str(notebooks_dir()),
                               kernel_manager_class=ThisPythonKernelManager)
    nb = nbformat.read(executed, as_version=4)
    heading = next(i for i, c in enumerate(nb.cells) if "packages are unknown" in c.source)
    html = "".join(o.get("data", {}).get("text/html", "") for o in nb.cells[heading + 1].outputs)
    for guid in unknown:
        assert guid in html
    assert html.count("packages_unavailable") >= len(unknown)
    assert "Map &lt;app&gt;" in html and "Map <app>" not in html
