"""docs/explanation/reliability.qmd states the hostile cases' counts from the collection
(tools/reliability_counts.py writes them): the page cannot drift from the tests."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import reliability_counts  # noqa: E402


def test_the_page_counts_every_collected_case():
    page = (ROOT / "docs" / "explanation" / "reliability.qmd").read_text()
    assert "{{< include _reliability-counts.md >}}" in page
    counts = reliability_counts.OUT.read_text()
    cases = reliability_counts.collected()
    assert len(cases) >= 40
    tried, handled = map(int, re.search(r"\*\*(\d+) cases tried, (\d+) handled\*\*", counts).groups())
    assert tried == len(cases), "run tools/reliability_counts.py: the collection changed"
    assert handled <= tried
    rows = {m[1]: int(m[2]) for m in re.finditer(r"^\| [^|]+ \| (.+?) \| (\d+) \| \d+ \|$", counts, re.M)}
    assert rows == dict(Counter(why for _, why in cases))


def test_render_counts_passed_cases_only():
    cases = [("tests/reliability/test_hostile_key.py::test_a", "one"),
             ("tests/reliability/test_hostile_key.py::test_b[x]", "one")]
    text = reliability_counts.render(cases, {"tests/reliability/test_hostile_key.py::test_a"})
    assert "**2 cases tried, 1 handled**" in text and "| one | 2 | 1 |" in text
