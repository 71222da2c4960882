"""System requirements against hand-built package lists.

Every expected OS package below was looked up by hand in the bundled catalogue
(rstudio/r-system-requirements rules/*.json and its CRAN SystemRequirements sample) or in
data/sysreqs/python-sysreqs.yaml, and is written out literally.
"""

from __future__ import annotations

import pandas as pd
import pytest

from connect_analysis import schema
from connect_analysis.analysis.catalogue import load_catalogue, normalize_python_name
from connect_analysis.analysis.sysreqs import CSV_COLUMNS, system_requirements
from connect_analysis.errors import AnalysisError

U22, U24 = "ubuntu-22.04", "ubuntu-24.04"


def _content(rows):
    return schema.conform(pd.DataFrame(rows), "content")


def _packages(rows):
    return schema.conform(pd.DataFrame(rows, columns=["content_guid", "language", "name", "version"]),
                          "packages")


def _resolve(language, name, version=None, os_id=U22):
    c = load_catalogue()
    return [(r.status, r.rule, r.os_packages, r.pre_install, r.post_install)
            for r in c.resolve(language, name, version, c.target(os_id))]


# -- the catalogue, package by package ------------------------------------------------------

def test_r_package_with_several_requirements():
    # sf: "GDAL (>= 2.0.1), GEOS (>= 3.4.0), PROJ (>= 4.8.0), sqlite3"
    # gdal.json: ubuntu (any version past 16.04) -> libgdal-dev, gdal-bin; geos.json -> libgeos-dev;
    # proj.json -> libproj-dev; sqlite3.json -> libsqlite3-dev.
    expected = [
        ("resolved", "gdal", ("libgdal-dev", "gdal-bin"), (), ()),
        ("resolved", "geos", ("libgeos-dev",), (), ()),
        ("resolved", "proj", ("libproj-dev",), (), ()),
        ("resolved", "sqlite3", ("libsqlite3-dev",), (), ()),
    ]
    assert _resolve("r", "sf", "1.0-16", U22) == expected
    assert _resolve("r", "sf", "1.0-16", U24) == expected


def test_r_package_with_no_system_requirement():
    # MASS is a recommended package: it ships with R and is not in the SystemRequirements sample.
    assert load_catalogue().r_requirement_text("MASS") is None
    assert _resolve("r", "MASS") == [("none", None, (), (), ())]


def test_r_requirement_text_without_a_rule():
    # adaHuber: "C++11"; no rule's pattern finds anything in it.
    assert load_catalogue().r_requirement_text("adaHuber") == "C++11"
    assert _resolve("r", "adaHuber") == [("no_rule", None, (), (), ())]


def test_r_package_unknown_to_the_catalogue():
    # rgdal was archived on CRAN: the catalogue's sample does not list it.
    assert _resolve("r", "rgdal", "1.6-7") == [("not_in_catalogue", None, (), (), ())]


def test_r_rule_with_post_install_and_two_rules():
    # rJava: "Java JDK 1.2 or higher (for JRI/REngine JDK 1.4 or higher), GNU make"
    # gnumake.json -> make; java.json -> default-jdk, post_install "R CMD javareconf".
    assert _resolve("r", "rJava", os_id=U24) == [
        ("resolved", "gnumake", ("make",), (), ()),
        ("resolved", "java", ("default-jdk",), (), ("R CMD javareconf",)),
    ]


def test_r_rule_with_pre_install_commands():
    # chromote: "... Chromium-based browser. chromium: chromium (rpm) or chromium-browser (deb)"
    # chrome.json, ubuntu 22.04/24.04/26.04: add the xtradeb PPA first, then chromium.
    assert _resolve("r", "chromote", os_id=U22) == [(
        "resolved", "chrome", ("chromium",),
        ("apt-get install -y software-properties-common", "add-apt-repository -y ppa:xtradeb/apps",
         "apt-get update"),
        (),
    )]
    # gifski: "Cargo (Rust's package manager), rustc" -> rust.json: rustup, no apt package.
    [(status, rule, pkgs, pre, post)] = _resolve("r", "gifski", os_id=U24)
    assert (status, rule, pkgs, post) == ("resolved", "rust", (), ())
    assert pre == ("curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- --no-modify-path -y",)


def test_r_rule_that_names_nothing_for_one_os():
    # bayesplot: "pandoc (>= 1.12.3), pandoc-citeproc"; pandoc-citeproc.json stops at ubuntu 22.04.
    # (Rules apply in file-name order: "pandoc-citeproc.json" sorts before "pandoc.json".)
    assert _resolve("r", "bayesplot", os_id=U22) == [
        ("resolved", "pandoc-citeproc", ("pandoc-citeproc",), (), ()),
        ("resolved", "pandoc", ("pandoc",), (), ()),
    ]
    assert _resolve("r", "bayesplot", os_id=U24) == [
        ("no_os_package", "pandoc-citeproc", (), (), ()),
        ("resolved", "pandoc", ("pandoc",), (), ()),
    ]


