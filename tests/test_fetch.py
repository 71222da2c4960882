"""fetch_snapshot and `connect-analysis fetch` against the simulator (real HTTP on
loopback), plus one tiny loopback server for the odd shapes real servers send."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pyarrow.parquet as pq
import pytest
from loopback import serve

from connect_analysis import schema
from connect_analysis.api.content import DIGESTS, ContentList
from connect_analysis.api.usage import slices
from connect_analysis.errors import AuthError, ConfigError
from connect_analysis.fetch import fetch_snapshot
from connect_analysis.snapshot import file_metadata, load_snapshot
from connect_simulator import generate_dataset, start_simulator

KEY = "adm1n-key-that-must-never-leak"
FAULTS = {"503": 0.10, "429": 0.02, "drop": 0.01}


@pytest.fixture(scope="module")
def dataset():
    """One demo dataset (fixed clock) shared by the simulators of this module."""
    return generate_dataset("demo", seed=7, now=pd.Timestamp("2026-03-01T12:00:00Z"))


def sim_for(dataset, **kw):
    kw.setdefault("connect_version", "2026.06.0")
    return start_simulator(dataset=dataset, api_key=KEY, **kw)


def fetch(sim, out, key=KEY, **kw):
    kw.setdefault("now", sim.dataset.now.to_pydatetime())
    return fetch_snapshot(server=sim.url, out=out, api_key=key, quiet=True, **kw)


def tables(path) -> dict[str, pd.DataFrame]:
    snap = load_snapshot(path)
    return {name: getattr(snap, name) for name in schema.TABLES}


def without_port(df: pd.DataFrame) -> pd.DataFrame:
    """URLs name the simulator's port, which differs between simulators."""
    df = df.copy()
    for col in ("content_url", "dashboard_url", "vanity_url"):
        if col in df:
            df[col] = df[col].str.replace(r"^http://127\.0\.0\.1:\d+", "SERVER", regex=True)
    return df


def assert_same_tables(a, b):
    ta, tb = tables(a), tables(b)
    for name in schema.TABLES:
        x, y = without_port(ta[name]), without_port(tb[name])
        assert len(x) == len(y), f"{name}: {len(x)} rows != {len(y)} rows"
        diff = [c for c in x.columns if not x[c].equals(y[c])]
        assert not diff, f"{name}: columns differ: {diff}"


