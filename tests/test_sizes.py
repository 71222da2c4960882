"""The size limits (tools/check_sizes.py, run by `make lint`): it finds long modules and long
functions, nested ones too, and the repository keeps within them outside its allow-list."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import check_sizes  # noqa: E402

pytestmark = pytest.mark.unit


def _function(name: str, body_lines: int, indent: str = "") -> str:
    return f"{indent}def {name}():\n" + f"{indent}    x = 1\n" * (body_lines - 1)


def test_finds_a_long_module_and_long_functions(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "small.py").write_text(_function("fine", 60))
    nested = _function("outer", 10) + _function("inner", 61, "    ")
    (pkg / "long.py").write_text(_function("too_long", 61) + "class K:\n" + _function("m", 62, "    ")
                                 + nested + "y = 2\n" * 300)
    found = check_sizes.breaches(tmp_path, ["pkg"])
    assert found == ["pkg/long.py: module (495 lines)", "pkg/long.py: too_long (61 lines)",
                     "pkg/long.py: K.m (62 lines)", "pkg/long.py: outer (71 lines)",
                     "pkg/long.py: outer.inner (61 lines)"]


def test_the_allow_list_excuses_by_name_and_reports_stale_entries():
    found = ["a.py: module (500 lines)", "a.py: f (70 lines)"]
    new, stale = check_sizes.unexcused(found, {"a.py: module": "why", "b.py: g": "why"})
    assert new == ["a.py: f (70 lines)"]
    assert stale == ["b.py: g"]


def test_the_repository_keeps_within_the_limits():
    done = subprocess.run([sys.executable, str(REPO / "tools" / "check_sizes.py")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout
    assert done.stdout == ""
