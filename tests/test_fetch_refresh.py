"""Incremental refresh (connect_analysis/refresh.py) against the simulator: a refresh equals a
fresh full fetch with the same window end, reads only what changed, and keeps unchanged files."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pyarrow.parquet as pq
from test_fetch import assert_same_tables, digest, fetch, sim_for

from connect_analysis import schema
from connect_analysis.api.content import DIGESTS, ContentList
from connect_analysis.refresh import file_metadata, previous_content_list
from connect_analysis.snapshot import load_snapshot
from connect_simulator import generate_dataset


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
    listed = previous_content_list(snap.content, snap.content_tags, file_metadata(tmp_path / "snap" / "content.parquet"))
    assert listed is not None and len(listed.digests) == len(snap.content)


def test_content_digests_are_reused_only_as_written(tmp_path):
    content = pd.DataFrame({"guid": ["a", "b"]})
    tags = schema.empty("content_tags")
    written = ContentList(content, tags, [b"1" * 16, b"2" * 16]).metadata()
    meta = {k.encode(): v.encode() for k, v in written.items()}
    assert previous_content_list(content, tags, meta).digests == [b"1" * 16, b"2" * 16]
    assert previous_content_list(content.iloc[:1], tags, meta) is None  # not one digest per row
    assert previous_content_list(pd.DataFrame({"guid": ["a", "a"]}), tags, meta) is None  # guids repeat
    other = {DIGESTS.encode(): b"0.0.1|guid\n" + meta[DIGESTS.encode()].split(b"\n", 1)[1]}
    assert previous_content_list(content, tags, other) is None  # another kit version's decoding
    assert previous_content_list(content, tags, {DIGESTS.encode(): meta[DIGESTS.encode()] + b"!"}) is None
    assert previous_content_list(content, tags, {}) is None


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
