"""The rendered reports in headless Chromium: they draw, they load nothing remote, they sort."""

from __future__ import annotations

import pytest
from chromium import need_chromium, visit
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
    assert facts["charts"] == 3 and facts["charts_drawn"] == 3  # each chart has its SVG
    assert facts["tables"] >= 15 and facts["tables_with_rows"] >= 12
    for heading in ("The answers", "Runtimes and images", "Important content",
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


SORT_PROBE = """(() => {
  const table = Array.from(document.querySelectorAll('table.sortable'))
      .find(t => Array.from(t.tHead.rows[0].cells).some(c => c.textContent === 'content_count')
                 && t.tBodies[0].rows.length > 5);
  const col = Array.from(table.tHead.rows[0].cells).findIndex(c => c.textContent === 'content_count');
  const values = () => Array.from(table.tBodies[0].rows).map(r => Number(r.cells[col].dataset.sort));
  const before = values();
  table.tHead.rows[0].cells[col].click();
  const up = values();
  table.tHead.rows[0].cells[col].click();
  return {before, up, down: values()};
})()"""


def test_tables_sort_numerically_on_click(demo_report):
    page = visit((demo_report.out / "report.html").as_uri(), probe=SORT_PROBE, settle_s=0.2)
    up, down = page.facts["up"], page.facts["down"]
    assert sorted(page.facts["before"]) == up
    assert down == sorted(up, reverse=True) and up != down
