"""Readiness verdicts, reason codes and rebuild waves, on hand-built snapshots. Every expected
value was worked out by hand from the rows below."""

from __future__ import annotations

import pandas as pd
import pytest
from analysis_fixtures import SERVER, small_snapshot

from connect_analysis.analysis import analyze, analyze_snapshot
from connect_analysis.analysis.readiness import CODES, verdict

IMAGES = """
images:
  - name: img-a
    r: ["4.3.0"]
    python: ["3.11.0"]
    quarto: ["1.4.550"]
  - name: img-b
    r: ["4.4.0"]
"""


def _c(guid, app_mode="shiny", bundle="1", r=None, py=None, q=None, **kw):
    row = {"guid": guid, "id": guid, "name": guid, "title": f"T {guid}", "app_mode": app_mode,
           "bundle_id": bundle, "r_version": r, "py_version": py, "quarto_version": q,
           "owner_username": "alice", "content_url": f"{SERVER}/content/{guid}/", "run_as_current_user": False,
           "last_deployed_time": "2024-01-01T00:00:00Z"}
    row.update(kw)
    return row


CONTENT = [
    _c("n1", "unknown", None, r="3.5.3", run_as_current_user=True, run_as="svc"),  # never deployed
    _c("x1", r="3.5.3"),                                        # no image carries R 3.5
    _c("x2", r="4.3.1", run_as_current_user=True),
    _c("x3", r="4.3.1", run_as="svc"),
    _c("x4", r="4.3.1", run_as="rstudio-connect"),              # the default user: not custom
    _c("x5", "python-dash", py="3.11.2", py_environment_management=False),
    _c("x6", "rmd-static", r="4.3.1", py_environment_management=False),  # uses no Python
    _c("x7", "shiny"),                                          # versions not readable
    _c("x8", "static"),                                         # needs no runtime
    _c("x9", r="3.5.3", run_as_current_user=True, run_as="svc"),
    _c("x10", "python-api", run_as="svc"),                      # unknown + conditional
    _c("x11", r="4.4.1", r_environment_management=False),
]


@pytest.fixture
def images(tmp_path):
    path = tmp_path / "images.yaml"
    path.write_text(IMAGES)
    return str(path)


def _table(images, target=None, settings=None, **tables):
    snap = small_snapshot(content=CONTENT, **tables)
    if settings:
        snap.server_settings.update(settings)
    return analyze(snap, images=images, target_version=target).readiness.set_index("guid")


def test_every_code_and_its_severity(images):
    t = _table(images)
    assert t.loc["n1", ["verdict", "reasons"]].tolist() == ["nothing-to-move", "never-deployed"]
    assert t.loc["x1", ["verdict", "reasons"]].tolist() == ["blocked", "no-image"]
    assert t.loc["x2", ["verdict", "reasons"]].tolist() == ["blocked", "run-as-current-user"]
    assert t.loc["x3", ["verdict", "reasons"]].tolist() == ["conditional", "custom-run-as"]
    assert t.loc["x4", ["verdict", "reasons"]].tolist() == ["ready", ""]
    assert t.loc["x5", ["verdict", "reasons"]].tolist() == ["conditional", "host-packages"]
    assert t.loc["x6", ["verdict", "reasons"]].tolist() == ["ready", ""]
    assert t.loc["x7", ["verdict", "reasons"]].tolist() == ["unknown", "unknown-runtime"]
    assert t.loc["x8", ["verdict", "reasons"]].tolist() == ["ready", ""]
    assert t.loc["x11", ["verdict", "reasons"]].tolist() == ["conditional", "host-packages"]
    assert {c: CODES[c].severity for c in CODES} == {
        "never-deployed": "nothing-to-move", "no-image": "blocked", "run-as-current-user": "blocked",
        "custom-run-as": "conditional", "host-packages": "conditional", "unknown-runtime": "unknown",
        "already-failing": "info"}