def digest(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


# --- a complete snapshot ----------------------------------------------------------------


def test_fetch_writes_every_table_matching_the_server(dataset, tmp_path):
    with sim_for(dataset) as sim:
        m = fetch(sim, tmp_path / "snap", days=30)
        log = sim.request_log
    snap = load_snapshot(tmp_path / "snap")
    assert {method for method, _, _ in log} == {"GET"}  # read-only
    paths = [p.split("?")[0] for _, p, _ in log]
    assert "/__api__/v1/instrumentation/content/visits" in paths and "/__api__/v1/instrumentation/shiny/usage" in paths
    assert not [p for p in paths if p.endswith("/hits")]  # the hits endpoint counts Shiny differently
    assert m["server"] == sim.url and m["server_version"] == "2026.06.0"
    assert m["window"] == {"end": "2026-03-01T12:00:00Z", "start": "2026-01-30T12:00:00Z"}
    assert m["key_role"] == "administrator" and "fetched_at" in m and m["kit_version"]
    assert set(m["unavailable"]) == {"bundles"} and "--bundle-history" in m["unavailable"]["bundles"]
    assert snap.server_settings["version"] == "2026.06.0" and "license" in snap.server_settings
    # usage: exactly the records whose time is in the window, each once
    end = int(dataset.now.timestamp())
    start = end - 30 * 86400
    t = dataset.visit_log.time
    assert len(snap.visits) == int(((t >= start) & (t <= end)).sum())
    s = dataset.shiny_log.time
    assert len(snap.shiny_sessions) == int(((s >= start) & (s <= end)).sum())
    assert len(snap.content) == len(dataset.content) and len(snap.users) == len(dataset.users)
    assert set(snap.content["guid"]) == set(dataset.content["guid"])
    assert snap.content_storage["bytes_total"].sum() == m["system_storage"]["bytes_total"]
    assert len(snap.packages) > 0 and set(snap.packages["language"]) <= {"r", "python"}
    for name in schema.TABLES:  # row counts in the manifest match the files
        assert m["row_counts"][name] == len(getattr(snap, name))
    assert KEY not in json.dumps(m)


def test_nothing_is_lost_under_faults(dataset, tmp_path):
    with sim_for(dataset) as sim:
        fetch(sim, tmp_path / "clean", days=30, bundle_history=True)
    with sim_for(dataset, faults=FAULTS, seed=3) as sim:
        m = fetch(sim, tmp_path / "faulty", days=30, bundle_history=True)
        statuses = [s for _, _, s in sim.request_log]
    assert {429, 503, 0} <= set(statuses)  # every kind of fault happened (0: dropped mid-body)
    assert m["retries"] >= statuses.count(503) + statuses.count(429)
    assert_same_tables(tmp_path / "clean", tmp_path / "faulty")


def test_old_server_sums_storage_from_bundles_and_explains_packages(dataset, tmp_path):
    with sim_for(dataset) as sim:
        new = fetch(sim, tmp_path / "new", days=7)
    with sim_for(dataset, connect_version="2024.09.0") as sim:
        old = fetch(sim, tmp_path / "old", days=7)
        paths = [p for _, p, _ in sim.request_log]
    assert old["sources"]["content_storage"] == "summed from per-item bundle lists"
    assert "2024.11.0" in old["unavailable"]["packages"] and "2024.09.0" in old["unavailable"]["packages"]
    assert "bundles" not in old["unavailable"]
    many = int((dataset.bundles.groupby("content_guid").size() >= 20).sum())  # a second page asked
    assert sum("/bundles" in p for p in paths) == len(dataset.content) + many  # one call per item
    a = load_snapshot(tmp_path / "new").content_storage.sort_values("content_guid").reset_index(drop=True)
    b = load_snapshot(tmp_path / "old").content_storage.sort_values("content_guid").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)  # the same storage summary from both versions
    assert len(load_snapshot(tmp_path / "old").bundles) == len(dataset.bundles)
    assert new["row_counts"]["packages"] > 0


# --- incremental refresh ----------------------------------------------------------------


