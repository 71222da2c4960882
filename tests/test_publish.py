"""The Connect bundle: a valid manifest, and an entry point that renders in a clean virtual
environment made from the manifest's requirements, against the simulator."""

import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from suite import skip_or_fail, uv_binary

from connect_analysis.assets import assets_root, entry_notebook, notebooks_dir
from connect_analysis.errors import ConfigError
from connect_analysis.publish import ENTRY_POINT, build_bundle, render_on_connect

REPO = Path(__file__).resolve().parents[1]

KEY = "publish-test-key"
SECRET_AT_BUILD = "key-that-must-not-reach-the-bundle"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "connect-bundle"
    env = {**os.environ, "CONNECT_API_KEY": SECRET_AT_BUILD}
    done = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "bundle", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == str(out)
    return out


def test_manifest_is_valid(bundle):
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["version"] == 1
    assert manifest["metadata"] == {"appmode": "jupyter-static", "entrypoint": ENTRY_POINT}
    assert manifest["python"]["version"] == platform.python_version()
    assert manifest["python"]["package_manager"]["name"] == "pip"
    assert manifest["python"]["package_manager"]["package_file"] == "requirements.txt"
    assert manifest["environment"]["python"]["requires"] == ">=3.11"
    assert manifest["jupyter"] == {"hide_all_input": True}

    listed = set(manifest["files"])
    on_disk = {str(p.relative_to(bundle)) for p in bundle.rglob("*")
               if p.is_file() and p.name != "manifest.json"}
    assert listed == on_disk  # every file listed, nothing listed that is not there
    for name, entry in manifest["files"].items():
        assert entry["checksum"] == hashlib.md5((bundle / name).read_bytes()).hexdigest(), name
    wheel = next(bundle.glob("connect_analysis-*-py3-none-any.whl"))
    assert listed == {ENTRY_POINT, "requirements.txt", ".python-version", wheel.name}
    assert (bundle / ENTRY_POINT).read_bytes() == entry_notebook().read_bytes()


def test_the_wheel_holds_the_kit_and_its_assets(bundle):
    wheel = next(bundle.glob("connect_analysis-*-py3-none-any.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert {"connect_analysis/__init__.py", "connect_analysis/publish.py",
            "connect_analysis/report/__init__.py", "connect_analysis/_assets/_quarto.yml",
            "connect_analysis/_assets/templates/report.html.j2",
            f"connect_analysis/_assets/deploy/{ENTRY_POINT}",
            "connect_simulator/__init__.py", "connect_simulator/server.py"} <= names
    assert {n.split("/")[0] for n in names} == {"connect_analysis", "connect_simulator", info}
    notebooks = {f"connect_analysis/_assets/notebooks/{p.name}" for p in notebooks_dir().glob("*.ipynb")}
    assert len(notebooks) >= 6 and notebooks <= names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert "connect-analysis = connect_analysis.cli:main" in entry_points


def test_requirements_pin_every_dependency_of_the_kit(bundle):
    *lines, kit = (bundle / "requirements.txt").read_text().splitlines()
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in declared}
    assert "rsconnect-python" in names and not any("typst" in d for d in declared)
    pinned = {re.match(r"[A-Za-z0-9_.-]+", ln).group(0).lower() for ln in lines}
    assert pinned == names - {"rsconnect-python"}  # rsconnect drops itself from bundles
    assert all(re.search(r"==\d", ln) for ln in lines), lines
    assert kit == f"./{next(bundle.glob('connect_analysis-*.whl')).name}"  # the kit, from the bundle


def test_no_secret_in_the_bundle(bundle):
    for path in bundle.rglob("*"):
        if path.is_file():
            assert SECRET_AT_BUILD.encode() not in path.read_bytes(), path


def test_bundle_refuses_to_overwrite_the_kit():
    with pytest.raises(ConfigError, match="would overwrite"):
        build_bundle(assets_root() / "notebooks")


