"""The jobs dataset: fetched from the simulator on loopback, refreshed incrementally, and
listed in the manifest's `unavailable` with the reason when the server or the key lacks it."""

from __future__ import annotations

import pandas as pd
import pytest

from connect_analysis import schema
from connect_analysis.fetch import fetch_snapshot
from connect_analysis.snapshot import load_snapshot
from connect_simulator import generate_dataset, start_simulator

KEY = "jobs-test-admin-key"
NOW = pd.Timestamp("2026-03-01T12:00:00Z")


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset("demo", seed=5, now=NOW)


def _fetch(sim, out, key=KEY):
    return fetch_snapshot(server=sim.url, out=out, api_key=key, quiet=True, days=30,
                          now=sim.dataset.now.to_pydatetime())


def _job_paths(sim) -> list[str]:
    return [p.split("?")[0].split("/")[-2] for _, p, _ in sim.request_log if p.split("?")[0].endswith("/jobs")]


def test_jobs_are_in_the_snapshot(dataset, tmp_path):
    with start_simulator(dataset=dataset, api_key=KEY) as sim:
        m = _fetch(sim, tmp_path / "snap")
        asked = _job_paths(sim)
    deployed = dataset.content.loc[dataset.content["bundle_id"].notna(), "guid"]
    assert sorted(asked) == sorted(deployed)  # one call per deployed item, none for the others
    jobs = load_snapshot(tmp_path / "snap").jobs
    assert m["sources"]["jobs"] == "/v1/content/{guid}/jobs" and "jobs" not in m["unavailable"]
    assert m["row_counts"]["jobs"] == len(jobs) > len(deployed)
    assert set(jobs["tag"]) <= set(schema.BUILD_JOB_TAGS) and {"packrat_restore", "python_restore"} <= set(jobs["tag"])
    assert jobs["end_time"].notna().all() and (jobs["end_time"] >= jobs["start_time"]).all()
    failed = jobs["exit_code"] != 0
    assert 0 < failed.sum() < 0.2 * len(jobs)  # some failures, not many
    minutes = (jobs["end_time"] - jobs["start_time"]).dt.total_seconds() / 60
    r = minutes[(jobs["tag"] == "packrat_restore") & ~failed]
    assert 2 < r.median() < 8 and r.max() <= 45  # R restores take minutes
    assert set(jobs["content_guid"]) <= set(deployed)
    assert not jobs.duplicated(["content_guid", "key"]).any()


def _redeploy(ds, guid: str) -> None:
    c, b = ds.content, ds.bundles
    row = c.index[c["guid"] == guid][0]
    bundle_id = str(int(b["id"].astype(int).max()) + 1)
    old = b[b["content_guid"] == guid].iloc[-1].to_dict()
    b.loc[b["content_guid"] == guid, "active"] = False
    when = ds.now - pd.Timedelta(hours=2)  # its restore and render have finished by now
    ds.bundles = pd.concat([b, pd.DataFrame([{**old, "id": bundle_id, "created_time": when, "active": True}])],
                           ignore_index=True)
    c.loc[row, ["bundle_id", "last_deployed_time"]] = [bundle_id, when]


def test_jobs_refresh_reads_only_what_may_have_changed(tmp_path):
    ds = generate_dataset("demo", seed=5, now=NOW)
    with start_simulator(dataset=ds, api_key=KEY) as sim:
        _fetch(sim, tmp_path / "snap")
        before = load_snapshot(tmp_path / "snap").jobs
        latest = before.sort_values(["start_time", "key"]).groupby("content_guid").tail(1)
        failing = set(latest.loc[latest["exit_code"] != 0, "content_guid"])
        assert failing, "the demo has items whose latest job failed"
        quiet = sorted(set(before["content_guid"]) - failing)[0]
        ds.now = ds.now + pd.Timedelta(hours=3)
        _redeploy(ds, quiet)
        sim.reload()
        sim.clear_log()
        m = _fetch(sim, tmp_path / "snap")
        asked = _job_paths(sim)
        _fetch(sim, tmp_path / "fresh")
    assert m["sources"]["jobs"] == "/v1/content/{guid}/jobs"
    assert sorted(asked) == sorted(failing | {quiet})  # the redeployed item and the failing ones
    after, fresh = load_snapshot(tmp_path / "snap").jobs, load_snapshot(tmp_path / "fresh").jobs
    pd.testing.assert_frame_equal(after, fresh)  # the same table as a full fetch
    new = after[(after["content_guid"] == quiet) & (after["start_time"] > NOW)]
    assert len(new) >= 1 and set(new["bundle_id"]) == {ds.content.loc[ds.content["guid"] == quiet, "bundle_id"].iat[0]}
    kept = before[before["content_guid"] != quiet].reset_index(drop=True)
    pd.testing.assert_frame_equal(after[after["content_guid"] != quiet].reset_index(drop=True), kept)


def test_an_old_server_lists_jobs_as_unavailable(dataset, tmp_path):
    with start_simulator(dataset=dataset, api_key=KEY, connect_version="2022.09.0") as sim:
        m = _fetch(sim, tmp_path / "old")
        asked = _job_paths(sim)
    assert len(asked) == 1  # the first item alone tells that the endpoint is missing
    assert m["unavailable"]["jobs"].startswith("needs Connect 2022.10.0 or later (this server is 2022.09.0)")
    assert "HTTP 404" in m["unavailable"]["jobs"]
    assert m["row_counts"]["jobs"] == 0 and "jobs" not in m.get("sources", {})