def test_incremental_refresh_equals_a_full_fetch(tmp_path):
    ds = generate_dataset("demo", seed=11, now=pd.Timestamp("2026-03-01T12:00:00Z"))
    with sim_for(ds) as sim:
        fetch(sim, tmp_path / "snap", days=30)
        before = load_snapshot(tmp_path / "snap")
        assert before.shiny_sessions["ended"].isna().any()  # sessions open at the first fetch
        sim.advance(days=1)
        sim.clear_log()
        m = fetch(sim, tmp_path / "snap", days=30)
        refresh_log = sim.request_log
        sim.clear_log()
        full = fetch(sim, tmp_path / "fresh", days=30)
        full_log = sim.request_log
    assert m["refresh"]["mode"] == "incremental" and full["refresh"]["mode"] == "full"
    assert m["window"] == full["window"]
    assert_same_tables(tmp_path / "snap", tmp_path / "fresh")
    for name in ("visits.parquet", "shiny_sessions.parquet"):  # the same columns, types and metadata
        a, b = (pq.ParquetFile(tmp_path / d / name) for d in ("snap", "fresh"))
        assert a.metadata.metadata == b.metadata.metadata and a.schema_arrow == b.schema_arrow
    # nothing was deployed in between: packages and storage are patched, not read again
    assert not [p for _, p, _ in refresh_log if p.startswith(("/__api__/v1/packages", "/__api__/v1/content/storage"))]
    usage = [p for _, p, _ in refresh_log if "instrumentation" in p]
    assert usage and len(usage) < len([p for _, p, _ in full_log if "instrumentation" in p])
    # the refresh read usage only from where the previous snapshot ended (or an open session began)
    froms = [parse_qs(urlsplit(p).query)["from"][0] for p in usage]
    assert min(froms) >= min(before.shiny_sessions.loc[before.shiny_sessions["ended"].isna(), "started"]
                              ).strftime("%Y-%m-%dT%H:%M:%SZ")
    # and a longer window later still equals a full fetch (the same server: a refresh)
    s = load_snapshot(tmp_path / "snap").shiny_sessions
    still_open = min(s.loc[s["ended"].isna(), "started"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sim_for(ds, port=urlsplit(m["server"]).port) as sim:
        sim.clear_log()
        longer = fetch(sim, tmp_path / "snap", days=45)
        older = [parse_qs(urlsplit(p).query)["from"][0] for _, p, _ in sim.request_log if "instrumentation" in p]
        fetch(sim, tmp_path / "fresh45", days=45)
    assert longer["refresh"]["mode"] == "incremental"
    assert min(older) == longer["window"]["start"]  # the 15 days before the old window were read
    assert not [f for f in older if m["window"]["start"] < f < still_open]  # the old window was not
    assert_same_tables(tmp_path / "snap", tmp_path / "fresh45")


def test_refresh_of_a_snapshot_that_cannot_be_loaded_reads_it_all_again(tmp_path):
    """The newer usage is read before the old rows load; when they cannot be, the rest
    of the window is read from the server, and the result is still a full fetch's."""
    ds = generate_dataset("demo", seed=11, now=pd.Timestamp("2026-03-01T12:00:00Z"))
    with sim_for(ds) as sim:
        fetch(sim, tmp_path / "snap", days=30)
        (tmp_path / "snap" / "visits.parquet").write_bytes(b"PAR1 not a parquet file")
        sim.advance(days=1)
        sim.clear_log()
        m = fetch(sim, tmp_path / "snap", days=40)  # a longer window too: its older part is read once
        froms = sorted(parse_qs(urlsplit(p).query)["from"][0] for _, p, _ in sim.request_log
                       if "instrumentation" in p)
        fetch(sim, tmp_path / "fresh", days=40)
    assert m["refresh"]["mode"] == "full"
    assert m["refresh"]["usage_from"] == {"visits": m["window"]["start"], "shiny_sessions": m["window"]["start"]}
    assert froms[0] == m["window"]["start"]
    assert_same_tables(tmp_path / "snap", tmp_path / "fresh")


def test_refresh_after_an_upgrade_asks_for_what_the_new_version_offers(tmp_path):
    """The content list is requested before the server's version is known, with the include
    the previous snapshot's version allowed; after an upgrade to 2024.06 it is asked again
    with vanity_url."""
    ds = generate_dataset("demo", seed=11, now=pd.Timestamp("2026-03-01T12:00:00Z"))
    with sim_for(ds, connect_version="2024.05.0") as sim:
        fetch(sim, tmp_path / "snap", days=30)
        port = urlsplit(sim.url).port
    assert load_snapshot(tmp_path / "snap").content["vanity_url"].isna().all()
    with sim_for(ds, port=port) as sim:
        m = fetch(sim, tmp_path / "snap", days=30)
        fetch(sim, tmp_path / "fresh", days=30)
    assert m["server_version"] == "2026.06.0" and m["refresh"]["mode"] == "incremental"
    assert load_snapshot(tmp_path / "snap").content["vanity_url"].notna().any()
    assert_same_tables(tmp_path / "snap", tmp_path / "fresh")


def test_refresh_keeps_unchanged_tables_and_never_a_damaged_one(tmp_path):
    ds = generate_dataset("demo", seed=11, now=pd.Timestamp("2026-03-01T12:00:00Z"))
    kept = ("packages.parquet", "content_storage.parquet", "content.parquet", "content_tags.parquet")
    with sim_for(ds) as sim:
        fetch(sim, tmp_path / "snap", days=30)
        before = digest(tmp_path / "snap")
        sim.advance(days=1)
        fetch(sim, tmp_path / "snap", days=30)
        after = digest(tmp_path / "snap")
        # nothing deployed or edited since: these files are the previous ones, byte for byte
        assert all(after[f] == before[f] for f in kept) and after["visits.parquet"] != before["visits.parquet"]
        (tmp_path / "snap" / "packages.parquet").write_bytes(b"PAR1 damaged")
        sim.advance(days=1)
        sim.clear_log()
        fetch(sim, tmp_path / "snap", days=30)
        paths = [p.split("?")[0] for _, p, _ in sim.request_log]
        fetch(sim, tmp_path / "fresh", days=30)
    assert "/__api__/v1/packages" in paths  # the damaged file was read again, not copied
    assert_same_tables(tmp_path / "snap", tmp_path / "fresh")


def test_refresh_reuses_unchanged_items_and_decodes_the_others(tmp_path):
    """Items whose JSON is unchanged keep their rows; edited, moved, added and retagged
    items are decoded; the result is a full fetch's."""
    ds = generate_dataset("demo", seed=11, now=pd.Timestamp("2026-03-01T12:00:00Z"))
    with sim_for(ds) as sim:
        fetch(sim, tmp_path / "snap", days=30)
        c = ds.content.reset_index(drop=True)
        edited, moved, retagged, untagged = c["guid"].iloc[[0, 5, 10]].tolist() + [ds.content_tags["content_guid"].iloc[0]]
        c.loc[0, "title"] = "Sales <b>dashboard</b> \u2014 r\u00e9vis\u00e9"
        ds.content = c
        sim.reload()
        fetch(sim, tmp_path / "snap", days=30)  # one item edited: as many items as before
        fetch(sim, tmp_path / "fresh", days=30)
        assert_same_tables(tmp_path / "snap", tmp_path / "fresh")
        added = c.iloc[[7]].assign(guid="00000000-0000-4000-8000-000000000001", id=str(10**6),
                                   name="added-item", title="Added")
        ds.content = pd.concat([c.drop(index=5), added, c.iloc[[5]]], ignore_index=True)
        t = ds.content_tags
        ds.content_tags = pd.concat([t[t["content_guid"] != untagged], pd.DataFrame(
            [{"content_guid": retagged, "tag_id": t["tag_id"].iloc[0]},
             {"content_guid": added["guid"].iloc[0], "tag_id": t["tag_id"].iloc[-1]}])], ignore_index=True)
        sim.reload()
        fetch(sim, tmp_path / "snap", days=30)
        fetch(sim, tmp_path / "fresh", days=30)
    assert_same_tables(tmp_path / "snap", tmp_path / "fresh")
    snap = load_snapshot(tmp_path / "snap")
    guids = snap.content["guid"].tolist()
    assert guids[-2:] == [added["guid"].iloc[0], moved] and len(guids) == len(c) + 1
    assert snap.content.loc[snap.content["guid"] == edited, "title"].item().startswith("Sales <b>dashboard</b>")
    tags = snap.content_tags
    assert untagged not in set(tags["content_guid"]) and added["guid"].iloc[0] in set(tags["content_guid"])
    assert retagged in set(tags["content_guid"])
    # the digests written with the list match its rows, and are what the next refresh reads
    listed = ContentList.previous(snap.content, snap.content_tags, file_metadata(tmp_path / "snap" / "content.parquet"))
    assert listed is not None and len(listed.digests) == len(snap.content)


def test_content_digests_are_reused_only_as_written(tmp_path):
    content = pd.DataFrame({"guid": ["a", "b"]})
    tags = schema.empty("content_tags")
    written = ContentList(content, tags, [b"1" * 16, b"2" * 16]).metadata()
    meta = {k.encode(): v.encode() for k, v in written.items()}
    assert ContentList.previous(content, tags, meta).digests == [b"1" * 16, b"2" * 16]
    assert ContentList.previous(content.iloc[:1], tags, meta) is None  # not one digest per row
    assert ContentList.previous(pd.DataFrame({"guid": ["a", "a"]}), tags, meta) is None  # guids repeat
    other = {DIGESTS.encode(): b"0.0.1|guid\n" + meta[DIGESTS.encode()].split(b"\n", 1)[1]}
    assert ContentList.previous(content, tags, other) is None  # another kit version's decoding
    assert ContentList.previous(content, tags, {DIGESTS.encode(): meta[DIGESTS.encode()] + b"!"}) is None
    assert ContentList.previous(content, tags, {}) is None


def deploy(ds, guid: str, size: int, packages: list[dict]) -> str:
    """A publisher deploys a new bundle of `guid` now (edits the dataset; the caller
    reloads the simulator). Returns the new bundle id."""
    c = ds.content
    row = c.index[c["guid"] == guid][0]
    bundle_id = str(max(int(b) for b in ds.bundles["id"]) + 1)
    runtime = ["cluster_name", "image_name", "r_version", "py_version", "quarto_version",
               "r_environment_management", "py_environment_management"]
    ds.bundles.loc[ds.bundles["content_guid"] == guid, "active"] = False
    new = {"id": bundle_id, "content_guid": guid, "created_time": ds.now, "size": size, "active": True,
           **{f: c.at[row, f] for f in runtime}, "source": None, "archive_md5": None}
    ds.bundles = pd.concat([ds.bundles, pd.DataFrame([new])], ignore_index=True)
    c.loc[row, "bundle_id"] = bundle_id
    c.loc[row, "last_deployed_time"] = ds.now
    ds.packages = pd.concat([ds.packages[ds.packages["content_guid"] != guid],
                             pd.DataFrame([{"content_guid": guid, "hash": None, **p} for p in packages])],
                            ignore_index=True)
    return bundle_id


def test_refresh_rereads_packages_and_storage_of_items_deployed_since(tmp_path):
    ds = generate_dataset("demo", seed=11, now=pd.Timestamp("2026-03-01T12:00:00Z"))
    c = ds.content
    redeployed = ds.packages["content_guid"].value_counts().index[0]
    first = c.loc[c["bundle_id"].isna(), "guid"].iloc[0]
    with sim_for(ds) as sim:
        fetch(sim, tmp_path / "snap", days=30)
        before = load_snapshot(tmp_path / "snap")
        sim.advance(days=1)
        c.loc[c["guid"] == first, ["app_mode", "r_version"]] = ["rmd-static", "4.4.1"]
        deploy(ds, redeployed, 7_000_000, [{"language": "python", "name": "brand-new-pkg", "version": "0.1"}])
        deploy(ds, first, 3_000_000, [{"language": "r", "name": "sf", "version": "1.0-16", "hash": "abc"}])
        sim.reload()
        sim.clear_log()
        m = fetch(sim, tmp_path / "snap", days=30)
        paths = [p.split("?")[0] for _, p, _ in sim.request_log]
        fetch(sim, tmp_path / "fresh", days=30)
    assert m["refresh"]["mode"] == "incremental"
    assert_same_tables(tmp_path / "snap", tmp_path / "fresh")
    # only the two items deployed since were read again, one by one; not the server-wide lists
    for what in ("packages", "storage"):
        again = sorted(p.split("/")[-2] for p in paths if p.startswith("/__api__/v1/content/") and p.endswith(what))
        assert again == sorted([redeployed, first]), what
    assert "/__api__/v1/packages" not in paths and "/__api__/v1/content/storage" not in paths
    after = load_snapshot(tmp_path / "snap")
    def names(guid):
        return set(after.packages.loc[after.packages["content_guid"] == guid, "name"])
    assert names(redeployed) == {"brand-new-pkg"} and names(first) == {"sf"}
    assert first not in set(before.packages["content_guid"])
    old_st = before.content_storage.set_index("content_guid")
    st = after.content_storage.set_index("content_guid")
    assert st.at[first, "bytes_active"] == 3_000_000
    assert first not in old_st.index or old_st.at[first, "bytes_total"] == 0
    assert st.at[redeployed, "bytes_active"] == 7_000_000
    assert st.at[redeployed, "bytes_total"] == old_st.at[redeployed, "bytes_total"] + 7_000_000
    assert st.at[redeployed, "bundle_count"] == old_st.at[redeployed, "bundle_count"] + 1


# --- low-privilege keys ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["publisher", "viewer"])
def test_low_privilege_keys_get_a_partial_snapshot_with_reasons(dataset, tmp_path, role):
    with sim_for(dataset) as sim:
        m = fetch(sim, tmp_path / role, key=sim.keys[role], days=30)
    snap = load_snapshot(tmp_path / role)
    assert m["key_role"] == role and "administrator" in m["scope"]
    assert 0 < len(snap.content) <= len(dataset.content)
    assert m["unavailable"], "a low-privilege key cannot read everything"
    for dataset_name, reason in m["unavailable"].items():
        assert dataset_name in schema.TABLES and len(reason) > 20
        assert m["row_counts"][dataset_name] == 0 or dataset_name in ("bundles", "jobs")  # per item: partial
    # never silently empty: an empty table is either unavailable or genuinely empty for this key
    admin_only = {"vanities", "runtime_caches"}
    assert admin_only <= set(m["unavailable"])
    assert any("HTTP 403" in r for r in m["unavailable"].values())


# --- failures -----------------------------------------------------------------------------


def cli(*args, key=KEY):
    env = {**os.environ, "CONNECT_API_KEY": key}
    env.pop("CONNECT_SERVER", None)
    return subprocess.run([sys.executable, "-m", "connect_analysis.cli", "fetch", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_cli_fetch_and_a_failing_fetch_leaves_the_previous_snapshot(dataset, tmp_path):
    out = tmp_path / "snap"
    with sim_for(dataset) as sim:
        r = cli("--server", sim.url, "--out", str(out), "--days", "3", "--quiet")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"wrote {out}") and "Connect 2026.06.0" in r.stdout
        before = digest(out)
        bad = cli("--server", sim.url, "--out", str(out), "--days", "3", key="wrong-key")
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: ") and "CONNECT_API_KEY" in bad.stderr
    assert "wrong-key" not in bad.stderr + bad.stdout
    assert digest(out) == before
    # the server goes away: one line, non-zero, snapshot untouched, no temporary left behind
    gone = cli("--server", sim.url, "--out", str(out), "--days", "3")
    assert gone.returncode == 1 and gone.stderr.count("\n") == 1 and "Traceback" not in gone.stderr
    assert "cannot reach" in gone.stderr
    assert digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]
    for name in (r.stdout, r.stderr, *(p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*"))):
        assert KEY not in name


def test_the_key_is_in_no_file_and_no_log_line(dataset, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with sim_for(dataset, faults={"503": 0.05}) as sim:
        fetch(sim, tmp_path / "snap", days=3)
    assert "GET" in caplog.text
    assert KEY not in caplog.text
    for p in (tmp_path / "snap").rglob("*"):
        assert KEY.encode() not in p.read_bytes()


def test_bad_key_and_foreign_directories_fail_cleanly(dataset, tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("precious")
    with sim_for(dataset) as sim:
        with pytest.raises(AuthError):
            fetch(sim, tmp_path / "x", key="nope")
        with pytest.raises(ConfigError, match="not a connect-analysis snapshot"):
            fetch(sim, foreign)
        with pytest.raises(ConfigError, match="--days"):
            fetch(sim, tmp_path / "y", days=0)
    assert (foreign / "notes.txt").read_text() == "precious"
    assert not (tmp_path / "x").exists()


# --- lenient parsing ----------------------------------------------------------------------


def odd_server():
    """A few hand-written responses in the odd shapes real servers and fixtures show."""
    content = [
        {"guid": "c1", "id": 583, "name": "a", "title": None, "app_mode": "brand-new-mode", "bundle_id": 401171,
         "created_time": "2020-02-23T20:28:20Z", "last_deployed_time": "2024-02-24T09:56:30.123456+02:00",
         "owner": None, "tags": None, "some_future_field": {"x": 1}, "locked": None},
        {"guid": "c2", "id": "584", "name": "b", "title": "B", "app_mode": "shiny", "bundle_id": None,
         "created_time": "2023-07-24T18:49:28.584906476Z", "last_deployed_time": None,
         "owner": {"username": "bob"}, "tags": [{"id": 7, "name": "t"}]},
    ]
    visits = [
        {"content_guid": "c1", "user_guid": None, "time": "2026-02-27T10:00:00Z", "rendering_id": 7,
         "bundle_id": 33, "data_version": 1, "path": None, "variant_key": None, "extra": True},
        {"content_guid": "c1", "user_guid": "u1", "time": "2026-02-28T05:00:00-05:00", "rendering_id": "8",
         "bundle_id": "34", "data_version": "3"},
        {"content_guid": "c2", "user_guid": "u1", "time": "2026-02-28T11:59:59.999999999Z"},
    ]
    sessions = [{"content_guid": "c2", "user_guid": None, "started": "2026-02-28T00:00:00.5Z", "ended": None,
                 "data_version": 1}]

    def route(h):
        path = urlsplit(h.path).path.removeprefix("/__api__/")
        answers = {
            "server_settings": {"version": "2023.09.0"},
            "v1/user": {"user_role": "administrator", "guid": 5},
            # a third item as raw text: 1e400 is valid JSON beyond a double, 0001-01-01 is Go's zero time
            "v1/content": json.dumps(content)[:-1] + ', {"guid": "c3", "id": 1e400, "name": "c", '
                          '"created_time": "0001-01-01T00:00:00Z", "last_deployed_time": 1e12}]',  # year 33658
            "v1/content/c1/bundles": [{"id": 401171, "content_guid": "c1", "created_time":
                                       "2006-01-02T15:04:05Z07:00", "active": True, "size": 1000}],
            "v1/content/c2/bundles": [],
            "v1/content/c3/bundles": [],
            "v1/users": {"results": [{"guid": "u1", "username": "u", "active_time": None}], "total": None,
                         "current_page": None},
            "v1/tags": [{"id": 7, "name": "t", "parent_id": None}],
            "v1/vanities": [],
            "v1/server_settings/r": {"installations": [{"version": "4.3.2"}]},
            "v1/server_settings/python": {"installations": None},
            "v1/environments": [{"guid": "e1", "id": 1, "python": None, "r": {"installations": []}}],
            "v1/system/caches/runtime": {"caches": [{"language": "Python", "version": "3.11.3"}]},
            "v1/instrumentation/content/visits": {"results": visits},  # no paging object at all
            "v1/instrumentation/shiny/usage": {"results": sessions, "paging": {"cursors": None, "next": None}},
        }
        if path == "v1/groups":
            h.send_json({"code": 25, "error": "Groups are not enabled", "payload": None}, 400)
        elif isinstance(answers.get(path), str):
            h.send_text(answers[path], ctype="application/json")
        elif path in answers:
            h.send_json(answers[path])
        else:
            h.send_text("404 page not found", 404)
    return route


def test_odd_shapes_are_accepted(tmp_path):
    with serve(odd_server()) as srv:
        m = fetch_snapshot(server=srv.url + "/__api__", out=tmp_path / "s", api_key=KEY, days=7,
                           now=pd.Timestamp("2026-03-01T00:00:00Z").to_pydatetime())
    snap = load_snapshot(tmp_path / "s")
    c = snap.content.set_index("guid")
    assert c.loc["c1", "app_mode"] == "brand-new-mode" and c.loc["c1", "id"] == "583"
    assert c.loc["c1", "bundle_id"] == "401171" and pd.isna(c.loc["c2", "bundle_id"])
    assert c.loc["c1", "last_deployed_time"] == pd.Timestamp("2024-02-24T07:56:30.123456Z")
    assert c.loc["c2", "created_time"] == pd.Timestamp("2023-07-24T18:49:28.584906476Z")
    assert c.loc["c2", "owner_username"] == "bob"
    assert pd.isna(c.loc["c3", "created_time"]) and pd.isna(c.loc["c3", "last_deployed_time"])  # out of range
    assert c.loc["c3", "id"] == "inf"
    assert list(snap.content_tags["tag_id"]) == ["7"]
    v = snap.visits
    assert list(v["rendering_id"]) == ["7", "8", pd.NA] or list(v["rendering_id"].fillna("-")) == ["7", "8", "-"]
    assert list(v["time"]) == [pd.Timestamp("2026-02-27T10:00:00Z"), pd.Timestamp("2026-02-28T10:00:00Z"),
                               pd.Timestamp("2026-02-28T11:59:59.999999999Z")]
    assert list(v["data_version"].fillna(-1)) == [1, 3, -1]
    assert len(snap.shiny_sessions) == 1 and pd.isna(snap.shiny_sessions["ended"][0])
    assert snap.bundles["size"].tolist() == [1000] and snap.content_storage["bytes_active"].sum() == 1000
    assert snap.runtime_caches["language"].tolist() == ["python"]
    assert snap.server_runtimes["version"].tolist() == ["4.3.2"]
    assert "Groups are not enabled" in m["unavailable"]["groups"]
    assert "2024.11.0" in m["unavailable"]["packages"]
    assert "environment_runtimes" not in m["unavailable"] and len(snap.environments) == 1


def test_slices_cover_the_window_on_whole_seconds():
    start = pd.Timestamp("2026-01-01T00:00:00Z").to_pydatetime()
    end = start + timedelta(days=90)
    parts = slices(start, end, 32)
    assert parts[0][0] == start and parts[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
    assert all(lo.microsecond == 0 and lo < hi for lo, hi in parts)
    assert slices(start, start, 8) == [(start, start)]


# --- window, progress, documentation -------------------------------------------------------


def test_since_sets_the_window_start(dataset, tmp_path):
    with sim_for(dataset) as sim:
        m = fetch(sim, tmp_path / "a", since="2026-02-20")
        r = cli("--server", sim.url, "--out", str(tmp_path / "b"), "--since", "2026-02-25T06:00:00+02:00",
                "--quiet")
        bad = cli("--server", sim.url, "--out", str(tmp_path / "c"), "--since", "next tuesday")
    assert m["window"] == {"start": "2026-02-20T00:00:00Z", "end": "2026-03-01T12:00:00Z"}
    v = load_snapshot(tmp_path / "a").visits
    assert v["time"].min() >= pd.Timestamp("2026-02-20T00:00:00Z")
    in_window = (dataset.visit_log.time >= pd.Timestamp("2026-02-20T00:00:00Z").timestamp()) & \
        (dataset.visit_log.time <= dataset.now.timestamp())
    assert len(v) == int(in_window.sum())
    assert r.returncode == 0, r.stderr
    assert load_snapshot(tmp_path / "b").manifest["window"]["start"] == "2026-02-25T04:00:00Z"
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "--since" in bad.stderr
    assert not (tmp_path / "c").exists()


def cli_on_a_terminal(*args) -> str:
    """Run `connect-analysis fetch` with stderr on a pseudo-terminal; returns what it drew there."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a real terminal's size
    env = {**os.environ, "CONNECT_API_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "connect_analysis.cli", "fetch", *args],
                            stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        proc.wait(timeout=60)
        os.close(leader)
    assert proc.returncode == 0, out
    return out.decode("utf-8", "replace")


def test_progress_bars_on_a_terminal_and_quiet_otherwise(dataset, tmp_path):
    with sim_for(dataset, connect_version="2024.09.0") as sim:  # per-item bundles: every bar
        drawn = cli_on_a_terminal("--server", sim.url, "--out", str(tmp_path / "a"), "--days", "10")
        quiet = cli_on_a_terminal("--server", sim.url, "--out", str(tmp_path / "b"), "--days", "10", "--quiet")
        piped = cli("--server", sim.url, "--out", str(tmp_path / "c"), "--days", "10")
    for step in ("bundles", "visits", "shiny sessions"):
        assert step in drawn, step
    assert f"/{len(dataset.content)} [" in drawn  # the bundles bar counts items
    assert "bundles" not in quiet and "visits" not in quiet
    assert piped.returncode == 0 and piped.stderr == ""  # not a terminal: no bars
    assert KEY not in drawn


def test_readme_documents_every_snapshot_table_and_column():
    import re

    root = Path(__file__).resolve().parents[1]
    sections = [(root / "docs" / "reference" / "snapshot-tables.qmd").read_text(),
                (root / "docs/reference/jobs-dataset.qmd").read_text()]  # the jobs table, new content columns
    for name, columns in schema.TABLES.items():
        found = [m.group(1) for section in sections for m in re.finditer(
            r"\*\*" + re.escape(name) + r"\.parquet\*\*(.*?)(?=\n\*\*|\n#|\Z)", section, re.S)]
        assert found, f"{name}.parquet is not documented"
        missing = [c for c in columns if f"`{c}`" not in "".join(found)]
        assert not missing, f"{name}.parquet: columns not documented: {missing}"
