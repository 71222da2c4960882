"""The layers and independence contracts ([tool.importlinter] in pyproject.toml) hold, and
they name every module of the kit, so a new module has to take its place in them."""

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


def test_the_simulator_may_import_no_other_module():
    forbidden = _contract("forbidden", "simulator")["forbidden_modules"]
    assert sorted(forbidden) == sorted(f"connect_analysis.{m}" for m in _top_modules() - {"simulator"})


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
