"""The bad-input matrix, the snapshot's and the report's rows: a corrupt or foreign snapshot, --out
holding someone else's files, bad report parameters. Each runs the real CLI in a subprocess and
asserts one clear line on stderr, a non-zero exit where the command cannot do its job, no
traceback, and nothing lost: the snapshot already in the target directory is byte-identical
afterwards, with no temporary directory left beside it.
"""

from __future__ import annotations

import json

import pytest
from rel_suite import (
    FIGURES,
    assert_one_line,
    fetch_into,
    tree_hash,
)


def test_corrupt_snapshot(kit, snapshot_copy):
    FIGURES.tried("corrupt snapshot")
    part = snapshot_copy / "content.parquet"
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    before = tree_hash(snapshot_copy)
    run = kit("analyze", snapshot_copy, "--out", kit.base / "analysis")
    assert_one_line(run, "corrupt")
    run = kit("report", "--snapshot", snapshot_copy, "--out", kit.base / "report")
    assert_one_line(run, "corrupt")
    assert tree_hash(snapshot_copy) == before


def test_foreign_snapshot(kit, snapshot_copy, simulators, demo_dataset):
    FIGURES.tried("foreign snapshot (unknown format)")
    manifest = json.loads((snapshot_copy / "manifest.json").read_text())
    manifest["format"] = "another-tool-snapshot/3"
    (snapshot_copy / "manifest.json").write_text(json.dumps(manifest))
    foreign = tree_hash(snapshot_copy)
    run = kit("report", "--snapshot", snapshot_copy, "--out", kit.base / "report")
    assert_one_line(run, "not a connect-analysis snapshot")
    assert tree_hash(snapshot_copy) == foreign and not (kit.base / "report").exists()
    FIGURES.tried("--out holds someone else's files")
    sim = simulators(demo_dataset)
    theirs = kit.base / "theirs"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("\\documentclass{article}\n")
    run, before = fetch_into(kit, theirs, sim.url)
    assert_one_line(run, "not a connect-analysis snapshot")
    assert tree_hash(theirs) == before
    assert sim.request_log == [] or all(m == "GET" for m, _, _ in sim.request_log)


@pytest.mark.parametrize("args, words, code", [
    (["--bogus", "1"], ["no such option", "--bogus"], 2),
    (["--must-keep", "not-a-guid"], ["must_keep", "not-a-guid"], 1),
    (["--images", "no-such-images.yaml"], ["images", "no-such-images.yaml"], 1),
    (["--top", "-1"], ["--top"], 2),
], ids=["unknown-option", "bad-must-keep", "missing-images-file", "top-negative"])
def test_notebooks_given_unknown_or_bad_parameters(kit, snapshot_copy, args, words, code):
    """Parameters are checked before any notebook starts: one line, nothing executed."""
    FIGURES.tried(f"report parameters {args[0]}")
    out = kit.base / "report"
    before = tree_hash(snapshot_copy)
    run = kit("report", "--snapshot", snapshot_copy, "--out", out, *args)
    assert_one_line(run, *words, exit_code=code)
    assert not (out / "notebooks").exists()
    assert tree_hash(snapshot_copy) == before
    assert run.seconds < 20
