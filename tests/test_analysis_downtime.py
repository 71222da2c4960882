from analysis_fixtures import small_snapshot

from connect_analysis.analysis import analyze


def test_counts_by_app_mode():
    t = analyze(small_snapshot()).downtime["by_app_mode"].set_index("app_mode")
    assert t.loc["shiny"].tolist() == [1, 1, 0, 2, 300]        # content, deployed, never, bundles, bytes
    assert t.loc["quarto-static"].tolist() == [1, 1, 0, 3, 1000]
    assert t.loc["unknown"].tolist() == [1, 0, 1, 0, 0]        # e5, never deployed
    assert t["content_count"].sum() == 8
    assert t["bundle_count"].sum() == 6  # zz's bundle belongs to deleted content: no app_mode


def test_estimate_and_its_assumptions():
    e = analyze(small_snapshot()).summary["downtime"]
    # deployed: R a1 c3 f6; Python b2 g7 h8; none d4  ->  (3*6 + 3*3 + 1*0.2) / 2 parallel builds
    assert e["content_to_rebuild"] == 7
    assert e["content_to_rebuild_by_runtime"] == {"r": 3, "python": 3, "quarto": 0, "none": 1}
    assert e["rebuild_minutes"] == 13.6
    assert e["copy_minutes"] == 0.0  # 1360 bytes at 100 MB/s
    assert e["estimated_minutes"] == 13.6
    assert e["assumptions"]["parallel_builds"] == 2
    assert e["assumptions"]["rebuild_minutes_per_item"]["r"] == 6.0
    assert e["bundle_count"] == 7 and e["bundle_bytes"] == 1360


def test_copy_time_counts_measured_bundle_bytes():
    snap = small_snapshot(content_storage=[{"content_guid": "a1", "bundle_count": 1, "bytes_total": 12 * 10**9,
                                            "bytes_active": 12 * 10**9, "bytes_inactive": 0}])
    e = analyze(snap).summary["downtime"]
    assert e["copy_minutes"] == 2.0  # 12e9 bytes / 1e8 bytes per second = 120 s
    assert e["estimated_minutes"] == 15.6


def test_run_as():
    r = analyze(small_snapshot())
    assert r.summary["run_as"] == {"custom": {"analyst": 1, "svc_shiny": 2}, "current_user": 1}
    # h8's empty run_as is the server default, not a custom user
    assert r.run_as[["guid", "run_as", "run_as_current_user"]].astype(object).where(
        r.run_as[["guid", "run_as", "run_as_current_user"]].notna(), None).values.tolist() == [
        ["g7", "analyst", False], ["a1", "svc_shiny", False], ["f6", "svc_shiny", False], ["b2", None, True]]
