"""The test suite's own set-up: markers on every test, vendored fixtures with their licences,
and ../shared/reference needed loudly in CI."""

from __future__ import annotations

from pathlib import Path

import pytest
from suite import KINDS, need_shared

HERE = Path(__file__).resolve().parent


def test_need_shared_fails_under_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        need_shared("no-such-reference")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        need_shared("no-such-reference")


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
