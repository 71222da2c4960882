"""What the plan tests share: the demo's plan (fixture `demo_plan`, once a session; conftest.py
imports it), the chart's ConfigMap step, rebuild.sh's waves, shellcheck, and running a plan's
shell file under bash with a recorder in place of rsconnect."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

CANARY_KEY = "canary-key-plan-7d1e0f3a"
REPO = Path(__file__).resolve().parents[1]
SHELL_FILES = ("environments.sh", "rebuild.sh", "caches.sh", "preflight.sh")


@pytest.fixture(scope="session")
def demo_plan(tmp_path_factory):
    """The demo snapshot, its analysis, and `connect-analysis plan` run on it (CLI, canary key):
    {"dir": the plan directory, "analysis", "snapshot"}. Tests only read it."""
    from connect_analysis.analysis import analyze, load_for_analysis
    from connect_analysis.demo import make_demo_snapshot

    root = tmp_path_factory.mktemp("plan")
    snapshot = make_demo_snapshot(root / "snapshot")
    env = {k: v for k, v in os.environ.items() if k != "CONNECT_SERVER"} | {"CONNECT_API_KEY": CANARY_KEY}
    done = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "plan", str(snapshot),
                           "--out", str(root / "out")], env=env, capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"wrote {root / 'out' / 'plan'}"
    snap = load_for_analysis(snapshot)
    return {"dir": root / "out" / "plan", "analysis": analyze(snap), "snapshot": snap}


def chart_configmap(values: dict) -> dict:
    """What the chart's execution-environments ConfigMap template does: fail on an entry
    without name, then `toYaml .Values.executionEnvironments` under environments.yaml."""
    entries = values.get("executionEnvironments") or []
    for e in entries:
        if not e.get("name"):
            raise ValueError("executionEnvironments: each entry requires a name")
    return {"environments.yaml": yaml.safe_dump(entries, sort_keys=True)}


def rebuild_waves(text: str) -> dict[int, list[str]]:
    """{wave: GUIDs given to `build add -g` in that wave's section}, parsed as bash words."""
    out: dict[int, list[str]] = {}
    wave = None
    code = []
    for line in text.splitlines():
        m = re.match(r"# --- wave (\d+):", line)
        if m:
            wave = int(m.group(1))
            out[wave] = []
            continue
        if wave is not None and not line.lstrip().startswith("#"):
            code.append((wave, line))
    for w in out:
        words = shlex.split(" ".join(line.rstrip("\\") for ww, line in code if ww == w))
        out[w] = [words[i + 1] for i, word in enumerate(words) if word == "-g"]
    return out


def check_shell(plan_dir: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: apt-get install -y shellcheck (.ci/system-deps does)"
    for name in SHELL_FILES:
        path = plan_dir / name
        done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, (name, done.stderr)
        done = subprocess.run([shellcheck, "--shell=bash", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, (name, done.stdout)
        assert os.access(path, os.X_OK)


def run_with_recorder(script: Path, tmp: Path, *args) -> list[list[str]]:
    """Run script under bash with `rsconnect` a recorder of its arguments; [argv, ...]."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp / "rsconnect.log"
    recorder = bin_dir / "rsconnect"
    recorder.write_text(f"#!{sys.executable}\nimport json, sys\n"
                        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
    recorder.chmod(0o755)
    log.write_text("")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "CONNECT_SERVER": "http://new.example",
           "CONNECT_API_KEY": CANARY_KEY, "HOME": str(tmp)}
    done = subprocess.run(["bash", str(script), *args], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert not (tmp / "PWNED").exists()
    return [json.loads(line) for line in log.read_text().splitlines()]
