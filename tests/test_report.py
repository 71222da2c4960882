"""The report command: analysis beside the report, the run record, escaping, secrets, failures."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs
from report_fixtures import CANARY_KEY, PREFLIGHT_DETAIL, REPO
from report_snapshot import BOLD_TITLE, GUIDS, HOSTILE_OWNER, SCRIPT_TITLE, write_hostile_snapshot

from connect_analysis.analysis.output import ANALYSIS_FILES
from connect_analysis.errors import ReportError
from connect_analysis.report import notebooks_dir
from connect_analysis.report.execute import execute_notebooks, notebook_paths

NOTEBOOKS = [p.name for p in notebook_paths(notebooks_dir())]
PARAMETER_NAMES = {"snapshot", "days", "top_n", "images", "must_keep", "must_keep_tags",
                   "current_use_bytes", "preflight", "image_os"}


def test_report_writes_html_analysis_and_run_record(hostile_report):
    out = hostile_report.out
    assert hostile_report.stdout.strip().splitlines()[-1] == str(out / "report.html")
    for name in ("summary.json", "important-content.csv", "runtimes.csv", "image-coverage.csv",
                 "storage-by-content.csv", "run-as.csv"):
        assert (out / name).stat().st_size > 0, name
    page = (out / "report.html").read_text()
    for name in ("summary.json", "runtimes.csv", "run-as.csv"):
        assert f'href="{name}"' in page
    assert sorted(p.name for p in (out / "notebooks").glob("*.ipynb")) == NOTEBOOKS
    for name in NOTEBOOKS:
        nb = nbformat.read(out / "notebooks" / name, as_version=4)
        assert nb.metadata.papermill.exception is None or nb.metadata.papermill.exception is False
        assert sum(len(c.get("outputs", [])) for c in nb.cells) >= 2, name


def test_report_options_reach_the_analysis_and_notebooks(hostile_report):
    summary = json.loads((hostile_report.out / "summary.json").read_text())
    picked = [c["guid"] for c in summary["important_content"]]
    # --top 3: the three used items by events (15, 5, 1), then the must-keep one
    assert picked == [GUIDS[0], GUIDS[1], GUIDS[2], GUIDS[4]]
    nb = nbformat.read(hostile_report.out / "notebooks" / "01-overview.ipynb", as_version=4)
    params = nb.metadata.papermill.parameters
    assert params["top_n"] == 3 and params["must_keep"] == [GUIDS[4]]
    page = (hostile_report.out / "report.html").read_text()
    assert "grow the volume" in page  # the preflight file's rows are in the report


def test_server_text_is_never_markup(hostile_report):
    out = hostile_report.out
    page = (out / "report.html").read_text()
    outside_plotly = page.replace(get_plotlyjs(), "")
    for raw in (SCRIPT_TITLE, "<b>bold</b>", HOSTILE_OWNER, "<i>cy</i>", "svc-<etl>",
                PREFLIGHT_DETAIL, "/mnt/<shared>"):
        assert raw not in page, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in outside_plotly
    # quotes are harmless in text; they may or may not be entities
    assert any(f"{q}quoted{q} &lt;b&gt;bold&lt;/b&gt;" in outside_plotly
               for q in ('"', "&quot;", "&#34;"))
    # exactly the report's own scripts: the tables', plotly.js, the charts' and one JSON
    # block (data, not code) per chart
    charts = outside_plotly.count('class="ca-chart"')
    assert len(re.findall(r'<script\b[^>]*\btype="application/json"[^>]*>', outside_plotly)) == charts
    assert outside_plotly.count("<script") == 3 + charts
    # the executed notebooks' HTML outputs are escaped too
    for name in NOTEBOOKS:
        text = (out / "notebooks" / name).read_text()
        for raw in (SCRIPT_TITLE, "<b>bold</b>", HOSTILE_OWNER):
            assert json.dumps(raw)[1:-1] not in text, (name, raw)


def test_chart_labels_escape_plotly_markup(hostile_report):
    nb = nbformat.read(hostile_report.out / "notebooks" / "03-important-content.ipynb", as_version=4)
    figures = [o.data["application/vnd.plotly.v1+json"] for c in nb.cells
               for o in c.get("outputs", []) if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) == 1
    labels = figures[0]["data"][0]["y"]
    assert "1. &lt;script&gt;alert(1)&lt;/script&gt;" in labels
    assert "2. \"quoted\" &lt;b&gt;bold&lt;/b&gt;" in labels
    assert BOLD_TITLE not in json.dumps(figures)


def test_api_key_is_nowhere(hostile_report, demo_report):
    for made in (hostile_report, demo_report):
        assert CANARY_KEY not in made.stdout + made.stderr
        files = [p for p in made.out.rglob("*") if p.is_file()]
        assert len(files) > 10
        for path in files:
            assert CANARY_KEY.encode() not in path.read_bytes(), path
        for nb_path in (made.out / "notebooks").glob("*.ipynb"):
            params = nbformat.read(nb_path, as_version=4).metadata.papermill.parameters
            assert set(params) <= PARAMETER_NAMES, nb_path.name


def _notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('snapshot: str = ""  # where')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_failing_notebook_is_named_with_its_cell_and_kept(tmp_path):
    good = _notebook(tmp_path / "01-good.ipynb", ["print(snapshot)"])
    bad = _notebook(tmp_path / "02-bad.ipynb", ["x = 1", "raise ValueError('no such runtime')"])
    out = tmp_path / "out"
    with pytest.raises(ReportError) as err:
        execute_notebooks([good, bad], out, {"snapshot": "/data/snap", "top_n": 5})
    message = str(err.value)
    assert "02-bad.ipynb" in message and "cell 3" in message
    assert "ValueError: no such runtime" in message and "\n" not in message
    e = err.value  # the same facts as attributes (papermill's cell 3: after the injected one)
    assert (e.notebook, e.cell_index, e.exec_count, e.ename, e.evalue, e.run_record) == (
        "02-bad.ipynb", 3, 4, "ValueError", "no such runtime", str(out / "02-bad.ipynb"))
    kept = nbformat.read(out / "02-bad.ipynb", as_version=4)
    errors = [c for c in kept.cells if any(o.output_type == "error" for o in c.get("outputs", []))]
    assert [c.source for c in errors] == ["raise ValueError('no such runtime')"]
    ran = nbformat.read(out / "01-good.ipynb", as_version=4)
    assert ran.cells[2].outputs[0].text == "/data/snap\n"  # given only what it declares
    assert ran.metadata.papermill.parameters == {"snapshot": "/data/snap"}


def test_a_notebook_failing_under_the_cli_is_one_line(tmp_path):
    # a real report whose kernels cannot import plotly (an IPython startup file, as a user's
    # profile could hold, hides it): the first notebook's set-up cell fails in the kernel
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-no-plotly.py").write_text("import sys\nsys.modules['plotly'] = None\n")
    snapshot = write_hostile_snapshot(tmp_path / "snap")
    proc = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "report", "--snapshot",
                           str(snapshot), "--out", str(tmp_path / "out"), "--renderer", "builtin"],
                          capture_output=True, text=True, timeout=300, cwd=REPO,
                          env={**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")})
    record = tmp_path / "out" / "notebooks" / "01-overview.ipynb"
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        "error: notebook 01-overview.ipynb failed in cell 4, In [3] ('from connect_analysis "
        "import charts, tables'): ModuleNotFoundError: No module named 'plotly.graph_objects'; "
        f"'plotly' is not a package (run record: {record})"]
    assert record.is_file() and not (tmp_path / "out" / "report.html").exists()


def test_kernel_is_this_python_without_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("CONNECT_API_KEY", CANARY_KEY)
    monkeypatch.setenv("CONNECT_SERVER", "http://127.0.0.1:9")
    nb = _notebook(tmp_path / "01-env.ipynb", [
        "import os, sys; print(sys.executable); "
        "print(os.environ.get('CONNECT_API_KEY'), os.environ.get('CONNECT_SERVER'))"])
    execute_notebooks([nb], tmp_path / "out", {})
    text = nbformat.read(tmp_path / "out" / "01-env.ipynb", as_version=4).cells[1].outputs[0].text
    assert text.splitlines() == [sys.executable, "None None"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "connect_analysis.cli", *args],
                          capture_output=True, text=True, timeout=120, cwd=REPO)


@pytest.mark.parametrize("extra, expected", [
    ([], "is not a snapshot directory"),
    (["--must-keep", "not-a-guid"], "not a content GUID"),
    (["--images", "/nonexistent/images.yaml"], "no such file"),
])
def test_bad_input_is_one_line(tmp_path, extra, expected):
    snapshot = tmp_path / "missing" if not extra else write_hostile_snapshot(tmp_path / "snap")
    proc = _cli("report", "--snapshot", str(snapshot), "--out", str(tmp_path / "out"), *extra)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "report.html").exists()


def test_html_loads_nothing_from_another_host(demo_report):
    page = (demo_report.out / "report.html").read_text()
    assert page.count(get_plotlyjs()) == 1  # plotly.js embedded once
    rest = page.replace(get_plotlyjs(), "")
    server = json.loads((demo_report.out / "summary.json").read_text())["server"]["url"]
    # the only absolute URLs are links (<a href>) to the server's own content
    assert not re.search(r"""(src|action)\s*=\s*["']?\s*(https?:)?//""", rest, re.I)
    hrefs = re.findall(r"""<(\w+)[^>]*\bhref\s*=\s*["']((?:https?:)?//[^"']*)""", rest, re.I)
    assert hrefs and all(tag == "a" and url.startswith(server + "/") for tag, url in hrefs)
    assert not re.search(r"<link\b|@import|url\(\s*['\"]?(https?:)?//", rest, re.I)
    assert "cdn." not in rest and "fonts.googleapis" not in rest


