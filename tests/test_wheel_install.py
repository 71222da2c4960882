"""The kit as a user installs it: the wheel, in a fresh environment outside the repository,
run from an empty directory (no checkout on any path)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from suite import uv_binary

REPO = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _run(cmd, *, cwd, env=None, timeout=900):
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv, environment): the built wheel installed into a new venv under /tmp."""
    uv = uv_binary()
    assert uv, "uv is needed (the test extra installs it)"
    root = tmp_path_factory.mktemp("wheel-install")
    assert REPO not in root.parents
    _run([uv, "build", "-q", "--wheel", "--out-dir", root / "dist", REPO], cwd=root)
    wheel = next((root / "dist").glob("connect_analysis-*-py3-none-any.whl"))
    venv = root / "venv"
    _run([uv, "venv", "-q", "--python", sys.executable, venv], cwd=root)
    install = [uv, "pip", "install", "-q", "--python", venv / "bin" / "python", wheel]
    done = subprocess.run([*map(str, install), "--offline"], capture_output=True, text=True, cwd=root)
    if done.returncode != 0:  # a dependency missing from uv's cache: fetch it
        _run(install, cwd=root)
    home = root / "home"
    home.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LC_ALL": "C.UTF-8"}
    return venv, env


def test_the_wheel_carries_the_assets_and_no_checkout_is_used(installed, tmp_path):
    venv, env = installed
    code = ("import connect_analysis, connect_analysis.assets as a, connect_simulator; "
            "print(connect_analysis.__file__); print(a.notebooks_dir()); print(a.templates_dir()); "
            "print(connect_simulator.__file__)")
    lines = _run([venv / "bin" / "python", "-c", code], cwd=tmp_path, env=env).stdout.split()
    assert all(line.startswith(str(venv)) for line in lines), lines
    assert lines[1].endswith("connect_analysis/_assets/notebooks")
    assert lines[3].endswith("site-packages/connect_simulator/__init__.py")  # the sibling package


def test_demo_from_an_empty_directory(installed, tmp_path):
    venv, env = installed
    done = _run([venv / "bin" / "connect-analysis", "demo", "--out", "out"], cwd=tmp_path, env=env)
    report = tmp_path / "out" / "report.html"
    assert done.stdout.strip().splitlines()[-1] == str(report)
    page = report.read_text()
    # the charts (the demo reads no bundle history, as a 2026.06 server's default fetch: no storage chart)
    assert page.count('class="ca-chart"') >= 2 and "window.Plotly" in page
    assert len(page) > 1_000_000  # plotly.js inline
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["content"]["total"] > 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing written elsewhere


def test_bundle_from_an_empty_directory(installed, tmp_path):
    venv, env = installed
    _run([venv / "bin" / "connect-analysis", "bundle", "--out", "bundle"], cwd=tmp_path, env=env)
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert manifest["metadata"]["entrypoint"] == "connect-analysis-report.ipynb"
    wheels = [n for n in manifest["files"] if n.endswith(".whl")]
    assert wheels == ["connect_analysis-0.1.0-py3-none-any.whl"]
    requirements = (tmp_path / "bundle" / "requirements.txt").read_text().splitlines()
    assert requirements[-1] == f"./{wheels[0]}" and any(r.startswith("pandas==") for r in requirements)


def test_one_notebook_through_papermill(installed, tmp_path):
    venv, env = installed
    python = venv / "bin" / "python"
    code = "from connect_analysis.demo import make_demo_snapshot; make_demo_snapshot('snap')"
    _run([python, "-c", code], cwd=tmp_path, env=env)
    notebook = _run([python, "-c", "from connect_analysis.assets import notebooks_dir; "
                     "print(notebooks_dir() / '01-overview.ipynb')"], cwd=tmp_path, env=env).stdout.strip()
    assert notebook.startswith(str(venv))
    _run([venv / "bin" / "papermill", notebook, "executed.ipynb", "-k", "python3",
          "-p", "snapshot", str(tmp_path / "snap"), "--cwd", str(tmp_path)],
         cwd=tmp_path, env={**env, "PYTHONNOUSERSITE": "1"})
    executed = json.loads((tmp_path / "executed.ipynb").read_text())
    outputs = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("text/html" in o.get("data", {}) for o in outputs)
