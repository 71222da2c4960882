"""The verdicts the report opens with, and every marked figure on the page against summary.json."""

from __future__ import annotations

import html
import json
import re

import pytest

from connect_analysis.report.verdicts import STATUS_WORDS, lookup, verdicts, verdicts_html
from connect_analysis.tables import human_bytes, number


def _licence(**kw) -> dict:
    lic = {"status": "activated", "expiration": "2027-06-19T22:17:28Z", "days_left": 200,
           "tier": "enterprise", "user_limit": 250, "shiny_user_limit": 0, "licensed_users": 70,
           "user_activity_days": 365}
    return {"license": lic | kw}


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


@pytest.mark.parametrize("licence, status, word, words", [
    ({}, "ok", "OK", ["valid until 2027-06-19 (200 days left)", "70 licensed users",
                      "user limit of 250", "Shiny users: no limit"]),
    ({"licensed_users": 4683}, "bad", "Over the limit", ["4,683 users hold a seat, over the user limit of 250"]),
    ({"days_left": 30, "expiration": "2026-12-31T00:00:00Z"}, "warn", "Expiring",
     ["expires within 90 days, on 2026-12-31 (30 days left)"]),
    ({"days_left": -3, "expiration": "2026-11-28T00:00:00Z", "licensed_users": 300}, "bad", "Expired",
     ["expired on 2026-11-28 (3 days ago)", "300 users hold a seat"]),
])
def test_licence_verdict_judges_limit_and_expiry(licence, status, word, words):
    v = verdicts(_licence(**licence))[0]
    assert (v.topic, v.status, v.status_word) == ("Licence", status, word)
    for w in words:
        assert w in _text(v.sentence), (w, _text(v.sentence))


def test_no_licence_is_unknown_not_ok():
    v = verdicts({"license": None})[0]
    assert (v.status, v.status_word) == ("unknown", "Unknown")


def test_uncovered_runtimes_are_named_and_storage_and_packages_stated():
    summary = {"license": None,
               "images": {"image_count": 24, "minimal_set": ["a", "b"], "content_covered": 112,
                          "content_not_covered": 5,
                          "not_covered_versions": [{"r": "3.5.3", "python": None, "quarto": None, "content_count": 3},
                                                   {"r": "4.2.3", "python": None, "quarto": "1.4.549", "content_count": 2}]},
               "storage": {"recommended_bytes": 10**11, "current_use_bytes": 1_237_212_451,
                           "current_use_source": "bundles"},
               "system_requirements": {"ubuntu-24.04": ["libxml2-dev", "libssl-dev"]},
               "package_gaps": {"unknown_content": 0, "packages_unavailable": None}}
    licence, images, storage, packages = verdicts(summary)  # no readiness in this summary
    assert images.status == "bad" and images.status_word == "Not covered"
    assert _text(images.sentence).startswith("5 deployed items use runtimes no image covers: R 3.5.3 (3), "
                                             "R 4.2.3 + Quarto 1.4.549 (2).")
    assert storage.status_word == "Provision"
    assert "Provision 100.0 GB of shared storage" in _text(storage.sentence)
    assert "twice the 1.2 GB in use now" in _text(storage.sentence)
    assert packages.status_word == "Add"
    assert "ubuntu-24.04: 2" in _text(packages.sentence) and "libxml2-dev" in _text(packages.sentence)
    page = verdicts_html(summary)
    # a status word in every item: never colour alone
    assert page.count('class="ca-status"') == 4
    for v in (licence, images, storage, packages):
        assert f'<span class="ca-status">{html.escape(v.status_word)}</span>' in page
    assert set(STATUS_WORDS) >= {v.status for v in (licence, images, storage, packages)}


def test_server_text_in_a_verdict_is_escaped():
    summary = _licence(status="<b>x</b>")
    assert "&lt;b&gt;x&lt;/b&gt;" in verdicts_html(summary) and "<b>x" not in verdicts_html(summary)


FIGURE = re.compile(r'<span class="ca-fig" data-key="([^"]*)" data-value="([^"]*)">([^<]*)</span>')


def _shown(key: list, value) -> str:
    """How the page writes a summary value, worked out here independently of the kit's code."""
    if isinstance(value, list):
        return f"{len(value):,}"
    if isinstance(value, str):
        return value[:10]  # dates: 2027-06-19
    if key[-1].endswith("_bytes"):
        return human_bytes(value)
    if key[-1].endswith("_hours"):
        return f"{value:,.1f}"
    if key[-1].endswith("_limit") and value in (0, None):
        return "no limit"  # Connect's 0: the licence sets no limit
    return f"{value:,}" if key[-1] != "days_left" or value >= 0 else f"{-value:,}"


@pytest.mark.parametrize("which", ["demo_report", "hostile_report"])
def test_every_figure_on_the_page_equals_summary_json(which, request):
    out = request.getfixturevalue(which).out
    page = (out / "report.html").read_text()
    summary = json.loads((out / "summary.json").read_text())
    figures = FIGURE.findall(page)
    assert len(figures) >= 6
    for key, value, text in figures:
        key, value = json.loads(html.unescape(key)), json.loads(html.unescape(value))
        assert lookup(summary, tuple(key)) == value, key
        assert html.unescape(text) == _shown(key, value), (key, text)
    # and the answers table's figures: the same numbers as summary.json
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]*)</td>', page))
    c = summary["content"]
    assert rows["Content items"] == (f"{number(c['total'])} ({number(c['deployed'])} deployed, "
                                     f"{number(c['never_deployed'])} never deployed)")
    st = summary["storage"]
    assert rows["Bundles"] == f"{number(st['bundle_count'])} bundles, {human_bytes(st['bundle_bytes_total'])}"
    assert rows["Content no image covers"] == number(summary["images"]["content_not_covered"])
    assert rows["Important content"].startswith(f"{len(summary['important_content'])} items")


def test_verdicts_come_first(demo_report):
    page = (demo_report.out / "report.html").read_text()
    main = page[page.index("<main"):]
    assert main.index('id="verdicts"') < main.index("<table")
    assert page.count("<h1") == 1 and main.count("<h1") == 0
    topics = re.findall(r'<span class="ca-topic">([^<]+):</span>', page)
    assert topics == ["Readiness", "Rebuild time", "Licence", "Images", "Storage", "OS packages"]
    summary = json.loads((demo_report.out / "summary.json").read_text())
    blocked = [r for r in summary["readiness"]["not_in_a_wave"]
               if r["verdict"] == "blocked" and r["important"]]
    urls = {c["guid"]: c["content_url"] for c in summary["important_content"]}
    assert blocked  # the demo has blocked important content: each one named and linked
    verdict = page[page.index('<span class="ca-topic">Readiness:'):]
    verdict = verdict[:verdict.index("</li>")]
    for r in blocked[:8]:
        assert f'<a href="{html.escape(urls[r["guid"]])}">{html.escape(r["title"])}</a>' in verdict