@pytest.mark.browser
def test_pdf_is_printed_from_the_html(hostile_report, tmp_path):
    from chromium import need_chromium

    from connect_analysis.report.pdf import render_pdf

    need_chromium()  # the browser render_pdf finds
    pdf = render_pdf(hostile_report.out / "report.html", tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 20_000
    assert not list(tmp_path.glob(".*.tmp"))


def test_report_takes_the_analyze_options_and_agrees_with_analyze(tmp_path):
    from connect_analysis.snapshot import load_snapshot, write_snapshot

    snapshot = write_hostile_snapshot(tmp_path / "snap")
    snap = load_snapshot(snapshot)
    tags = pd.DataFrame({"content_guid": [GUIDS[3]], "tag_id": ["9"], "tag_name": ["finance"]})
    write_snapshot(snapshot, dict(snap.tables) | {"content_tags": tags}, snap.manifest,
                   snap.server_settings)
    options = ["--images", "server", "--must-keep-tag", "finance", "--top", "2",
               "--current-use-bytes", str(60 * 10**9)]
    analysed = _cli("analyze", str(snapshot), "--out", str(tmp_path / "analysis"), *options)
    assert analysed.returncode == 0, analysed.stderr
    made = _cli("report", "--snapshot", str(snapshot), "--out", str(tmp_path / "report"), *options)
    assert made.returncode == 0, made.stderr[-3000:]
    assert made.stderr == ""  # papermill saw every parameter: no "Passed unknown parameter"
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary == json.loads((tmp_path / "analysis" / "summary.json").read_text())
    # events: GUIDS[0] 3 visits + 4 sessions, GUIDS[1] 5 visits; then GUIDS[3] by its tag
    assert [(c["guid"], c["reason"]) for c in summary["important_content"]] == [
        (GUIDS[0], "top 2 by usage (rank 1)"), (GUIDS[1], "top 2 by usage (rank 2)"),
        (GUIDS[3], "must-keep tag finance")]
    assert summary["storage"]["current_use_bytes"] == 60 * 10**9
    assert summary["storage"]["recommended_bytes"] == 120 * 10**9  # 2 x the measured use
    assert (summary["images"]["source"], summary["images"]["image_count"]) == ("server", 0)
    for csv_name in ("important-content.csv", "storage-by-content.csv", "run-as.csv"):
        assert (tmp_path / "report" / csv_name).read_text() == \
            (tmp_path / "analysis" / csv_name).read_text(), csv_name
    # the notebooks got the same options, so the sections show the same figures
    for name in NOTEBOOKS:
        params = nbformat.read(tmp_path / "report" / "notebooks" / name, as_version=4).metadata.papermill.parameters
        assert params["must_keep_tags"] == ["finance"] and params["current_use_bytes"] == 60 * 10**9
        assert params["images"] == "server" and params["top_n"] == 2
    page = (tmp_path / "report" / "report.html").read_text()
    assert "120.0 GB (current use 60.0 GB" in page  # the answers
    assert "<td>60.0 GB (measured)</td>" in page  # the storage section's facts
    assert page.count("<caption") and page.count(">Important content</caption>") == 1  # once


class _Page(HTMLParser):
    """Every attribute value, script and style body, and table-cell text of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.attributes, self.code, self.cell_text, self.other_text = [], [], [], []
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._stack.append(tag)
        self.attributes += [(tag, k, v or "") for k, v in attrs]

    def handle_endtag(self, tag):
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data):
        where = self._stack[-1] if self._stack else ""
        if where in ("script", "style"):
            self.code.append(data)
        elif {"td", "th"} & set(self._stack):
            self.cell_text.append(data)
        else:
            self.other_text.append(data)


URL = re.compile(r"(?:https?:)?//[\w.-]+(?::\d+)?[^\s\"'<>)]*", re.I)


@pytest.mark.parametrize("which", ["demo_report", "hostile_report"])
def test_no_reference_to_another_host(which, request):
    made = request.getfixturevalue(which)
    page = (made.out / "report.html").read_text()
    plotly = get_plotlyjs()
    assert page.count(plotly) == 1 and len(re.findall(r"plotly\.js v\d", page)) == 1  # one copy
    parsed = _Page()
    parsed.feed(page.replace(plotly, ""))
    server = json.loads((made.out / "summary.json").read_text())["server"]["url"]
    # nothing the browser would load: no URL in any attribute but links to the server's
    # own content, none in any script or stylesheet
    assert [a for a in parsed.attributes if URL.search(a[2])
            and not (a[:2] == ("a", "href") and a[2].startswith(server + "/"))] == []
    assert [m for code in parsed.code for m in URL.findall(code) if not m.startswith("//-")] == []
    # URLs appear only as text from the data: the server's own content URLs in table cells, and
    # package notes (e.g. "requires Pandoc (http://pandoc.org)"); none outside the tables
    # except the server's address in the heading
    assert all(u.startswith(server) for t in parsed.other_text for u in URL.findall(t))
    cell_urls = [u for t in parsed.cell_text for u in URL.findall(t)]
    assert any(u.startswith(server + "/content/") for u in cell_urls)


ANSWER_LABELS = ["Server", "Content items", "R versions in use (content items)",
                 "Python versions in use (content items)", "Quarto versions in use (content items)",
                 "Images covering the content (smallest set, in order)", "Content no image covers",
                 "Important content", "Shared storage: recommended capacity", "Bundles",
                 "Migration time (estimate)", "Run-as (custom Unix users)", "Run as the viewing user",
                 "Licence"]


def test_report_opens_with_the_answers(hostile_report):
    page = (hostile_report.out / "report.html").read_text()
    body = page[page.index("<body"):]
    first_table = body[body.index("<table"):body.index("</table>")]
    # the first thing after the heading is the answers table, in this order
    assert body.index("<table") < body.index('id="section-02-runtimes-and-images"')
    assert "The answers" in first_table
    positions = [first_table.index(f">{html.escape(label)}<") for label in ANSWER_LABELS]
    assert positions == sorted(positions)
    rows = dict(re.findall(r"<th[^>]*>([^<]+)</th>\s*<td[^>]*>([^<]*)</td>", first_table))
    # the hand-built snapshot: 5 items, 4 deployed; R 4.3.2 on two, 4.4.1 on one (the server
    # has R 4.3.2 and Python 3.11.4 only); bundles 2+3+5+7+1 MB
    assert rows["Content items"] == "5 (4 deployed, 1 never deployed)"
    assert rows["R versions in use (content items)"] == "4.3.2 (2), 4.4.1 (1) | missing on the server: 4.4.1"
    assert rows["Python versions in use (content items)"] == \
        "3.11.4 (1), 3.12.1 (1) | missing on the server: 3.12.1"
    assert rows["Quarto versions in use (content items)"] == "1.4.550 (1) | missing on the server: 1.4.550"
    assert rows["Important content"] == "4 items (listed in Important content)"
    assert rows["Bundles"] == "5 bundles, 18.0 MB"
    assert rows["Shared storage: recommended capacity"].startswith("100.0 GB (current use 18.0 MB")
    assert rows["Run-as (custom Unix users)"] == "rstudio-connect (1), svc-&lt;etl&gt; (1)"
    assert rows["Run as the viewing user"] == "1"
    assert rows["Licence"] == ("status: activated; tier: enhanced; expires 2030-01-01 (1,311 days "
                               "left); user limit: 25; licensed users: 0")


def test_every_analysis_file_is_beside_the_report_and_linked(hostile_report):
    out = hostile_report.out
    page = (out / "report.html").read_text()
    listed = page[page.index('id="data-files"'):page.index("</main>")]
    hrefs = re.findall(r'<a href="([^"]+)"', listed)
    on_disk = {p.name for p in out.glob("*.csv")} | {"summary.json"}
    assert on_disk <= set(hrefs)
    assert [h for h in hrefs if "/" not in h] == list(ANALYSIS_FILES)  # readiness.csv too
    assert {"important-content.csv", "runtimes.csv", "image-coverage.csv", "storage-by-content.csv",
            "run-as.csv"} <= on_disk
    for href in hrefs:
        assert not href.startswith(("/", "http")) and (out / href).is_file(), href


def test_the_plan_is_written_beside_the_report_and_linked(demo_report):
    out = demo_report.out
    page = (out / "report.html").read_text()
    plan = json.loads((out / "plan" / "plan.json").read_text())
    assert plan["format"]
    top = page[page.index('class="ca-plan"'):]
    top = top[:top.index("</p>")]
    for name in ("values.yaml", "rebuild.sh", "plan.json"):
        assert f'<a href="plan/{name}">{name}</a>' in top and (out / "plan" / name).is_file()
    listed = page[page.index('id="data-files"'):page.index("</main>")]
    files = {p.relative_to(out).as_posix() for p in (out / "plan").rglob("*") if p.is_file()}
    assert files and all(f'href="{f}"' in listed for f in files)


@pytest.mark.parametrize("which", ["demo_report", "hostile_report"])
def test_no_duplicate_ids_and_one_h1(which, request):
    page = (request.getfixturevalue(which).out / "report.html").read_text()
    body = page[:page.index('id="ca-plotly-source"')]
    ids = re.findall(r'\sid="([^"]+)"', body)
    assert len(ids) > 20 and len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1][:5]
    assert body.count("<h1") == 1 and '<main id="main"' in body and 'href="#main"' in body
