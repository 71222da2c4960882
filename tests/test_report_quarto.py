"""The Quarto path, tested on the project it stages, the command it runs and the checks after
it (Quarto itself cannot be installed on our machines). The "quarto" here is a stand-in script
that records how it was called and writes a page the way Quarto's embedding does (plotly.js
from the project's file as a base64 data: URL, plus the require.js/jQuery CDN tags Quarto adds
for widget outputs): a test of the command the kit runs and what it does with the result, not
a test that Quarto works.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from report_fixtures import REPO

from connect_analysis.errors import ConfigError, ReportError
from connect_analysis.report.quarto import (
    AFTER_BODY,
    PLOTLY_FILE,
    quarto_command,
    quarto_messages,
    render_quarto,
    stage_project,
)
from connect_analysis.report.quarto_check import check_page, strip_widget_cdn
from connect_analysis.report.render import plotly_js
from connect_analysis.report.renderer import Renderer, choose_renderer, find_quarto

REQUIRE_TAGS = ('<script src="https://cdn.jsdelivr.net/npm/requirejs@2.3.6/require.min.js" '
                'integrity="sha384-x" crossorigin="anonymous"></script>\n'
                '<script src="https://cdn.jsdelivr.net/npm/jquery@3.5.1/dist/jquery.min.js" '
                'crossorigin="anonymous"></script>\n')

FAKE_QUARTO = r'''#!{python}
import base64, json, os, pathlib, sys
if sys.argv[1:] == ["--version"]:
    print("1.10.18"); sys.exit(0)
pathlib.Path(os.environ["FAKE_QUARTO_LOG"]).write_text(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}))
mode = os.environ.get("FAKE_QUARTO_MODE", "ok")
if mode == "fail":
    print("\x1b[31mERROR: YAMLException: bad indentation of a mapping entry (report.ipynb, 3:5)\x1b[0m", file=sys.stderr)
    print("Stack trace:\n    at Object.render (file:///opt/quarto/bin/quarto.js:1:1)", file=sys.stderr)
    sys.exit(1)
nb = json.loads(pathlib.Path("report.ipynb").read_text())
body = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "raw"
               and c["metadata"].get("format") == "text/html")
after = pathlib.Path("templates/after-body.html").read_text()
js = pathlib.Path("templates/plotly.min.js").read_bytes()
if mode == "tabs":
    js = js.replace(b"\t", b"  ")
after = after.replace('src="templates/plotly.min.js"',
                      'src="data:application/javascript;base64,' + base64.b64encode(js).decode() + '"')
page = ('<!DOCTYPE html><html><head><title>Connect migration plan</title>' + {require!r}
        + '</head><body class="ca-report"><main>' + body + "</main>" + after + "</body></html>")
pathlib.Path("report.html").write_text(page)
print("WARNING (resources): Could not fetch resource https://example.invalid/x.png", file=sys.stderr)
'''


def _fake_quarto(tmp_path: Path) -> Path:
    path = tmp_path / "bin" / "quarto"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FAKE_QUARTO.format(python=sys.executable, require=REQUIRE_TAGS))
    path.chmod(0o755)
    return path


def _executed(report) -> list[Path]:
    return sorted((report.out / "notebooks").glob("*.ipynb"))


def test_project_file_names_its_target_and_never_executes():
    project = yaml.safe_load((REPO / "_quarto.yml").read_text())
    assert project["project"]["render"] == ["report.ipynb"]
    assert project["execute"] == {"enabled": False, "freeze": False}
    html = project["format"]["html"]
    assert html["embed-resources"] is True and html["echo"] is False
    assert html["html-math-method"] == "plain"  # MathJax would come from a CDN
    assert html["css"] == "templates/report.css" and (REPO / html["css"]).exists()
    assert html["body-classes"] == "ca-report"
    assert "include-in-header" not in html  # pandoc's reader would turn plotly.js's tabs into spaces
    assert html["include-after-body"] == [AFTER_BODY]


def test_command_renders_the_staged_project_without_executing():
    assert quarto_command("/opt/quarto/bin/quarto") == ["/opt/quarto/bin/quarto", "render",
                                                        "--no-execute"]
    assert "#     quarto render --no-execute\n" in (REPO / "_quarto.yml").read_text()


def test_staged_project_has_title_body_classes_plotly_as_a_file_and_no_html_outputs(hostile_report):
    out = hostile_report.out
    executed = _executed(hostile_report)
    stage = stage_project(executed, out, {"server": {"url": "http://<x>", "version": "1"}},
                          "Rendered by Quarto 1.10.18 (/usr/bin/quarto).")
    assert stage == out / "quarto-project"
    joined = nbformat.read(stage / "report.ipynb", as_version=4)
    front = yaml.safe_load(joined.cells[0].source.strip().strip("-"))
    assert joined.cells[0].cell_type == "raw"
    assert front["title"] == "Connect migration plan" and front["body-classes"] == "ca-report"
    # plotly.js is a file, the installed package's bytes; the page only references it
    assert (stage / PLOTLY_FILE).read_bytes() == plotly_js() and plotly_js().count(b"\t") > 0
    after = (stage / AFTER_BODY).read_text()
    assert f'<script src="{PLOTLY_FILE}"></script>' in after and "plotly.js v" not in after
    # no notebook output at all, so never a text/html output that makes Quarto add require.js
    assert all(c.cell_type in ("raw", "markdown") for c in joined.cells)
    assert not any("outputs" in c for c in joined.cells)
    raw = "".join(c.source for c in joined.cells if c.cell_type == "raw")
    assert "http://&lt;x&gt;" in raw and "<x>" not in raw
    assert 'id="verdicts"' in raw and "Rendered by Quarto 1.10.18" in raw
    assert 'href="runtimes.csv"' in joined.cells[-1].source
    # headings one level down (the title is the only h1), notebook-only cells left out
    markdown = [c.source for c in joined.cells if c.cell_type == "markdown"]
    assert not any(line.startswith("# ") for m in markdown for line in m.splitlines())
    assert any(m.startswith("## Runtimes and images") for m in markdown)
    assert not any("What this notebook has at hand" in m for m in markdown)
    assert len({c.id for c in joined.cells}) == len(joined.cells)
    tables = sum(o.get("data", {}).get("text/html", "").count("<table")
                 for p in executed for c in nbformat.read(p, as_version=4).cells
                 for o in c.get("outputs", []))
    assert raw.count("<table") == tables  # every table carried over


def _page(plotly: bytes, extra_head: str = "") -> str:
    data = base64.b64encode(plotly).decode()
    return (f"<html><head>{extra_head}</head><body><div class='ca-chart'></div>"
            f'<script src="data:application/javascript;base64,{data}"></script></body></html>')


def test_post_render_check_passes_a_self_contained_page():
    check_page(_page(plotly_js()))
    check_page(f"<html><body><script>{plotly_js().decode()}</script></body></html>")
    check_page('<a href="https://connect.example.com/content/1/">a link is not a load</a>',
               needs_plotly=False)


def test_post_render_check_fails_on_the_widget_cdn_tags():
    with pytest.raises(ReportError, match="references another host .*cdn.jsdelivr.net/npm/requirejs"):
        check_page(_page(plotly_js(), REQUIRE_TAGS))
    stripped, removed = strip_widget_cdn(_page(plotly_js(), REQUIRE_TAGS))
    assert removed == 2 and "cdn.jsdelivr" not in stripped
    check_page(stripped)
    for other in ('<link rel="stylesheet" href="https://fonts.example/x.css">',
                  "<style>@import url(//cdn.example/x.css);</style>",
                  '<script src="https://cdn.plot.ly/plotly-2.35.2.min.js"></script>'):
        with pytest.raises(ReportError, match="another host"):
            check_page(_page(plotly_js(), other))


def test_post_render_check_fails_on_an_altered_plotly():
    altered = plotly_js().replace(b"\t", b"  ")  # what pandoc's reader did to it
    assert altered != plotly_js()
    with pytest.raises(ReportError, match="altered plotly.js"):
        check_page(_page(altered))
    with pytest.raises(ReportError, match="altered plotly.js"):
        check_page(f"<script>{altered.decode()}</script>")
    with pytest.raises(ReportError, match="no plotly.js"):
        check_page("<html><body>charts but no library</body></html>")


def test_quarto_messages_keep_warnings_and_the_error_line():
    warnings, error = quarto_messages(
        "\x1b[33mWARNING (resources): Could not fetch resource x.png\x1b[0m\n"
        "ERROR: YAMLException: bad indentation\nStack trace:\n    at render (quarto.js:1)\n")
    assert warnings == ["WARNING (resources): Could not fetch resource x.png"]
    assert error == "ERROR: YAMLException: bad indentation"


def test_render_runs_the_command_strips_cdn_tags_and_surfaces_warnings(hostile_report, tmp_path,
                                                                       monkeypatch):
    quarto = _fake_quarto(tmp_path)
    log = tmp_path / "quarto-call.json"
    monkeypatch.setenv("FAKE_QUARTO_LOG", str(log))
    out = tmp_path / "out"
    out.mkdir()
    summary = json.loads((hostile_report.out / "summary.json").read_text())
    html_file, warnings = render_quarto(Renderer("quarto", str(quarto), "1.10.18"),
                                        _executed(hostile_report), out, summary)
    call = json.loads(log.read_text())
    assert call == {"argv": ["render", "--no-execute"], "cwd": str(out / "quarto-project")}
    page = html_file.read_text()
    assert html_file == out / "report.html" and "cdn.jsdelivr" not in page
    assert "Rendered by Quarto 1.10.18 (" + str(quarto) + ")." in page
    assert warnings == ["WARNING (resources): Could not fetch resource https://example.invalid/x.png"]
    check_page(page)


@pytest.mark.parametrize("mode, message", [
    ("fail", "quarto render failed (exit 1): ERROR: YAMLException: bad indentation of a mapping entry"),
    ("tabs", "altered plotly.js"),
])
def test_render_failures_say_why_in_one_line(hostile_report, tmp_path, monkeypatch, mode, message):
    quarto = _fake_quarto(tmp_path)
    monkeypatch.setenv("FAKE_QUARTO_LOG", str(tmp_path / "log.json"))
    monkeypatch.setenv("FAKE_QUARTO_MODE", mode)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ReportError) as err:
        render_quarto(Renderer("quarto", str(quarto), "1.10.18"), _executed(hostile_report), out, {})
    assert message in str(err.value) and "Stack trace" not in str(err.value)
    assert not (out / "report.html").exists()


def test_quarto_is_found_through_quarto_path_then_beside_python_then_path(tmp_path, monkeypatch):
    fake = _fake_quarto(tmp_path)
    beside = tmp_path / "venv" / "bin"
    beside.mkdir(parents=True)
    (beside / "quarto").symlink_to(fake)
    on_path = tmp_path / "path-bin"
    on_path.mkdir()
    (on_path / "quarto").symlink_to(fake)
    monkeypatch.setenv("PATH", f"{on_path}{os.pathsep}/usr/bin:/bin")
    monkeypatch.setattr(sys, "executable", str(beside / "python"))
    monkeypatch.setenv("QUARTO_PATH", str(fake))
    assert find_quarto() == str(fake)
    monkeypatch.delenv("QUARTO_PATH")
    assert find_quarto() == str(beside / "quarto")
    (beside / "quarto").unlink()
    assert find_quarto() == str(on_path / "quarto")
    chosen = choose_renderer("auto")
    assert (chosen.name, chosen.version) == ("quarto", "1.10.18")
    assert chosen.describe() == f"Rendered by Quarto 1.10.18 ({on_path / 'quarto'})."
    assert choose_renderer("builtin").name == "builtin"  # whatever is installed
    monkeypatch.setenv("PATH", "/nonexistent")
    assert choose_renderer("auto").describe() == "Rendered by the kit's built-in renderer (nbconvert)."
    with pytest.raises(ConfigError, match="no Quarto found"):
        choose_renderer("quarto")
    monkeypatch.setenv("QUARTO_PATH", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="QUARTO_PATH"):
        choose_renderer("auto")


def test_cli_renderer_quarto_without_quarto_is_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "QUARTO_PATH"} | {"PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "report", "--snapshot",
                           str(tmp_path), "--out", str(tmp_path / "out"), "--renderer", "quarto"],
                          capture_output=True, text=True, env=env, timeout=120)
    if Path("/usr/bin/quarto").exists() or Path("/bin/quarto").exists():
        pytest.skip("a system-wide Quarto is installed in /usr/bin")
    assert proc.returncode == 1 and proc.stderr.startswith("error: --renderer quarto: no Quarto found")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_both_renderers_carry_the_same_verdicts_and_tables(hostile_report, tmp_path):
    import re

    out = hostile_report.out
    builtin = (out / "report.html").read_text()
    summary = json.loads((out / "summary.json").read_text())
    stage = stage_project(_executed(hostile_report), out, summary, "Rendered by Quarto.")
    raw = "".join(c.source for c in nbformat.read(stage / "report.ipynb", as_version=4).cells
                  if c.cell_type == "raw")

    def captions(text):
        return [re.sub(r"-\w{6}-\d+", "", c) for c in re.findall(r"<caption[^>]*>([^<]*)</caption>", text)]

    def verdicts(text):
        return re.findall(r'<li class="ca-verdict ca-(\w+)"><span class="ca-status">([^<]+)</span>', text)

    assert captions(raw) == captions(builtin) and len(captions(raw)) >= 15
    assert verdicts(raw) == verdicts(builtin) and len(verdicts(raw)) >= 4


def test_cli_report_with_quarto_path_renders_through_it_and_prints_its_warnings(tmp_path):
    from report_snapshot import write_hostile_snapshot

    quarto = _fake_quarto(tmp_path)
    snapshot = write_hostile_snapshot(tmp_path / "snap")
    env = {k: v for k, v in os.environ.items() if k != "CONNECT_API_KEY"}
    env |= {"QUARTO_PATH": str(quarto), "FAKE_QUARTO_LOG": str(tmp_path / "log.json")}
    proc = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "report", "--snapshot",
                           str(snapshot), "--out", str(tmp_path / "out")],  # auto: QUARTO_PATH first
                          capture_output=True, text=True, env=env, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.splitlines() == [
        "warning: quarto: WARNING (resources): Could not fetch resource https://example.invalid/x.png"]
    page = (tmp_path / "out" / "report.html").read_text()
    assert f"Rendered by Quarto 1.10.18 ({quarto})." in page and "cdn.jsdelivr" not in page
    assert json.loads((tmp_path / "log.json").read_text())["argv"] == ["render", "--no-execute"]


def test_the_documented_command_is_the_one_run():
    command = " ".join(quarto_command("quarto"))
    assert command == "quarto render --no-execute"
    assert f"`{command}`" in (REPO / "docs" / "guides" / "report.qmd").read_text()
    assert f"#     {command}\n" in (REPO / "_quarto.yml").read_text()
