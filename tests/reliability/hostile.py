"""Helpers of the hostile-server cases (issue 18): each case is marked `hostile(why)` with
the item of the issue's Why it covers; docs/explanation/reliability.qmd counts them."""

from __future__ import annotations

from pathlib import Path

import pytest
from rel_suite import SINCE, Kit, leftovers, run_bounded, tree_hash


def case(why: str):
    return pytest.mark.hostile(why)


def intact(snap: Path, before: dict, keep: set[str] = frozenset()) -> None:
    assert tree_hash(snap) == before, "the previous snapshot changed"
    assert leftovers(snap.parent, {snap.name, "home", *keep}) == [], "something was left beside the snapshot"


def fetch_bounded(kit: Kit, snap: Path, server: str, *more: str, env: dict | None = None, **kw):
    """fetch into snap under the time and memory bounds; returns (run, hashes before, peak RSS)."""
    before = tree_hash(snap) if snap.exists() else {}
    run, peak = run_bounded(kit, "fetch", "--server", server, "--out", snap, "--since", SINCE, *more,
                            env=env, **kw)
    return run, before, peak
