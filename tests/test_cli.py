"""The CLI's surface: every command has help text and is in the README's command table."""

import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from connect_analysis.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
# The README or a page of the docs site (docs/, issue 13 moves the command docs there)
DOCS = README + "".join(p.read_text() for p in sorted((Path(__file__).resolve().parents[1] / "docs").rglob("*.qmd")))


def test_help_lists_every_subcommand():
    out = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "--help"],
                         capture_output=True, text=True, check=True).stdout
    listed = set(re.findall(r"^  ([a-z-]+)\s", out.split("Commands:")[1], flags=re.M))
    assert listed == set(main.commands)
    assert {"simulate", "fetch", "analyze", "compare", "report", "demo", "preflight", "run"} <= listed


def test_every_command_has_help_and_is_in_the_readme():
    runner = CliRunner()
    for name, command in main.commands.items():
        assert (command.help or "").strip(), f"{name} has no help text"
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help.strip().split("\n")[0][:30] in result.output
        assert f"connect-analysis {name}" in DOCS, f"{name} is not documented in the README or docs/"


def test_unknown_command_is_one_clear_line():
    result = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "nonsense"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "No such command" in result.stderr and "Traceback" not in result.stderr


def test_public_api_is_honest():
    import connect_analysis
    import connect_analysis.analysis as analysis

    for module in (connect_analysis, analysis):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name}"


def test_import_is_light():
    code = "import sys, connect_analysis; print('pandas' in sys.modules, 'requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
