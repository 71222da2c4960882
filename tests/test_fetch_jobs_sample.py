"""fetch --jobs: a sample of the items' jobs (the default) or all of them, against a simulated
server with more than options.JOBS_ALL_UP_TO deployed items (the `large` scenario's first 700),
on loopback; refreshes in either mode, and switching modes between fetches; what the analysis,
the report and the plan say of the sample."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_fetch_jobs import _redeploy

from connect_analysis.errors import ConfigError
from connect_analysis.fetch import fetch_snapshot
from connect_analysis.options import JOBS_ALL_UP_TO, JOBS_PER_RUNTIME
from connect_analysis.snapshot import load_snapshot
from connect_simulator import generate_dataset, start_simulator

KEY = "jobs-sample-admin-key"
NOW = pd.Timestamp("2026-03-01T12:00:00Z")
ITEMS = 700


def _dataset():
    ds = generate_dataset("large", seed=2, now=NOW)
    ds.first(ITEMS)
    return ds


@pytest.fixture(scope="module")
def dataset():
    return _dataset()


def _fetch(sim, out, jobs=None):
    return fetch_snapshot(server=sim.url, out=out, api_key=KEY, quiet=True, days=7,
                          now=sim.dataset.now.to_pydatetime(), **({"jobs": jobs} if jobs else {}))


def _asked(sim) -> list[str]:
    """The guids whose jobs the server was asked for, in the order asked."""
    return [p.split("?")[0].split("/")[-2] for _, p, _ in sim.request_log if p.split("?")[0].endswith("/jobs")]


def _expected_sample(content: pd.DataFrame) -> set[str]:
    """Per runtime (the heaviest recorded: R, else Python, else Quarto, else none), the
    JOBS_PER_RUNTIME most recently deployed items (ties by guid)."""
    d = content[content["bundle_id"].notna()].copy()
    d["kind"] = "none"
    for column, kind in (("quarto_version", "quarto"), ("py_version", "python"), ("r_version", "r")):
        d.loc[d[column].notna(), "kind"] = kind
    d = d.sort_values(["last_deployed_time", "guid"], ascending=[False, True])
    return set(d.groupby("kind").head(JOBS_PER_RUNTIME)["guid"])


def _deployed(ds) -> list[str]:
    return ds.content.loc[ds.content["bundle_id"].notna(), "guid"].tolist()


def _latest_failing(jobs: pd.DataFrame) -> set[str]:
    latest = jobs.sort_values(["start_time", "key"]).groupby("content_guid").tail(1)
    return set(latest.loc[(latest["exit_code"].fillna(0) != 0) | latest["error"].notna(), "content_guid"])


def test_sample_reads_the_most_recent_items_of_each_runtime(dataset, tmp_path):
    deployed = _deployed(dataset)
    assert len(deployed) > JOBS_ALL_UP_TO  # else the sample is every item
    with start_simulator(dataset=dataset, api_key=KEY) as sim:
        m = _fetch(sim, tmp_path / "snap")
        asked = _asked(sim)
    groups = 4  # r, python, quarto, none
    assert len(asked) == len(set(asked)) <= groups * JOBS_PER_RUNTIME
    assert set(asked) == _expected_sample(dataset.content)
    assert m["jobs"] == {"mode": "sample", "per_runtime": JOBS_PER_RUNTIME, "items": len(asked),
                         "of": len(deployed), "read": len(asked),
                         "guids": [g for g in deployed if g in set(asked)]}
    jobs = load_snapshot(tmp_path / "snap").jobs
    assert set(jobs["content_guid"]) <= set(asked) and len(jobs) > len(asked)
    assert m["sources"]["jobs"] == "/v1/content/{guid}/jobs" and "jobs" not in m["unavailable"]


def test_all_reads_every_deployed_item(dataset, tmp_path):
    with start_simulator(dataset=dataset, api_key=KEY) as sim:
        m = _fetch(sim, tmp_path / "snap", jobs="all")
        asked = _asked(sim)
    deployed = _deployed(dataset)
    assert sorted(asked) == sorted(deployed)  # one request per deployed item
    assert m["jobs"] == {"mode": "all", "per_runtime": JOBS_PER_RUNTIME, "items": len(deployed),
                         "of": len(deployed), "read": len(deployed)}


def test_a_refresh_of_a_sample_reads_only_what_may_have_changed(tmp_path):
    ds = _dataset()
    with start_simulator(dataset=ds, api_key=KEY) as sim:
        _fetch(sim, tmp_path / "snap")
        before = load_snapshot(tmp_path / "snap").jobs
        sampled = _expected_sample(ds.content)
        failing = _latest_failing(before)
        inside = sorted(sampled - failing)[0]  # a sampled item redeployed: read again
        outside = sorted(set(_deployed(ds)) - sampled)[0]  # redeployed: now among the most recent
        ds.now = ds.now + pd.Timedelta(hours=3)
        _redeploy(ds, inside)
        _redeploy(ds, outside)
        sim.reload()
        now_sampled = _expected_sample(ds.content)
        assert outside in now_sampled and len(sampled - now_sampled) >= 1  # one left the sample
        sim.clear_log()
        m = _fetch(sim, tmp_path / "snap")
        asked = _asked(sim)
        _fetch(sim, tmp_path / "fresh")
    assert sorted(asked) == sorted({inside, outside} | (failing & now_sampled))
    assert m["jobs"]["read"] == len(asked) and m["jobs"]["items"] == len(now_sampled)
    after, fresh = load_snapshot(tmp_path / "snap").jobs, load_snapshot(tmp_path / "fresh").jobs
    pd.testing.assert_frame_equal(after, fresh)  # the same table as a fresh sampled fetch
    assert set(after["content_guid"]) <= now_sampled


@pytest.mark.parametrize("first, then", [("sample", "all"), ("all", "sample"), ("earlier kit", "sample")])
def test_switching_modes_between_fetches_gives_the_fresh_table(dataset, tmp_path, first, then):
    with start_simulator(dataset=dataset, api_key=KEY) as sim:
        _fetch(sim, tmp_path / "snap", jobs="all" if first == "earlier kit" else first)
        before = load_snapshot(tmp_path / "snap")
        if first == "earlier kit":  # a snapshot written before --jobs: every item read, no record
            path = tmp_path / "snap" / "manifest.json"
            path.write_text(json.dumps({k: v for k, v in json.loads(path.read_text()).items() if k != "jobs"}))
        sim.clear_log()
        m = _fetch(sim, tmp_path / "snap", jobs=then)
        asked = _asked(sim)
        _fetch(sim, tmp_path / "fresh", jobs=then)
    wanted = set(_deployed(dataset)) if then == "all" else _expected_sample(dataset.content)
    # what the first fetch read (a sampled item with no build job has no rows, yet was read)
    covered = set(before.manifest["jobs"]["guids"]) if first == "sample" else set(_deployed(dataset))
    assert sorted(asked) == sorted((wanted - covered) | (_latest_failing(before.jobs) & wanted))
    assert m["jobs"]["mode"] == then and m["jobs"]["items"] == len(wanted)
    pd.testing.assert_frame_equal(load_snapshot(tmp_path / "snap").jobs, load_snapshot(tmp_path / "fresh").jobs)


def test_an_unreadable_record_reads_the_sample_anew(dataset, tmp_path):
    with start_simulator(dataset=dataset, api_key=KEY) as sim:
        _fetch(sim, tmp_path / "snap")
        path = tmp_path / "snap" / "manifest.json"
        path.write_text(json.dumps(json.loads(path.read_text()) | {"jobs": {"mode": "sample", "guids": "x"}}))
        sim.clear_log()
        _fetch(sim, tmp_path / "snap")
        asked = _asked(sim)
    assert set(asked) == _expected_sample(dataset.content)


def test_a_failed_build_in_the_sample_is_flagged_and_the_sample_said(dataset, tmp_path):
    from connect_analysis.analysis import analyze
    from connect_analysis.plan import build_plan
    from connect_analysis.report.sections import readiness_table
    from connect_analysis.report.verdicts import readiness_verdict

    with start_simulator(dataset=dataset, api_key=KEY) as sim:
        m = _fetch(sim, tmp_path / "snap")
    snap = load_snapshot(tmp_path / "snap")
    failing = _latest_failing(snap.jobs)
    assert failing, "seed 2 has a sampled item whose latest build failed"
    result = analyze(snap)
    rows = result.readiness.set_index("guid")
    for guid in failing:
        assert "already-failing" in rows.at[guid, "reasons"].split(";")
    flagged = set(rows.index[rows["reasons"].str.contains("already-failing", regex=False)])
    assert flagged == failing  # only sampled items can be flagged
    deployed = len(_deployed(dataset))
    builds = result.summary["readiness"]["latest_builds"]
    assert builds == {"mode": "sample", "checked_items": m["jobs"]["items"], "deployed_items": deployed,
                      "failing_items": len(failing), "text": builds["text"]}
    assert builds["text"].startswith(f"latest builds checked for {m['jobs']['items']} of {deployed} deployed items")
    assert "--jobs all" in builds["text"]
    # an unsampled item's rebuild time is its runtime's median, and the row says so
    unsampled = rows.loc[~rows.index.isin(m["jobs"]["guids"]) & rows["rebuild_source"].notna()]
    assert len(unsampled) and set(unsampled["rebuild_source"]) <= {"measured (runtime median)", "assumed"}
    assert "--jobs all" in readiness_verdict(result.summary).sentence
    assert f"checked for {m['jobs']['items']} of {deployed} deployed items" in readiness_table(result).html
    assert build_plan(result, snapshot=snap).document["latest_builds"] == builds


def test_a_bad_jobs_mode_is_refused_before_any_request(tmp_path):
    with pytest.raises(ConfigError, match="--jobs must be one of sample, all, got 'every'"):
        fetch_snapshot(server="http://127.0.0.1:9", out=tmp_path / "snap", api_key=KEY, jobs="every")


def test_every_command_that_fetches_takes_jobs():
    from click.testing import CliRunner

    from connect_analysis.cli import main

    for command in ("fetch", "demo", "run"):
        out = CliRunner().invoke(main, [command, "--help"]).output
        assert "--jobs [sample|all]" in out and "[default: sample]" in out, command