def test_verdict_precedence_and_sorted_reasons(images):
    t = _table(images)
    assert t.loc["x9", ["verdict", "reasons"]].tolist() == [
        "blocked", "custom-run-as;no-image;run-as-current-user"]
    assert t.loc["x10", ["verdict", "reasons"]].tolist() == ["unknown", "custom-run-as;unknown-runtime"]
    assert verdict([]) == "ready"
    assert verdict(["already-failing"]) == "ready"
    assert verdict(["custom-run-as", "host-packages"]) == "conditional"
    assert verdict(["custom-run-as", "unknown-runtime"]) == "unknown"
    assert verdict(["unknown-runtime", "run-as-current-user"]) == "blocked"
    assert verdict(["never-deployed"]) == "nothing-to-move"


def test_run_as_current_user_switches_at_the_target_version(images):
    default = _table(images)  # the old server's version, 2024.03.0
    assert default.loc["x2", "verdict"] == "blocked"
    assert _table(images, target="2025.12.9").loc["x2", "verdict"] == "blocked"
    new = _table(images, target="2026.01.0")
    assert new.loc["x2", ["verdict", "reasons"]].tolist() == ["conditional", "run-as-current-user"]
    assert "nameservice" in new.loc["x2", "remediation"]
    assert new.loc["x9", "verdict"] == "blocked"  # still no image


def test_images_and_remediation(images):
    t = _table(images)
    assert t.loc["x3", "image"] == "img-a" and t.loc["x11", "image"] == "img-b"
    assert pd.isna(t.loc["x1", "image"]) and pd.isna(t.loc["x8", "image"]) and pd.isna(t.loc["n1", "image"])
    assert t.loc["x7", "image"] == "img-a"  # provisional: the first recommended image
    assert t.loc["x1", "remediation"] == (
        "Build a custom image with R 3.5.3, or upgrade the content to R >= 4.3 and redeploy it.")
    assert "svc" in t.loc["x3", "remediation"]
    assert t.loc["x5", "remediation"].startswith("Turn on Python environment management")
    assert t.loc["x9", "remediation"] == (  # one sentence per code, in the order of the codes
        "Create the user svc in the image with the UID and GID it has on the old host and match file "
        "ownership on shared storage, or clear run_as. "
        "Build a custom image with R 3.5.3, or upgrade the content to R >= 4.3 and redeploy it. "
        "Move to Connect >= 2026.01.0 with the chart's nameservice and an SSO provider, "
        "or turn off running as the viewing user.")
    assert t.loc["x4", "remediation"] == ""


def test_server_default_environment_management(images):
    t = _table(images, settings={"default_r_environment_management": False})
    assert t.loc["x6", "reasons"] == "host-packages"  # R from the host by the server default
    assert t.loc["x5", "reasons"] == "host-packages"
    assert t.loc["x8", "reasons"] == ""  # static: no language


def _job(guid, key, start, minutes, exit_code=0, tag="packrat_restore", bundle="1"):
    s = pd.Timestamp(start)
    return {"content_guid": guid, "key": key, "bundle_id": bundle, "tag": tag, "start_time": s,
            "end_time": s + pd.Timedelta(minutes=minutes) if minutes is not None else None,
            "exit_code": exit_code, "status": 2}


JOBS = [
    _job("x4", "k1", "2024-03-01T00:00:00Z", 10),
    _job("x4", "k2", "2024-03-01T00:20:00Z", 2, tag="build_report"),  # same bundle: 12 minutes
    _job("x4", "k3", "2024-03-05T00:00:00Z", 20, bundle="2"),         # median(12, 20) = 16
    _job("x6", "k4", "2024-03-01T00:00:00Z", 4, exit_code=1),           # latest: failed
    _job("x3", "k5", "2024-03-01T00:00:00Z", 8, exit_code=1),
    _job("x3", "k6", "2024-03-02T00:00:00Z", 8),                        # failed, then fixed
    _job("x4", "k7", "2024-03-06T00:00:00Z", 99, tag="run_app", exit_code=1),  # not a build
]


