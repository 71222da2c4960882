"""The rendered reports in headless Chromium (Debian's): they draw, load nothing remote, sort
and filter every table (versions as versions, with the mouse and with the keyboard), log no
console error, and axe-core finds no serious or critical accessibility violation."""

from __future__ import annotations

import pytest
from browser_check import check_report, node_ready
from chromium import need_chromium, visit
from packaging.version import Version
from report_fixtures import save_artifact
from report_snapshot import BOLD_TITLE, SCRIPT_TITLE

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _chromium():
    need_chromium()


def _local_only(requests: list[str]) -> list[str]:
    return [u for u in requests if not u.startswith(("file://", "data:", "blob:", "about:"))]


def test_demo_report_draws_offline(demo_report):
    page = visit((demo_report.out / "report.html").as_uri())
    save_artifact("demo-report.png", page.screenshot)
    assert page.console_errors == [] and page.exceptions == []
    assert _local_only(page.requests) == []
    facts = page.facts
    # runtimes and usage; no storage chart: the demo has no bundle history
    assert facts["charts"] == 2 and facts["charts_drawn"] == 2
    assert facts["tables"] >= 15 and facts["tables_with_rows"] >= 12
    for heading in ("Verdicts", "The answers", "Runtimes and images", "Important content",
                    "Storage and downtime", "Licence and preflight", "Data files"):
        assert heading in facts["text"]
    assert page.screenshot[:8] == b"\x89PNG\r\n\x1a\n"


def test_hostile_titles_show_as_text(hostile_report):
    page = visit((hostile_report.out / "report.html").as_uri())
    save_artifact("hostile-report.png", page.screenshot)
    assert page.console_errors == [] and page.exceptions == []
    assert SCRIPT_TITLE in page.facts["text"] and BOLD_TITLE in page.facts["text"]
    assert page.facts["bold_elements_in_tables"] == 0
    assert page.facts["charts_drawn"] == page.facts["charts"] == 3


@pytest.fixture(scope="module")
def node():
    why = node_ready()
    if why:
        pytest.fail(why)  # not a silent skip: make test installs node and the packages


def _as_versions(values: list[str]) -> list[Version]:
    return [Version(v) for v in values]


def _assert_usable(found: dict) -> None:
    assert found["console_errors"] == [] and found["page_errors"] == []
    assert found["remote_requests"] == []
    serious = [v for v in found["axe"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    paint = found["paint"]
    assert paint["h1"] == 1 and paint["main"] == 1
    levels = paint["headings"]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    version_columns = [c for t in found["tables"] for c in t["version_columns"]]
    assert len(version_columns) >= 4
    for column in version_columns:
        up, down = _as_versions(column["up"]), _as_versions(column["down"])
        assert up == sorted(up) and down == sorted(up, reverse=True), column["label"]
        assert column["aria"] == ["ascending", "descending"]
    filtered = [t["filter"] for t in found["tables"] if t["filter"]]
    assert len(filtered) >= 8
    for f in filtered:
        assert f["all_match"] and f["hidden_lack_it"] and 1 <= f["visible"] <= f["total"]
        assert f["after_clear"] == f["total"]
    assert any(f["visible"] < f["total"] for f in filtered)
    # the header sticks: scrolled 200 px inside its box, a long table's header is still at its top
    assert found["sticky"] and all(0 <= gap <= 2 for gap in found["sticky"]), found["sticky"]
    keys = found["keyboard"]
    assert keys["focused"][-1] == "ca-sort|BUTTON"  # reached by Tab from the search box
    assert (keys["before"], keys["afterEnter"], keys["afterSpace"]) == (None, "ascending", "descending")


def test_demo_report_in_chromium_with_axe(demo_report, node):
    found = check_report(demo_report.out / "report.html")
    _assert_usable(found)
    # a version column holds a 4.10-style pair somewhere in the demo: 3.10 after 3.9
    pythons = [c for t in found["tables"] for c in t["version_columns"] if c["label"] == "Python"]
    assert any("3.9.17" in c["up"] and "3.10.13" in c["up"]
               and c["up"].index("3.9.17") < c["up"].index("3.10.13") for c in pythons)


@pytest.mark.slow
def test_large_report_in_chromium_with_axe(large_report, node):
    found = check_report(large_report / "report.html")
    _assert_usable(found)
    assert all(t["rows"] <= 25 for t in found["tables"])  # one cap, the rest in the CSVs
