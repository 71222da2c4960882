import pandas as pd
import pytest
from analysis_fixtures import small_snapshot

from connect_analysis import schema
from connect_analysis.analysis import analyze
from connect_analysis.analysis.storage import recommended_capacity_bytes, storage_projection

GB = 10**9


def test_totals_from_content_storage():
    s = analyze(small_snapshot()).summary["storage"]
    # a1 300 (200 active), b2 50, c3 1000 (400 active), zz (deleted content) 10
    assert {k: s[k] for k in ("bundle_count", "bundle_bytes_total", "bundle_bytes_active",
                              "bundle_bytes_inactive", "current_use_bytes", "recommended_bytes")} == {
        "bundle_count": 7, "bundle_bytes_total": 1360, "bundle_bytes_active": 660,
        "bundle_bytes_inactive": 700, "current_use_bytes": 1360, "recommended_bytes": 100 * GB}
    assert s["current_use_source"] == "bundles"
    assert [t["guid"] for t in s["top_content"]] == ["c3", "a1", "b2", "zz"]


def test_measured_current_use_overrides():
    s = analyze(small_snapshot(), current_use_bytes=60 * GB).summary["storage"]
    assert s["current_use_bytes"] == 60 * GB and s["recommended_bytes"] == 120 * GB
    assert s["current_use_source"] == "measured" and s["bundle_bytes_total"] == 1360


def test_recommended_capacity_rule():
    assert recommended_capacity_bytes(0) == 100 * GB
    assert recommended_capacity_bytes(50 * GB) == 100 * GB
    assert recommended_capacity_bytes(50 * GB + 1) == 100 * GB + 2


def test_same_storage_from_bundles_only_or_storage_only():
    # 2023.09-style (bundles, content_storage summed by fetch or here) and 2026.06-style
    # (content_storage from the storage endpoints, bundles unavailable) give the same block.
    only_bundles = analyze(small_snapshot(content_storage=[])).summary["storage"]
    only_storage = analyze(small_snapshot(bundles=[], unavailable={"bundles": "storage endpoints used"})
                           ).summary["storage"]
    both = analyze(small_snapshot()).summary["storage"]
    assert only_bundles == only_storage == both


def test_storage_by_content_table():
    t = analyze(small_snapshot()).storage_by_content
    assert t["guid"].tolist() == ["c3", "a1", "b2", "zz"]
    assert t["bytes_total"].tolist() == [1000, 300, 50, 10]
    assert t.loc[0, "share_of_total"] == pytest.approx(1000 / 1360)
    assert t.loc[0, "title"] == "Title c3" and pd.isna(t.loc[3, "title"])


def test_growth_by_month_and_projection():
    r = analyze(small_snapshot())
    assert r.storage_growth.to_dict("records") == [
        {"month": "2023-12", "bundles_added": 1, "bytes_added": 100, "bytes_cumulative": 100},
        {"month": "2024-01", "bundles_added": 3, "bytes_added": 610, "bytes_cumulative": 710},
        {"month": "2024-02", "bundles_added": 0, "bytes_added": 0, "bytes_cumulative": 710},
        {"month": "2024-03", "bundles_added": 3, "bytes_added": 650, "bytes_cumulative": 1360},
    ]
    p = r.storage_projection
    # 1360 bytes over 4 months: 340 a month, from April 2024 (now = the window end, 31 March)
    assert len(p) == 12 and p.loc[0, "month"] == "2024-04" and p.loc[11, "month"] == "2025-03"
    assert p.loc[0, "projected_bytes"] == 1700 and p.loc[11, "projected_bytes"] == 1360 + 12 * 340
    assert (p["recommended_bytes"] == 100 * GB).all()
    assert (p["monthly_growth_bytes"] == 340).all() and (p["months_of_history"] == 4).all()


def test_no_bundle_history_gives_empty_growth_and_flat_projection():
    r = analyze(small_snapshot(bundles=[]))
    assert r.storage_growth.empty and list(r.storage_growth.columns)[0] == "month"
    assert (r.storage_projection["projected_bytes"] == 1360).all()
    assert (r.storage_projection["months_of_history"] == 0).all()


def test_projection_growth_uses_the_last_twelve_months():
    growth = pd.DataFrame({"month": [f"m{i}" for i in range(14)],
                           "bytes_added": [1000, 1000] + [12] * 12})
    table, basis = storage_projection(50 * GB, growth, pd.Timestamp("2024-12-15T00:00:00Z"))
    assert basis["monthly_growth_bytes"] == 12
    assert table.loc[0, "month"] == "2025-01" and table.loc[0, "projected_bytes"] == 50 * GB + 12
    assert table.loc[11, "recommended_bytes"] == 2 * (50 * GB + 144)


def test_empty_storage():
    s = analyze(small_snapshot(content_storage=[], bundles=[])).summary["storage"]
    assert s["bundle_bytes_total"] == 0 and s["recommended_bytes"] == 100 * GB
    assert schema.empty("content_storage").empty
