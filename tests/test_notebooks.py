"""The notebooks: papermill's parameters contract, thin cells, the parameters reference page, defaults."""

from __future__ import annotations

import ast
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
import papermill
import pytest
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import KernelManager
from report_fixtures import REPO

from connect_analysis.errors import ConfigError, SnapshotError
from connect_analysis.report import notebooks_dir
from connect_analysis.report.execute import (
    ThisPythonKernelManager,
    notebook_parameters,
    notebook_paths,
)
from connect_analysis.report.notebook import DEMO_SNAPSHOT, check_parameters, open_snapshot

NOTEBOOKS = notebook_paths(notebooks_dir())
COMMON = ["snapshot", "days", "top_n", "images", "must_keep", "must_keep_tags", "current_use_bytes"]


def test_notebooks_are_named_in_order():
    names = [p.stem for p in NOTEBOOKS]
    assert names[:5] == ["01-overview", "02-runtimes-and-images", "03-important-content",
                         "04-storage-and-downtime", "05-license-and-preflight"]
    assert all(re.fullmatch(r"\d\d-[a-z0-9]+(-[a-z0-9]+)*", n) for n in names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_then_a_cell_that_derives_and_validates(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = notebook_parameters(path)  # raises unless every line is `name: type = literal`
    assert [p.name for p in params][:len(COMMON)] == COMMON
    assert all(p.meaning for p in params)
    assert "ca.prepare(" in nb.cells[tagged[0] + 1].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_are_thin_and_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [] and cell.execution_count is None
        tree = ast.parse(cell.source)
        banned = (ast.FunctionDef, ast.ClassDef, ast.Lambda, ast.For, ast.While)
        assert not any(isinstance(n, banned) for n in ast.walk(tree)), cell.source
        assert len(cell.source.splitlines()) <= 8, cell.source


def _readme_parameters() -> set[tuple]:
    section = (REPO / "docs" / "reference" / "notebook-parameters.qmd").read_text()
    rows = set()
    for line in section.splitlines():
        # cells split on unescaped pipes; `\|` is a pipe inside a cell (GitHub Markdown)
        cells = [c.strip().replace("\\|", "|")
                 for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if len(cells) != 5 or not line.startswith("| `"):
            continue
        notebook, name, type_, default, meaning = (c.strip("`") if i < 4 else c
                                                   for i, c in enumerate(cells))
        rows.add((notebook, name, type_, json.dumps(ast.literal_eval(default)), meaning))
    return rows


def test_readme_documents_every_parameter_exactly():
    documented = _readme_parameters()
    actual = {(p.stem, q.name, q.type, json.dumps(q.default), q.meaning)
              for p in NOTEBOOKS for q in notebook_parameters(p)}
    assert documented == actual


def test_check_parameters_names_the_bad_one(tmp_path):
    ok = check_parameters(snapshot="snap", top_n=5, must_keep=["0" * 8 + "-aaaa-bbbb-cccc-" + "1" * 12])
    assert ok["options"].top_n == 5 and ok["options"].images == "posit"
    for bad, word in (({"top_n": -1}, "top_n"), ({"days": True}, "days"), ({"top": 3}, "'top'"),
                      ({"must_keep": ["x"]}, "must_keep"), ({"must_keep": "abc"}, "must_keep"),
                      ({"images": str(tmp_path / "none.yaml")}, "images"),
                      ({"preflight": str(tmp_path / "none.json")}, "preflight")):
        with pytest.raises(ConfigError, match=word):
            check_parameters(snapshot="snap", **bad)
    assert check_parameters(snapshot="snap", images="server")["options"].images == "server"


def test_missing_snapshot_elsewhere_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("CONNECT_SERVER", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SnapshotError):
        open_snapshot(tmp_path / "not-here")
    assert not (tmp_path / "not-here").exists()


@pytest.fixture()
def watched_server(monkeypatch):
    """A simulator named by CONNECT_SERVER, to show that the notebooks never ask it anything."""
    from connect_simulator import start_simulator

    with start_simulator(scenario="demo", api_key="nb-test-key", seed=3, port=0) as sim:
        monkeypatch.setenv("CONNECT_SERVER", sim.url)
        monkeypatch.setenv("CONNECT_API_KEY", "nb-test-key")
        yield sim


def test_missing_default_snapshot_is_a_clear_error_never_a_fetch(tmp_path, monkeypatch, watched_server):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the working directory does not matter
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "notebooks" / "01-overview.ipynb"))
    with pytest.raises(SnapshotError, match=r"no snapshot at \S*/notebooks/\.\./demo-output/snapshot: make the demo"):
        open_snapshot(DEMO_SNAPSHOT)
    assert not (tmp_path / "demo-output").exists()
    assert watched_server.request_log == []  # neither fetched nor simulated


def test_missing_snapshot_elsewhere_names_the_fetch_command(tmp_path, watched_server):
    with pytest.raises(SnapshotError, match="connect-analysis fetch --server URL --out DIR"):
        open_snapshot(tmp_path / "fetched", days=30)
    assert watched_server.request_log == [] and not (tmp_path / "fetched").exists()


def test_notebook_runs_with_no_arguments_against_the_demo_snapshot(demo_report, tmp_path, monkeypatch):
    # demo_report.out is ROOT/demo-output, so for a notebook in ROOT/notebooks-copy (as Jupyter
    # names it in JPY_SESSION_NAME) the default path finds it, from any working directory
    nb_dir = demo_report.out.parent / "notebooks-copy"
    nb_dir.mkdir(exist_ok=True)
    shutil.copy(notebooks_dir() / "01-overview.ipynb", nb_dir)
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb_dir / "01-overview.ipynb"))
    out = tmp_path / "01-overview.ipynb"
    papermill.execute_notebook(str(nb_dir / "01-overview.ipynb"), str(out), kernel_name="python3",
                               progress_bar=False, cwd=str(tmp_path),
                               kernel_manager_class=ThisPythonKernelManager)
    answers = _answers_html(nbformat.read(out, as_version=4))
    assert "http://127.0.0.1:" in answers and "Content items" in answers