@pytest.mark.parametrize("role, reason", [
    ("viewer", "HTTP 403"),
    ("publisher", "content items' jobs could not be read with this key"),
])
def test_a_key_without_permission_lists_jobs_as_unavailable(dataset, tmp_path, role, reason):
    with start_simulator(dataset=dataset, api_key=KEY) as sim:
        m = _fetch(sim, tmp_path / role, key=sim.keys[role])
    assert reason in m["unavailable"]["jobs"]
    jobs = load_snapshot(tmp_path / role).jobs
    if role == "viewer":
        assert len(jobs) == 0
    else:  # a publisher reads the jobs of the items it owns (one owner), and only those
        assert len(jobs) > 0
        owners = dataset.content.set_index("guid").loc[sorted(set(jobs["content_guid"])), "owner_guid"]
        assert owners.nunique() == 1


def test_analysis_without_jobs_says_every_time_is_assumed(dataset, tmp_path):
    from connect_analysis.analysis import analyze

    with start_simulator(dataset=dataset, api_key=KEY, connect_version="2022.09.0") as sim:
        _fetch(sim, tmp_path / "old")
    with start_simulator(dataset=dataset, api_key=KEY) as sim:
        _fetch(sim, tmp_path / "new")
    old = analyze(load_snapshot(tmp_path / "old")).summary["readiness"]
    new = analyze(load_snapshot(tmp_path / "new")).summary["readiness"]
    assert old["rebuild"]["jobs_recorded"] is False and new["rebuild"]["jobs_recorded"] is True
    assert all(w["assumed_items"] == w["items"] for w in old["waves"])
    assert sum(w["measured_items"] for w in new["waves"]) > 0
    assert new["rebuild"]["per_item_minutes_by_runtime"]["r"]["source"] == "measured (runtime median)"
    assert "already-failing" not in ";".join(r["reasons"] for r in old["rows"])
    assert "already-failing" in ";".join(r["reasons"] for r in new["rows"])


def test_readiness_invariants_on_the_fetched_demo(dataset, tmp_path):
    from connect_analysis.analysis import analyze_snapshot

    with start_simulator(dataset=dataset, api_key=KEY) as sim:
        _fetch(sim, tmp_path / "snap")
    r = analyze_snapshot(tmp_path / "snap", tmp_path / "out")
    t, s = r.readiness, r.summary["readiness"]
    csv = pd.read_csv(tmp_path / "out" / "readiness.csv", dtype=str, keep_default_na=False)
    assert sorted(csv["guid"]) == sorted(dataset.content["guid"])  # one row per content item
    in_waves = [g for w in s["waves"] for g in w["guids"]]
    eligible = t.loc[t["verdict"].isin(["ready", "conditional", "unknown"]), "guid"]
    assert sorted(in_waves) == sorted(eligible)  # each exactly once
    assert t.loc[t["verdict"].isin(["blocked", "nothing-to-move"]), "wave"].isna().all()
    assert set(t["image"].dropna()) <= set(s["recommended_images"])
    assert set(s["recommended_images"]) == set(r.summary["images"]["minimal_set"])
    assert s["counts"]["blocked"] > 0 and s["counts"]["ready"] > 0 and s["counts"]["nothing-to-move"] > 0
    never = dataset.content["bundle_id"].isna().sum()
    assert s["counts"]["nothing-to-move"] == never
    ready = t.loc[t["verdict"] == "ready", "reasons"]
    assert all(set(x.split(";")) <= {"", "already-failing"} for x in ready)  # info codes only


# The Job schema of Posit's OpenAPI reference for the Connect Server API (2026): field -> (type, nullable).
JOB_SCHEMA = {
    "id": ("string", False),
    "ppid": ("string", True),
    "pid": ("string", False),
    "key": ("string", False),
    "remote_id": ("string", True),
    "app_id": ("string", False),
    "content_id": ("string", False),
    "content_guid": ("string", False),
    "variant_id": ("string", False),
    "variant_key": ("string", False),
    "bundle_id": ("string", False),
    "start_time": ("string", False),
    "end_time": ("string", True),
    "last_heartbeat_time": ("string", True),
    "queued_time": ("string", True),
    "queue_name": ("string", True),
    "tag": ("string", False),
    "exit_code": ("integer", True),
    "error": ("string", True),
    "status": ("integer", False),
    "hostname": ("string", True),
    "cluster": ("string", True),
    "image": ("string", True),
    "run_as": ("string", True),
    "skip_reason": ("string", True),
}


def test_simulated_jobs_have_the_shape_of_posit_openapi_reference(dataset):
    """Every field of the reference's Job schema, no other, each of its type (or null where it may be)."""
    import requests

    kinds = {"string": str, "integer": int}
    with start_simulator(dataset=dataset, api_key=KEY) as sim:
        rendered = dataset.content[(dataset.content["app_mode"] == "rmd-static") & dataset.content["bundle_id"].notna()]
        body = requests.get(f"{sim.url}/__api__/v1/content/{rendered['guid'].iat[0]}/jobs", timeout=10,
                            headers={"Authorization": f"Key {KEY}"}).json()
    assert body and {j["tag"] for j in body} >= {"packrat_restore", "build_report"}
    for j in body:
        assert set(j) == set(JOB_SCHEMA)
        for name, (kind, nullable) in JOB_SCHEMA.items():
            assert (j[name] is None and nullable) or isinstance(j[name], kinds[kind]), name
