from analysis_fixtures import small_snapshot

from connect_analysis.analysis import analyze
from connect_analysis.analysis.runtimes import no_runtime_by_app_mode


def test_in_use_counts_deployed_content_with_a_version():
    s = analyze(small_snapshot()).summary["runtimes"]
    # e5 (R 4.2.0) was never deployed: not in use.
    assert s["r"]["in_use"] == {"3.5.3": 1, "4.3.1": 1, "4.3.2": 1}
    assert s["python"]["in_use"] == {"3.8.10": 1, "3.11.4": 1, "3.11.9": 1}  # as versions: 3.8 < 3.11
    assert s["quarto"]["in_use"] == {"1.4.553": 1}
    assert s["r"]["installed"] == ["4.1.3", "4.3.2"]
    assert s["python"]["installed"] == ["3.10.4", "3.11.9"]


def test_missing_on_server_major_minor_and_exact():
    s = analyze(small_snapshot()).summary["runtimes"]
    # 4.3.1 runs on the installed 4.3.2 and 3.11.4 on 3.11.9 under major.minor matching
    assert s["r"]["missing_on_server"] == ["3.5.3"]
    assert s["python"]["missing_on_server"] == ["3.8.10"]
    assert s["quarto"]["missing_on_server"] == []
    exact = analyze(small_snapshot(), version_matching="exact").summary["runtimes"]
    assert exact["r"]["missing_on_server"] == ["3.5.3", "4.3.1"]
    assert exact["python"]["missing_on_server"] == ["3.8.10", "3.11.4"]


def test_missing_is_null_when_the_server_runtimes_were_unreadable():
    s = analyze(small_snapshot(unavailable={"server_runtimes": "403"}, server_runtimes=[])).summary
    assert s["runtimes"]["r"]["missing_on_server"] is None
    assert s["runtimes"]["r"]["installed"] == []
    assert s["unavailable"] == {"server_runtimes": "403"}


def test_inventory_rows_usage_share_and_served_by():
    inv = analyze(small_snapshot()).runtimes.set_index(["language", "version"])
    # events on existing content: a1 4 + b2 4 + c3 2 + g7 2 + f6 1 = 13
    assert inv.loc[("r", "4.3.1"), "events"] == 4
    assert abs(inv.loc[("r", "4.3.1"), "usage_share"] - 4 / 13) < 1e-12
    assert inv.loc[("r", "4.3.1"), "served_by"] == "4.3.2"
    assert not inv.loc[("r", "4.3.1"), "installed"]
    assert inv.loc[("r", "4.1.3"), "content_count"] == 0 and inv.loc[("r", "4.1.3"), "installed"]
    assert bool(inv.loc[("python", "3.8.10"), "missing_on_server"]) is True
    assert list(inv.loc["python"].index) == ["3.8.10", "3.10.4", "3.11.4", "3.11.9"]


def test_no_runtime_by_app_mode():
    snap = small_snapshot()
    assert no_runtime_by_app_mode(snap.content) == {"static": 1}  # d4; e5 is not deployed
    assert analyze(snap).summary["content"]["no_runtime_by_app_mode"] == {"static": 1}
