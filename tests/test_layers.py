"""The layers and independence contracts ([tool.importlinter] in pyproject.toml) hold, and
they name every module of the kit, so a new module has to take its place in them. The
simulator (connect_simulator, a sibling package) imports nothing from the kit."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import connect_analysis

REPO = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]

pytestmark = pytest.mark.unit


def _top_modules() -> set[str]:
    return {m.name for m in pkgutil.iter_modules(connect_analysis.__path__)}


def _contract(kind: str, name_part: str) -> dict:
    return next(c for c in CONFIG["contracts"] if c["type"] == kind and name_part in c["name"])


def test_every_module_has_one_layer():
    layers = _contract("layers", "Layers")["layers"]
    placed = [name.strip() for layer in layers for name in layer.replace(":", "|").split("|")]
    assert sorted(placed) == sorted(_top_modules())


def test_the_simulator_is_a_sibling_that_may_import_nothing_from_the_kit():
    assert "simulator" not in _top_modules()
    assert CONFIG["root_packages"] == ["connect_analysis", "connect_simulator"]
    contract = _contract("forbidden", "simulator")
    assert contract["source_modules"] == ["connect_simulator"]
    assert contract["forbidden_modules"] == ["connect_analysis"]  # the package and all below it


def test_the_simulator_serves_with_the_kit_unimportable():
    """What import-linter cannot see (an import by name at run time) fails here: the kit is
    made unimportable, then the simulator serves and answers a request."""
    code = ("import sys, urllib.request; sys.modules['connect_analysis'] = None\n"
            "from connect_simulator import start_simulator\n"
            "with start_simulator(scenario='tiny', api_key='k', port=0) as sim:\n"
            "    req = urllib.request.Request(sim.url + '/__api__/v1/users', "
            "headers={'Authorization': 'Key k'})\n"
            "    print(urllib.request.urlopen(req, timeout=30).status)\n"
            "print([m for m, v in sys.modules.items() if m.startswith('connect_analysis') and v])")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[:2] == ["200", "[]"]


def test_the_report_layer_is_below_fetch_and_client():
    contract = _contract("forbidden", "network")
    assert "connect_analysis.report" in contract["source_modules"]
    assert {"connect_analysis.fetch", "connect_analysis.client"} <= set(contract["forbidden_modules"])


def test_import_linter_keeps_every_contract():
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"Contracts: {len(CONFIG['contracts'])} kept, 0 broken." in done.stdout
