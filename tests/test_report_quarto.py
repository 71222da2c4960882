"""The Quarto path, tested on the files it stages and the command it runs (quarto itself
cannot be installed on our machines)."""

from __future__ import annotations

import nbformat
import yaml
from plotly.offline import get_plotlyjs
from report_fixtures import REPO

from connect_analysis.report.quarto import quarto_command, stage_project


def test_project_file_names_its_target_and_never_executes():
    project = yaml.safe_load((REPO / "_quarto.yml").read_text())
    assert project["project"]["render"] == ["report.ipynb"]
    assert project["execute"] == {"enabled": False, "freeze": False}
    html = project["format"]["html"]
    assert html["embed-resources"] is True and html["echo"] is False
    assert html["html-math-method"] == "plain"  # MathJax would come from a CDN
    assert html["css"] == "templates/report.css"
    assert (REPO / html["css"]).exists()


def test_command_renders_the_staged_project_without_executing():
    assert quarto_command("/opt/quarto/bin/quarto") == ["/opt/quarto/bin/quarto", "render",
                                                        "--no-execute"]


def test_staged_project_holds_the_executed_notebooks_once(hostile_report):
    out = hostile_report.out
    executed = sorted((out / "notebooks").glob("*.ipynb"))
    stage = stage_project(executed, out, {"server": {"url": "http://<x>", "version": "1"}})
    assert stage == out / "quarto-project"
    project = yaml.safe_load((stage / "_quarto.yml").read_text())
    for include in project["format"]["html"]["include-in-header"] + \
            project["format"]["html"]["include-after-body"]:
        assert (stage / include).exists(), include
    assert (stage / "templates" / "plotly.html").read_text().count(get_plotlyjs()) == 1
    joined = nbformat.read(stage / "report.ipynb", as_version=4)
    expected = sum(
        1 for p in executed for c in nbformat.read(p, as_version=4).cells
        if not {"parameters", "injected-parameters"} & set(c.metadata.get("tags", [])))
    assert len(joined.cells) == expected + 2  # plus the header and the data-files list
    assert len({c.id for c in joined.cells}) == len(joined.cells)
    header = joined.cells[0].outputs[0].data["text/html"]
    assert "http://&lt;x&gt;" in header and "<x>" not in header
    assert 'href="runtimes.csv"' in joined.cells[-1].outputs[0].data["text/html"]
    # every executed output is carried over unchanged: Quarto has nothing to run
    outputs = [o for c in joined.cells[1:-1] for o in c.get("outputs", [])]
    assert outputs and not any(c.cell_type == "code" and c.execution_count is None and c.source
                               and not c.outputs and "import" not in c.source
                               for c in joined.cells[1:-1])


def test_the_documented_command_is_the_one_run():
    command = " ".join(quarto_command("quarto"))
    assert command == "quarto render --no-execute"
    assert f"`{command}`" in (REPO / "docs" / "guides" / "report.qmd").read_text()
    assert f"#     {command}\n" in (REPO / "_quarto.yml").read_text()