def test_default_snapshot_resolves_against_the_notebooks_folder_not_the_cwd(tmp_path, monkeypatch):
    from connect_analysis.report.notebook import _resolve_default, notebook_folder

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)  # e.g. `papermill notebooks/01-overview.ipynb` from anywhere
    assert notebook_folder() == notebooks_dir()
    assert Path(_resolve_default(DEMO_SNAPSHOT)).resolve() == (notebooks_dir() / DEMO_SNAPSHOT).resolve()
    assert _resolve_default("snap") == "snap"  # a path the user gave stays theirs
    (tmp_path / "nb").mkdir()
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "nb" / "x.ipynb"))  # Jupyter's
    assert Path(_resolve_default(DEMO_SNAPSHOT)).resolve() == tmp_path / "demo-output" / "snapshot"


def test_prepare_reads_the_reports_analysis_when_its_options_match(demo_report, monkeypatch):
    from connect_analysis.report import notebook as ca
    from connect_analysis.report.stored import RESULT_ENV, RESULT_FILE

    snapshot = str(demo_report.out / "snapshot")
    monkeypatch.setenv(RESULT_ENV, str(demo_report.out / RESULT_FILE))
    reused = ca.prepare(snapshot=snapshot)
    assert reused.reused and reused.summary == json.loads((demo_report.out / "summary.json").read_text())
    assert len(reused.snapshot.content) == reused.summary["content"]["total"]  # loaded on demand
    other = ca.prepare(snapshot=snapshot, top_n=3)  # other options: analysed anew
    assert not other.reused and len(other.summary["important_content"]) == 3
    monkeypatch.delenv(RESULT_ENV)
    assert not ca.prepare(snapshot=snapshot).reused


def test_one_markdown_cell_says_which_dataframes_are_at_hand():
    from connect_analysis.report.render import NOTEBOOK_ONLY

    cells = [c for p in NOTEBOOKS for c in nbformat.read(p, as_version=4).cells
             if NOTEBOOK_ONLY in c.metadata.get("tags", [])]
    assert len(cells) == 1 and cells[0].cell_type == "markdown"
    for name in ("result.important_content", "result.runtimes", "run.snapshot", "load_snapshot",
                 "summary.json"):
        assert name in cells[0].source


def test_check_parameters_tags_and_measured_bytes():
    ok = check_parameters(snapshot="snap", must_keep_tags=["finance", "7"], current_use_bytes=60 * 10**9)
    assert ok["options"].must_keep_tags == ("finance", "7") and ok["options"].current_use_bytes == 60 * 10**9
    assert check_parameters(snapshot="snap")["options"].current_use_bytes is None
    # 0, the notebooks' default, is "not measured"
    assert check_parameters(snapshot="snap", current_use_bytes=0)["options"].current_use_bytes is None
    for bad, word in (({"must_keep_tags": "finance"}, "must_keep_tags"),
                      ({"must_keep_tags": [""]}, "must_keep_tags"),
                      ({"current_use_bytes": -1}, "current_use_bytes"),
                      ({"current_use_bytes": 1.5}, "current_use_bytes"),
                      ({"current_use_bytes": True}, "current_use_bytes")):
        with pytest.raises(ConfigError, match=word):
            check_parameters(snapshot="snap", **bad)