def test_patterns_are_case_insensitive_regular_expressions():
    c = load_catalogue()
    found = {r.rule: r.os_packages for r in c.requirements_for_text("gnu MAKE; LibXML2 >= 2.9",
                                                                   c.target(U22))}
    assert found == {"gnumake": ("make",), "libxml2": ("libxml2-dev",)}
    # word boundaries: "libxml2" must not match inside "libxml22"
    [only] = c.requirements_for_text("libxml22", c.target(U22))
    assert only.status == "no_rule"


def test_r_names_fall_back_to_case_insensitive():
    assert load_catalogue().r_requirement_text("rpostgres") == "libpq >= 9.0: libpq-dev (deb) or postgresql-devel (rpm)"
    assert _resolve("r", "rpostgres") == [("resolved", "postgresql", ("libpq-dev",), (), ())]


def test_python_source_build_and_runtime():
    # psycopg2: no wheels -> build libpq-dev, runtime libpq5.
    assert _resolve("python", "psycopg2", "2.9.9") == [
        ("resolved", "python:psycopg2 build", ("libpq-dev",), (), ()),
        ("resolved", "python:psycopg2 runtime", ("libpq5",), (), ()),
    ]
    # mysqlclient: default-libmysqlclient-dev and pkg-config on both releases.
    assert _resolve("python", "mysqlclient", "2.2.4", U24) == [
        ("resolved", "python:mysqlclient build", ("default-libmysqlclient-dev", "pkg-config"), (), ()),
    ]


def test_python_wheels_make_the_build_packages_unnecessary():
    # Pillow: wheels since 6.0.0 (conservative bound); older versions build against libjpeg, zlib.
    assert _resolve("python", "Pillow", "5.4.1") == [
        ("resolved", "python:pillow build", ("libjpeg-dev", "zlib1g-dev"), (), ())]
    assert _resolve("python", "Pillow", "10.3.0") == [("none", "python:pillow", (), (), ())]
    # pyodbc 5 is a wheel, but unixODBC is still needed at run time.
    assert _resolve("python", "pyodbc", "5.1.0") == [
        ("resolved", "python:pyodbc runtime", ("unixodbc",), (), ())]
    assert _resolve("python", "pyodbc", "4.0.30") == [
        ("resolved", "python:pyodbc build", ("unixodbc-dev",), (), ()),
        ("resolved", "python:pyodbc runtime", ("unixodbc",), (), ()),
    ]
    # A version that is not recorded: assume the worst (build from source).
    assert _resolve("python", "lxml", None) == [
        ("resolved", "python:lxml build", ("libxml2-dev", "libxslt1-dev"), (), ())]


def test_python_per_release_names_and_manual_requirements():
    assert _resolve("python", "cx_Oracle", "8.3.0", U22) == [
        ("resolved", "python:cx-oracle runtime", ("libaio1",), (), ()),
        ("no_os_package", "python:cx-oracle manual", (), (), ()),
    ]
    assert _resolve("python", "cx-Oracle", "8.3.0", U24)[0] == (
        "resolved", "python:cx-oracle runtime", ("libaio1t64",), (), ())


def test_python_unknown_and_rpm_targets():
    assert _resolve("python", "requests", "2.32.3") == [("not_in_catalogue", None, (), (), ())]
    # The Python table gives apt names only.
    assert _resolve("python", "psycopg2", "2.9.9", "rockylinux-9") == [
        ("no_os_package", "python:psycopg2 build", (), (), ()),
        ("no_os_package", "python:psycopg2 runtime", (), (), ()),
    ]
    # ... while the R catalogue covers Rocky Linux: proj.json rockylinux 9 -> proj-devel.
    assert _resolve("r", "proj4", os_id="rockylinux-9")[0][2] == ("proj-devel",)


def test_python_names_are_normalised():
    assert normalize_python_name("Python_LDAP") == "python-ldap"
    assert normalize_python_name("zope.interface") == "zope-interface"
    assert _resolve("python", "Python_LDAP", "3.4.4") == [
        ("resolved", "python:python-ldap build", ("libldap2-dev", "libsasl2-dev"), (), ())]


def test_unknown_os_is_an_analysis_error():
    with pytest.raises(AnalysisError, match="unknown image OS 'ubuntu-23.10'"):
        system_requirements(_packages([]), _content([]), os_list=["ubuntu-23.10"])


# -- content: who needs what, and content whose packages are unknown -----------------------------

CONTENT = [
    {"guid": "c-map", "title": "Map <app>", "bundle_id": "1", "r_version": "4.3.2"},
    {"guid": "c-api", "title": "Orders API", "bundle_id": "2", "py_version": "3.11.4"},
    {"guid": "c-dash", "title": "Dash", "bundle_id": "3", "r_version": "4.4.1"},
    {"guid": "c-bare", "title": "R without packages", "bundle_id": "4", "r_version": "4.3.2"},
    {"guid": "c-static", "title": "Static", "bundle_id": "5"},
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
