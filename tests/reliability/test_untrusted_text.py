"""Untrusted text: a simulated server whose titles, names, descriptions, run-as users, tags,
groups and usernames carry HTML, JavaScript, Markdown, template syntax, 10,000-character
words, control characters and right-to-left marks. It is fetched with a publisher's key
(so the same report must also say what it could not see) and rendered with the real CLI;
headless Chromium then checks that none of it ran, injected an element, loaded anything
or blew the page's width, and that it shows as text.
"""

from __future__ import annotations

import json
import re

import chromium
import pytest
from rel_suite import FIGURES, KEY, NOW, SINCE

from connect_simulator import generate_dataset

MARK = "__pwned"  # every script payload sets window.__pwned or adds an element with id pwned-*
PAYLOADS = [
    f'<script>window.{MARK}="script";document.title="PWNED"</script>',
    f'<img src=x onerror="window.{MARK}=\'img\'">',
    f'"><svg onload="window.{MARK}=\'svg\'"></svg>',
    f"'><iframe id=pwned-frame srcdoc=\"<script>parent.{MARK}='iframe'</script>\"></iframe>",
    '<div id="pwned-div" style="position:fixed;top:0;left:0;width:100000px;height:100000px">x</div>',
    f'[click me](javascript:window.{MARK}="md") **bold** # Heading <b id="pwned-b">b</b>',
    "![remote](http://evil.example/x.png) <img src=http://evil.example/y.png>",
    "{{7*7}} ${7*7} {% if 1 %}jinja{% endif %} `code` $x^2$",
    "W" * 10_000,
    "ctrl\x00\x01\x07\x08\x1b[31mred\x7f\x9b end\r\nsecond line",
    "\u202egnp.exe\u202c \u200fRTL\u200e \u2066isolate\u2069 \u0645\u0631\u062d\u0628\u0627",
    '</td></tr></table></div><h1 id="pwned-h1">broke out</h1>',
    "<style>body{display:none !important}</style>",
    f'<a id="pwned-link" href="javascript:window.{MARK}=\'a\'">x</a>',
    "</script><script>window.__pwned='breakout'</script>",
]
PROBE = f"""(() => ({{
  pwned: window.{MARK} === undefined ? null : String(window.{MARK}),
  title: document.title,
  injected: Array.from(document.querySelectorAll('[id^="pwned"]')).map(e => e.id),
  javascript_links: document.querySelectorAll('a[href^="javascript:" i]').length,
  evil: Array.from(document.querySelectorAll('[src],[href]'))
      .filter(e => ((e.getAttribute('src') || '') + (e.getAttribute('href') || '')).includes('evil.example')).length,
  iframes: document.querySelectorAll('iframe').length,
  body_display: getComputedStyle(document.body).display,
  scroll_width: document.documentElement.scrollWidth,
  client_width: document.documentElement.clientWidth,
  text: document.body.innerText,
}}))()"""


