"""The test suite's own set-up: markers on every test, vendored fixtures with their licences,
and ../shared/reference, chromium, PostgreSQL and uv needed loudly in CI."""

from __future__ import annotations

from pathlib import Path

import chromium
import pytest
from suite import KINDS, need_shared, skip_or_fail

HERE = Path(__file__).resolve().parent


def test_need_shared_fails_under_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        need_shared("no-such-reference")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        need_shared("no-such-reference")


def test_skip_or_fail_fails_under_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no tool here .CI=true"):
        skip_or_fail("no tool here")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="no tool here"):
        skip_or_fail("no tool here")


def test_a_missing_chromium_fails_under_ci(monkeypatch):
    monkeypatch.setattr(chromium, "CHROMIUM", None)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="no chromium"):
        chromium.need_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        chromium.need_chromium()


# Skips that depend on who runs the tests (root or not), not on a tool CI installs: allowed.
# root-dependent skips, and one that needs Quarto to be absent (it checks "no Quarto found")
SKIPS_ALLOWED = {"reliability/test_bad_input_disk.py": 2, "test_preflight_storage.py": 1, "test_report_quarto.py": 1}


def test_nothing_skips_but_through_skip_or_fail():
    """A test that needs a tool (chromium, PostgreSQL, uv, a package) calls skip_or_fail or a
    helper built on it, so CI=true turns the skip into a failure."""
    found = {}
    for path in HERE.rglob("*.py"):
        text = path.read_text()
        n = sum(text.count(s) for s in ("pytest.skip(", "importorskip(", "skipif(", "mark.skip"))
        if n and path.name not in ("suite.py", "test_suite_setup.py"):
            found[path.relative_to(HERE).as_posix()] = n
    assert found == SKIPS_ALLOWED


def test_vendored_fixtures_keep_their_licences():
    vendored = sorted((HERE / "fixtures" / "posit-dev").iterdir())
    assert [p.name for p in vendored] == ["connectapi", "posit-sdk-py", "rsconnect-python"]
    for source in vendored:
        licences = [p for p in source.iterdir() if p.name.startswith("LICENSE")]
        assert any("MIT" in p.read_text() for p in licences), source
        assert (source / "SOURCE_COMMIT").read_text().startswith("commit ")


def test_every_test_module_has_a_kind():
    modules = {p.stem for p in HERE.rglob("test_*.py")}
    assert modules <= set(KINDS), sorted(modules - set(KINDS))
    assert set(KINDS.values()) == {"unit", "integration", "e2e"}


def test_the_markers_are_on_the_collected_tests(request):
    assert request.node.get_closest_marker("unit")  # this module is a unit one
