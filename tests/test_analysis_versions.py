"""Versions compare as versions; and the same server fetched as Connect 2023.09.0 and as
2026.06.0 (storage from per-item bundle lists vs the storage endpoints, vanity URLs from the
vanities list vs the content records) gives the same summary."""

import json
from datetime import UTC, datetime

import pytest

from connect_analysis.analysis import analyze
from connect_analysis.analysis.versions import (
    best_match,
    matches,
    parse_version,
    sort_versions,
    version_key,
)
from connect_analysis.fetch import fetch_snapshot
from connect_analysis.snapshot import load_snapshot
from connect_simulator import start_simulator
from connect_simulator.generate import generate_dataset


def test_versions_compare_as_versions():
    assert version_key("4.10.0") > version_key("4.9.3")
    assert sort_versions(["3.10.4", "3.9.19", "3.11.9", "3.8.10", "3.10.4", None]) == [
        "3.8.10", "3.9.19", "3.10.4", "3.11.9"]
    assert parse_version("3.12.0rc1") == (3, 12, 0) and parse_version("v1.4.553") == (1, 4, 553)
    assert parse_version("unknown") is None and parse_version(None) is None


def test_matching_rule():
    assert matches("4.3.1", "4.3.3") and not matches("4.3.1", "4.4.1")
    assert matches("4.3", "4.3.0", "exact") and not matches("4.3.1", "4.3.3", "exact")
    assert not matches("garbage", "4.3.3")
    assert best_match("3.11.4", ["3.10.4", "3.11.2", "3.11.10", "3.12.1"]) == "3.11.10"
    assert best_match("3.8.10", ["3.10.4"]) is None


NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
# What differs by design: which datasets each version could give, and the package analysis
# (/v1/packages needs 2024.11, so the 2023.09 fetch has none).
DIFFERS_BY_DESIGN = ("unavailable", "packages", "system_requirements", "package_gaps")


@pytest.fixture(scope="module")
def summaries(tmp_path_factory):
    dataset = generate_dataset("demo", seed=3, now=NOW)
    out = {}
    for version in ("2023.09.0", "2026.06.0"):
        path = tmp_path_factory.mktemp("snap") / version
        with start_simulator(dataset=dataset, connect_version=version, api_key="k") as sim:
            fetch_snapshot(sim.url, path, days=90, api_key="k", now=NOW)
            url = sim.url
        snap = load_snapshot(path)
        # one target for both: the verdicts depend on it (its default is the server's own version)
        summary = analyze(snap, must_keep_tags=("finance",), target_version="2026.08.0").summary
        text = json.dumps(summary, sort_keys=True)
        out[version] = (json.loads(text.replace(url, "SERVER")), snap)
    return out


def test_same_summary_on_2023_09_and_2026_06(summaries):
    (old, old_snap), (new, new_snap) = summaries["2023.09.0"], summaries["2026.06.0"]
    # The two fetches really took different paths.
    assert "content_storage" not in new_snap.unavailable and "bundles" in new_snap.unavailable
    assert len(old_snap.bundles) > 0 and len(new_snap.bundles) == 0
    assert (old["server"]["version"], new["server"]["version"]) == ("2023.09.0", "2026.06.0")
    for s in (old, new):
        s["server"].pop("version")
        for key in DIFFERS_BY_DESIGN:
            s.pop(key, None)
    assert old == new
    # and the shared figures are not trivially empty
    assert new["usage"]["visits"] > 0 and new["storage"]["bundle_bytes_total"] > 0
    assert len(new["important_content"]) >= 20 and new["content"]["never_deployed"] > 0