def hostile_dataset():
    """The demo server with untrusted text everywhere a server carries names. The publisher
    whose key the fetch uses owns 40 items, which carry every payload."""
    ds = generate_dataset("demo", seed=3, now=NOW)
    users = ds.users
    owned = ds.content["owner_guid"].value_counts()
    publishers = users[users["user_role"] == "publisher"].assign(owned=lambda d: d["guid"].map(owned).fillna(0))
    top = publishers.sort_values(["owned", "username"], ascending=[False, True]).iloc[0]["guid"]
    ds.content.loc[ds.content.index[:40], "owner_guid"] = top
    n = len(PAYLOADS)
    for i, idx in enumerate(ds.content.index):
        p = PAYLOADS[i % n]
        ds.content.loc[idx, "title"] = p
        ds.content.loc[idx, "description"] = PAYLOADS[(i + 3) % n]
        if i % 5 == 0:
            ds.content.loc[idx, "run_as"] = PAYLOADS[(i // 5) % n][:200]
    for i, idx in enumerate(users.index):
        users.loc[idx, "username"] = f"{PAYLOADS[i % n][:300]}-{i}"
        users.loc[idx, "first_name"] = PAYLOADS[(i + 1) % n]
    for i, idx in enumerate(ds.tags.index):
        ds.tags.loc[idx, "name"] = f"{PAYLOADS[i % n][:200]}#{i}"
    for i, idx in enumerate(ds.groups.index):
        ds.groups.loc[idx, "name"] = PAYLOADS[(i + 2) % n]
    return ds


@pytest.fixture(scope="session")
def hostile_report(tmp_path_factory):
    """(kit, snapshot dir, report dir, fetch Run, report Run) for the hostile server, made once."""
    from rel_suite import Kit, check_get_only

    from connect_simulator import start_simulator

    kit = Kit(tmp_path_factory.mktemp("hostile"), FIGURES)
    snap, out = kit.base / "snap", kit.base / "report"
    with start_simulator(dataset=hostile_dataset(), api_key=KEY) as sim:
        fetched = kit("fetch", "--server", sim.url, "--out", snap, "--since", SINCE, key=f"{KEY}-publisher")
    check_get_only(sim.request_log)
    assert fetched.returncode == 0, str(fetched)
    reported = kit("report", "--snapshot", snap, "--out", out)
    return kit, snap, out, fetched, reported


def test_the_report_renders_and_says_what_it_could_not_see(hostile_report):
    FIGURES.tried("hostile server text, publisher key: report")
    kit, snap, out, fetched, reported = hostile_report
    assert reported.returncode == 0 and "Traceback" not in reported.stderr, str(reported)
    assert (out / "report.html").is_file()
    unavailable = json.loads((snap / "manifest.json").read_text())["unavailable"]
    assert unavailable, "a publisher's key cannot read everything"
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["unavailable"]) == set(unavailable)


def test_untrusted_text_never_runs_loads_or_breaks_the_layout(hostile_report):
    FIGURES.tried("hostile server text: report in Chromium")
    chromium.need_chromium()
    kit, snap, out, _, reported = hostile_report
    assert reported.returncode == 0, str(reported)
    page = chromium.visit((out / "report.html").as_uri(), probe=PROBE, settle_s=1.5)
    facts = page.facts
    assert facts["pwned"] is None and facts["title"] != "PWNED"
    assert facts["injected"] == [] and facts["iframes"] == 0
    assert facts["javascript_links"] == 0 and facts["evil"] == 0
    assert facts["body_display"] != "none"
    assert not [u for u in page.requests if "evil.example" in u or u.startswith(("http:", "https:"))]
    assert page.exceptions == []
    # the width stays the window's: a 10,000-character word wraps or scrolls inside its cell
    assert facts["scroll_width"] <= facts["client_width"] + 20, facts["scroll_width"]
    # and it is all shown as text
    text = facts["text"]
    assert "<script>window.__pwned" in text and "onerror=" in text
    assert "Not available from this server" in text
    for dataset in json.loads((snap / "manifest.json").read_text())["unavailable"]:
        assert dataset in text


def test_executed_notebooks_hold_untrusted_text_as_escaped_html(hostile_report):
    """Opened in Jupyter, the run record's HTML outputs must not carry live markup either."""
    FIGURES.tried("hostile server text: executed notebooks")
    kit, snap, out, _, reported = hostile_report
    notebooks = sorted((out / "notebooks").glob("*.ipynb"))
    assert notebooks
    live = re.compile(r"<script>window\.__pwned|<img src=x onerror|<svg onload|id=\"pwned-|<iframe id=pwned")
    html_outputs = 0
    for nb in notebooks:
        for cell in json.loads(nb.read_text())["cells"]:
            for output in cell.get("outputs", []):
                html = output.get("data", {}).get("text/html")
                if html:
                    html_outputs += 1
                    html = "".join(html) if isinstance(html, list) else html
                    assert not live.search(html), f"{nb.name}: {live.search(html)[0]!r}"
    assert html_outputs > 5


def test_the_probe_sees_payloads_that_do_run(tmp_path):
    """The same probe on a page that pastes the payloads in raw: it must see them run, or the
    checks above could not fail."""
    chromium.need_chromium()
    page = tmp_path / "raw.html"
    page.write_text("<!DOCTYPE html><html><body><table><tr><td>"
                    + "</td><td>".join(PAYLOADS[:9] + PAYLOADS[11:12]) + "</td></tr></table></body></html>")
    facts = chromium.visit(page.as_uri(), probe=PROBE, settle_s=1.0, full_page=False).facts
    assert facts["pwned"] is not None and facts["title"] == "PWNED"
    assert {"pwned-div", "pwned-h1", "pwned-b"} <= set(facts["injected"])
    assert facts["scroll_width"] > 5 * facts["client_width"]