def test_jobs_give_rebuild_minutes_and_already_failing(images):
    t = _table(images, jobs=JOBS)
    assert t.loc["x4", ["rebuild_minutes", "rebuild_source"]].tolist() == [16.0, "measured (item)"]
    assert t.loc["x3", ["rebuild_minutes", "rebuild_source"]].tolist() == [8.0, "measured (item)"]
    # R items with no job of their own: median of the measured R items (16, 8) = 12
    assert t.loc["x11", ["rebuild_minutes", "rebuild_source"]].tolist() == [12.0, "measured (runtime median)"]
    assert t.loc["x5", ["rebuild_minutes", "rebuild_source"]].tolist() == [3.0, "assumed"]  # Python
    assert t.loc["x6", ["verdict", "reasons"]].tolist() == ["ready", "already-failing"]
    assert "2024-03-01T00:04:00Z, exit code 1" in t.loc["x6", "remediation"]
    assert t.loc["x3", "reasons"] == "custom-run-as"
    assert t.loc["x4", "reasons"] == ""
    assert pd.isna(t.loc["n1", "rebuild_minutes"])


WAVE_CONTENT = [
    _c("a1", r="4.3.1"), _c("a2", r="4.3.2"), _c("a3", r="4.3.0"), _c("a4", r="4.3.1", run_as="svc"),
    _c("b1", r="4.4.1"), _c("b2", r="4.4.2"), _c("b3", r="4.4.0", run_as="svc"),
    _c("s1", "static"), _c("u1", "shiny"), _c("k1", r="3.5.3"), _c("k2", r="4.3.1", run_as_current_user=True),
    _c("n1", "unknown", None),
]


def _visits(counts):
    return [{"content_guid": g, "user_guid": f"u{i}", "time": "2024-03-10T00:00:00Z"}
            for g, n in counts.items() for i in range(n)]


def test_wave_ordering_rules(images):
    # usage: a1 9, b3 8, k1 7, a4 6, u1 5, a2 4, b1 3 ... top 4 are important: a1 b3 k1 a4
    visits = _visits({"a1": 9, "b3": 8, "k1": 7, "a4": 6, "u1": 5, "a2": 4, "b1": 3, "a3": 2, "b2": 1})
    r = analyze(small_snapshot(content=WAVE_CONTENT, visits=visits, shiny_sessions=[]), images=images, top_n=4)
    t = r.readiness.set_index("guid")
    assert sorted(t.index[t["important"]]) == ["a1", "a4", "b3", "k1"]
    canary = t[t["wave"] == 1]
    # per image up to two ready items with no code, important first, then most used
    assert canary.index.tolist() == ["a1", "a2", "b1", "b2"]
    assert t.loc[["a4", "b3"], "wave"].tolist() == [2, 2]  # the important ones left, conditional
    assert sorted(t.index[t["wave"] == 3]) == ["a3", "s1", "u1"]
    assert t.loc[["k1", "k2", "n1"], "wave"].isna().all()  # blocked and never deployed
    later = t[t["wave"] > 1]
    assert later.loc[later["important"], "wave"].max() <= later.loc[~later["important"], "wave"].min()
    ordered = r.readiness.dropna(subset=["wave"]).sort_values("rebuild_order")
    for _, wave in ordered.groupby("wave"):
        flags = wave["important"].tolist()
        assert flags == sorted(flags, reverse=True)  # important first within each wave
    assert ordered["rebuild_order"].tolist() == list(range(1, len(ordered) + 1))
    in_waves = t["verdict"].isin(["ready", "conditional", "unknown"])
    assert t.loc[in_waves, "wave"].notna().all() and t.loc[~in_waves, "wave"].isna().all()
    assigned = set(t["image"].dropna())
    assert assigned <= set(r.summary["readiness"]["recommended_images"]) == {"img-a", "img-b"}