def test_render_on_connect_needs_the_injected_variables(monkeypatch):
    monkeypatch.delenv("CONNECT_API_KEY", raising=False)
    monkeypatch.setenv("CONNECT_SERVER", "http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="CONNECT_SERVER and CONNECT_API_KEY are not set"):
        render_on_connect()


class _IframeParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.frames = []

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.frames.append(dict(attrs))


def _iframes(page: str) -> list[dict]:
    parser = _IframeParser()
    parser.feed(page)
    return parser.frames


# --- the entry point in a clean environment, as Connect renders it --------------------------------


@pytest.fixture(scope="module")
def simulator():
    from connect_simulator import start_simulator

    with start_simulator(scenario="demo", api_key=KEY, port=0) as sim:
        yield sim


@pytest.fixture(scope="module")
def clean_venv(bundle, tmp_path_factory):
    """A virtual environment with only the manifest's requirements (uv, from its cache)."""
    uv = uv_binary()
    if uv is None:
        skip_or_fail("uv is not installed (make test installs it)")
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, timeout=120)
    # Connect installs the requirements in the bundle's directory (the wheel's path is relative)
    done = subprocess.run([uv, "pip", "install", "-q", "--offline", "--python", str(venv / "bin" / "python"),
                           "-r", "requirements.txt"], cwd=bundle,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0 and "cache" in done.stderr.lower():
        skip_or_fail(f"the pinned packages are not in uv's cache (tests stay offline): {done.stderr[-300:]}")
    assert done.returncode == 0, done.stderr
    return venv


def test_entry_point_renders_in_a_clean_environment(bundle, clean_venv, simulator, tmp_path):
    # Connect renders a copy of the bundle with the kit installed from the bundle's wheel
    work = tmp_path / "content"
    shutil.copytree(bundle, work)
    python = clean_venv / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import connect_analysis; print(connect_analysis.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert where.stdout.startswith(str(clean_venv)), where  # installed, not the checkout

    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{clean_venv / 'bin'}:/usr/bin:/bin", "HOME": str(home),
           "CONNECT_SERVER": simulator.url, "CONNECT_API_KEY": KEY}
    # what Connect runs for a jupyter-static bundle with hide_all_input
    done = subprocess.run([str(clean_venv / "bin" / "jupyter"), "nbconvert", "--to", "html", "--execute",
                           "--no-input", "--ExecutePreprocessor.timeout=600", ENTRY_POINT,
                           "--output", "rendered"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    frames = _iframes((work / "rendered.html").read_text())
    assert [f["title"] for f in frames] == ["Connect migration report"]
    report = (work / "report-output" / "report.html").read_text()
    assert frames[0]["srcdoc"] == report  # the whole report, escaped once, shown in the page
    assert "plotly" in report.lower() and simulator.url.split("//")[1] in report
    assert (work / "snapshot" / "manifest.json").is_file()
    manifest = json.loads((work / "snapshot" / "manifest.json").read_text())
    assert manifest["server"].rstrip("/") == simulator.url.rstrip("/")  # from CONNECT_SERVER
    assert manifest["key_role"] == "administrator"  # with the key from CONNECT_API_KEY
    for path in work.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_the_readme_deploy_command_gets_as_far_as_a_read_only_server_allows(bundle, simulator, tmp_path):
    """The exact `rsconnect deploy` command of the README, pointed at the simulator: rsconnect
    accepts its options, validates the server, the key from CONNECT_API_KEY and the app mode,
    makes the bundle, and tries to create the content (which the read-only simulator refuses)."""
    readme = (REPO / "docs" / "guides" / "publish-and-schedule.qmd").read_text()
    block = re.search(r"```sh\nconnect-analysis bundle --out (\S+)\n.*?\n(rsconnect deploy .*?)\n```",
                      readme, re.S)
    assert block, "the README's publishing block is missing"
    out, command = block.group(1), " ".join(block.group(2).replace("\\\n", " ").split())
    assert command == (f"rsconnect deploy manifest {out}/manifest.json "
                       '--server https://connect.example.com --title "Connect migration report"')
    args = shlex.split(command.replace(f"{out}/", f"{bundle}/").replace(
        "https://connect.example.com", simulator.url))
    rsconnect = os.path.join(os.path.dirname(sys.executable), "rsconnect")
    seen = len(simulator.request_log)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CONNECT_API_KEY": KEY}
    done = subprocess.run([rsconnect, *args[1:]], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp_path)
    log = [(m, p.split("?")[0], s) for m, p, s in simulator.request_log[seen:]]
    assert ("GET", "/__api__/v1/user", 200) in log  # the key from the environment was accepted
    assert log[-1] == ("POST", "/__api__/v1/content", 405)  # the deploy itself was attempted
    said = done.stdout + done.stderr
    for step in ("Validating server...", "Validating app mode...", "Making bundle ..."):
        assert re.search(re.escape(step) + r"\S*\s*\S*\[OK\]", said), (step, said)
    assert done.returncode != 0 and "read-only" in said
    assert KEY not in said
