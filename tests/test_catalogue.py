"""What one package needs on one OS, against answers looked up by hand in the catalogue.

Every expected OS package was read from the catalogue's rules/*.json and its CRAN
SystemRequirements sample (../shared/reference/r-system-requirements), or from
data/sysreqs/python-sysreqs.yaml, and is written out literally.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from suite import SHARED, need_shared

from connect_analysis.analysis.catalogue import load_catalogue, normalize_python_name, version_key

U22, U24 = "ubuntu-22.04", "ubuntu-24.04"
ROOT = Path(__file__).resolve().parents[1]
REFERENCE = SHARED / "r-system-requirements"


def _resolve(language, name, version=None, os_id=U22):
    c = load_catalogue()
    return [(r.status, r.rule, r.os_packages, r.pre_install, r.post_install)
            for r in c.resolve(language, name, version, c.target(os_id))]


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


def test_version_key_compares_r_and_python_versions():
    assert version_key("1.0-16") > version_key("1.0-9")
    assert version_key("3.0") == version_key("3.0.0")
    assert version_key("10.3.0") > version_key("6.0.0")


def test_target_os_names():
    c = load_catalogue()
    assert c.target("Ubuntu-24.04").id == "ubuntu-24.04"
    assert c.target("debian-12").distribution == "debian"


def test_bundled_catalogue_is_what_the_tool_builds_from_the_reference(tmp_path):
    need_shared("r-system-requirements")
    spec = importlib.util.spec_from_file_location("build_sysreqs_data", ROOT / "tools" / "build_sysreqs_data.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    built = tool.build(REFERENCE, tmp_path)
    bundled = ROOT / "connect_analysis" / "data" / "sysreqs"
    assert built.read_bytes() == (bundled / "r-catalogue.json").read_bytes()
    assert (tmp_path / "LICENSE").read_bytes() == (bundled / "LICENSE").read_bytes()
    data = json.loads(built.read_text())
    assert len(data["rules"]) == len(list((REFERENCE / "rules").glob("*.json")))
    assert data["commit"] == "61f151593bd0cfdb365a5a0d75bbc9e5715d5443"
    assert data["cran"]["sf"] == ["1.0-23", "GDAL (>= 2.0.1), GEOS (>= 3.4.0), PROJ (>= 4.8.0), sqlite3"]