def test_wave_times_and_the_downtime_answer(images):
    r = analyze(small_snapshot(content=WAVE_CONTENT, visits=_visits({"a1": 2, "b3": 1}), shiny_sessions=[]),
                images=images, top_n=2)
    waves = r.summary["readiness"]["waves"]
    # assumed 6 minutes per R item, 0.2 static; 2 builders
    # (u1 records no version: 0.2 as well). wave 1: a1 a2 b1 b2 (4 x 6 on 2 builders = 12);
    # wave 2: b3 (6); wave 3: a3 a4 u1 s1 (6 + 0.2 on each builder = 6.2)
    assert [(w["kind"], w["items"], w["rebuild_minutes"]) for w in waves] == [
        ("canary", 4, 12.0), ("important", 1, 6.0), ("rest", 4, 6.2)]
    assert [w["ends_after_minutes"] for w in waves] == [12.0, 18.0, 24.2]
    assert all(w["assumed_items"] == w["items"] for w in waves)
    d = r.summary["downtime"]
    assert d["important_back_after_hours"] == 0.3 and d["everything_back_after_hours"] == 0.4
    assert d["answer"].startswith("important content back after 0.3 hours, everything after 0.4 hours")
    assert r.summary["readiness"]["counts"] == {"blocked": 2, "unknown": 1, "conditional": 2, "ready": 6,
                                                "nothing-to-move": 1}


def test_readiness_csv_has_one_row_per_item(images, tmp_path):
    analyze_snapshot_dir = tmp_path / "out"
    from connect_analysis.snapshot import write_snapshot

    snap = small_snapshot(content=CONTENT)
    write_snapshot(tmp_path / "snap", snap.tables, snap.manifest, snap.server_settings)
    result = analyze_snapshot(tmp_path / "snap", analyze_snapshot_dir, images=images)
    csv = pd.read_csv(analyze_snapshot_dir / "readiness.csv", dtype=str, keep_default_na=False)
    assert sorted(csv["guid"]) == sorted(c["guid"] for c in CONTENT)
    assert csv.columns[:10].tolist() == ["guid", "title", "app_mode", "owner", "verdict", "reasons",
                                         "important", "image", "wave", "remediation"]
    assert len(result.summary["readiness"]["rows"]) == len(CONTENT)
    assert dict(zip(csv["guid"], csv["verdict"], strict=True))["x1"] == "blocked"


def _cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "connect_analysis.cli", *args], capture_output=True, text=True)


def test_cli_target_version(images, tmp_path):
    import json

    from connect_analysis.snapshot import write_snapshot

    snap = small_snapshot(content=CONTENT)
    write_snapshot(tmp_path / "snap", snap.tables, snap.manifest, snap.server_settings)
    for target, expected in ((None, "blocked"), ("2026.01.0", "conditional")):
        extra = ["--target-version", target] if target else []
        p = _cli("analyze", str(tmp_path / "snap"), "--out", str(tmp_path / "out"), "--images", images, *extra)
        assert p.returncode == 0, p.stderr
        s = json.loads((tmp_path / "out" / "summary.json").read_text())["readiness"]
        assert s["target_version"] == (target or "2024.03.0")
        assert {r["guid"]: r["verdict"] for r in s["rows"]}["x2"] == expected
    p = _cli("analyze", str(tmp_path / "snap"), "--out", str(tmp_path / "out"), "--target-version", "soon")
    assert p.returncode == 1 and p.stderr.strip().splitlines() == [
        "error: target version must be a Connect version like 2026.01.0, not 'soon'"]


def test_the_codes_page_is_generated_from_the_codes():
    from pathlib import Path

    from connect_analysis.analysis.readiness import codes_markdown
    from connect_analysis.analysis.readiness_page import PAGE

    page = (Path(__file__).resolve().parents[1] / PAGE).read_text()
    assert page == codes_markdown(), f"regenerate: python -m connect_analysis.analysis.readiness_page > {PAGE}"
    for code in CODES.values():
        assert f"| `{code.name}` | {code.severity}" in page
    assert "blocked (conditional when `--target-version` >= 2026.01.0)" in page