@pytest.mark.parametrize("parameters, ename, words", [
    ({"snapshot": "/nonexistent/snapshot"}, "SnapshotError", "/nonexistent/snapshot"),
    ({"top_n": -1}, "ConfigError", "top_n must be a whole number >= 0"),
    ({"must_keep": ["not-a-guid"]}, "ConfigError", "not a content GUID: 'not-a-guid'"),
], ids=["missing-snapshot", "bad-top-n", "bad-guid"])
def test_direct_papermill_run_fails_with_one_clear_line(tmp_path, monkeypatch, parameters, ename, words):
    # papermill on a notebook, as a scheduler would, with a bad input: the derive-and-validate
    # cell fails with one line naming the problem, not a traceback through the library
    monkeypatch.delenv("CONNECT_SERVER", raising=False)
    out = tmp_path / "01-overview.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(str(notebooks_dir() / "01-overview.ipynb"), str(out),
                                   parameters=parameters, kernel_name="python3", progress_bar=False,
                                   cwd=str(tmp_path), kernel_manager_class=ThisPythonKernelManager)
    assert err.value.ename == ename and words in err.value.evalue
    assert "ca.prepare(" in err.value.source
    assert len(err.value.traceback) == 1 and err.value.traceback[0].startswith(f"{ename}: ")
    nb = nbformat.read(out, as_version=4)  # the executed copy holds the same one line
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert [e.traceback for e in errors] == [[f"{ename}: {err.value.evalue}"]]
    assert not (tmp_path / "demo-output").exists()  # an explicit path is never replaced by the demo


def test_connect_analysis_errors_render_as_one_line_in_ipython():
    from connect_analysis.errors import SnapshotError as Err

    assert Err("/x is not a snapshot directory")._render_traceback_() == [
        "SnapshotError: /x is not a snapshot directory"]


class JupyterLikeKernelManager(KernelManager):
    """A kernel as Jupyter starts one: this interpreter, with the user's environment as it is
    (CONNECT_SERVER and CONNECT_API_KEY included, unlike the report's kernels)."""

    @property
    def kernel_spec(self) -> KernelSpec:
        return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                          display_name="Python 3", language="python", metadata={})


def _answers_html(nb) -> str:
    return next(o.data["text/html"] for c in nb.cells for o in c.get("outputs", [])
                if "The answers" in o.get("data", {}).get("text/html", ""))


def test_notebook_with_no_arguments_shows_the_default_snapshot_and_asks_no_server(demo_report,
                                                                                  watched_server):
    # a Jupyter user with CONNECT_SERVER set opens a notebook: it reads the snapshot at the
    # default path as it is; the report layer never fetches (that is `connect-analysis fetch`)
    root = demo_report.out.parent
    nb_dir = root / "notebooks-server"
    nb_dir.mkdir(exist_ok=True)
    shutil.copy(notebooks_dir() / "01-overview.ipynb", nb_dir)
    demo_url = json.loads((demo_report.out / "summary.json").read_text())["server"]["url"]
    out = nb_dir / "executed.ipynb"
    import os

    os.environ["JPY_SESSION_NAME"] = str(nb_dir / "01-overview.ipynb")  # as Jupyter sets it
    try:
        papermill.execute_notebook(str(nb_dir / "01-overview.ipynb"), str(out), kernel_name="python3",
                                   progress_bar=False, cwd=str(nb_dir),
                                   kernel_manager_class=JupyterLikeKernelManager)
    finally:
        del os.environ["JPY_SESSION_NAME"]
    answers = _answers_html(nbformat.read(out, as_version=4))
    assert demo_url in answers and watched_server.url not in answers
    assert watched_server.request_log == []
    assert "nb-test-key" not in out.read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_analysis_parameters_are_the_analysis_options(path):
    # every notebook declares each AnalysisOptions field with its type and default
    from connect_analysis.options import notebook_defaults

    declared = {p.name: (p.type, p.default) for p in notebook_parameters(path)}
    expected = notebook_defaults()
    assert {name: declared.get(name) for name in expected} == expected
    assert expected["images"] == ("str", "posit") and expected["top_n"] == ("int", 20)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_sees_every_declared_parameter(path):
    # papermill parses the parameters cell itself; a parameter it cannot see is still injected,
    # but with a "Passed unknown parameter" warning on stderr for every run
    seen = papermill.inspect_notebook(str(path))
    assert list(seen) == [p.name for p in notebook_parameters(path)]
    for p in notebook_parameters(path):
        assert seen[p.name]["inferred_type_name"] == p.type, p.name
