"""Issue 18, "Tracebacks where one line is due": malformed answers, options and snapshots.
Each gives one `error:` line (non-zero exit) or a sound result, never a traceback, and
the snapshot in harm's way is unchanged."""

from __future__ import annotations

import json
import os
import shutil

import odd_servers as odd
import pytest
from hostile import case, fetch_bounded, intact
from loopback import serve
from rel_suite import FIGURES, KEY, SINCE, assert_one_line, leftovers, tree_hash

from connect_analysis.snapshot import load_snapshot


@pytest.mark.parametrize("location, words", [
    ("file:///etc/passwd", ["will not follow", "file://"]),
    ("ftp://127.0.0.1/x", ["will not follow", "ftp://"]),
    ("http://[::1/x", ["will not follow", "not a valid URL"]),
    ("http://127.0.0.1:99999/x", ["will not follow", "not a valid URL"]),
], ids=["file", "ftp", "bad-ipv6", "bad-port"])
@case("redirects to file://, ftp://, a bad IPv6 host or port")
def test_redirects_the_kit_will_not_follow(kit, snapshot_copy, location, words):
    FIGURES.tried(f"redirect to {location}")
    with serve(lambda h: h.send_text("", 302, headers={"Location": location})) as srv:
        run, before, _ = fetch_bounded(kit, snapshot_copy, srv.url)
    assert_one_line(run, *words)
    intact(snapshot_copy, before)


@case("JSON nested 100,000 deep")
def test_json_nested_too_deep(kit, snapshot_copy):
    FIGURES.tried("JSON nested 100,000 deep")
    body = b'{"version": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with serve(lambda h: odd.send_bytes(h, 200, body)) as srv:
        run, before, _ = fetch_bounded(kit, snapshot_copy, srv.url)
    assert_one_line(run, "nested too deeply")
    intact(snapshot_copy, before)


def with_sim(simulators, demo_dataset, version="2026.06.0"):
    return simulators(demo_dataset, connect_version=version)


def content_change(change):
    def apply(items, h):
        change(items)
        return items
    return apply


def fetch_through(kit, sim, path_part, change, *more):
    with odd.tampering(sim.url, odd.rewriting(sim.url, path_part, change)) as proxy:
        snap = kit.base / "snap"
        run, _, _ = fetch_bounded(kit, snap, proxy.url, *more)
    return run, snap


@case("numbers beyond a double (1e400) in totals and sizes")
def test_numbers_beyond_a_double(kit, simulators, demo_dataset):
    FIGURES.tried("1e400 in totals and sizes")
    sim = with_sim(simulators, demo_dataset, "2022.11.0")  # bundle sizes are read

    def tamper(h):
        path = h.path.split("?")[0]
        if path.endswith("/v1/users") or path.endswith("/bundles"):
            status, _, body = odd.forward(h, sim.url)
            text = body.decode()
            text = text.replace('"total": 80', '"total": 1e400')
            text = text.replace('"size": ', '"size": 1e400, "was": ', 1)
            odd.send_bytes(h, status, text.encode())
            return True
        return False
    with odd.tampering(sim.url, tamper) as proxy:
        snap = kit.base / "snap"
        run, _, _ = fetch_bounded(kit, snap, proxy.url)
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)
    manifest = json.loads((snap / "manifest.json").read_text())
    assert manifest["row_counts"]["users"] == len(demo_dataset.users)
    run = kit("analyze", snap, "--out", kit.base / "analysis")
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)


@case("the same item listed twice")
def test_the_same_item_listed_twice(kit, simulators, demo_dataset):
    FIGURES.tried("content item listed twice")
    sim = with_sim(simulators, demo_dataset)
    run, snap = fetch_through(kit, sim, "/v1/content", content_change(lambda items: items.extend(items[:3])))
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)
    assert "warning: the server listed 3 content item(s) more than once" in run.stderr
    manifest = json.loads((snap / "manifest.json").read_text())
    assert manifest["row_counts"]["content"] == len(demo_dataset.content)
    run = kit("analyze", snap, "--out", kit.base / "analysis")
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)


@case("every last_deployed_time null")
def test_every_last_deployed_time_null(kit, simulators, demo_dataset):
    FIGURES.tried("every last_deployed_time null")
    sim = with_sim(simulators, demo_dataset)

    def change(items):
        for item in items:
            item["last_deployed_time"] = None
    run, snap = fetch_through(kit, sim, "/v1/content", content_change(change))
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)
    run = kit("report", "--snapshot", snap, "--out", kit.base / "report")
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)


@case("a package without name or language")
def test_a_package_without_name_or_language(kit, simulators, demo_dataset):
    FIGURES.tried("package without name or language")
    sim = with_sim(simulators, demo_dataset)

    def change(body, h):
        rows = body["results"] if isinstance(body, dict) else body
        for row in rows[:5]:
            row.pop("name", None)
            row["language"] = None
        return body
    run, snap = fetch_through(kit, sim, "/v1/packages", change)
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)
    run = kit("analyze", snap, "--out", kit.base / "analysis")
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)


@case("invalid UTF-8 in a title")
def test_invalid_utf8_in_a_title(kit, simulators, demo_dataset):
    FIGURES.tried("invalid UTF-8 in a title")
    sim = with_sim(simulators, demo_dataset)

    def change(items, h):
        items[0]["title"] = "MARK-A MARK-B"
        return json.dumps(items).encode().replace(b"MARK-A", b"caf\xe9 \xff\xfe").replace(b"MARK-B", b"\xc3(")
    run, snap = fetch_through(kit, sim, "/v1/content", change)
    assert run.returncode == 0 and "Traceback" not in run.stderr, str(run)
    manifest = json.loads((snap / "manifest.json").read_text())
    assert manifest["invalid_utf8_replaced"] == 4
    titles = load_snapshot(snap).content["title"]
    assert (titles == "caf\ufffd \ufffd\ufffd \ufffd(").sum() == 1


@pytest.mark.parametrize("out, words", [
    (".", ["not a connect-analysis snapshot"]),
    ("x" * 300, ["--out", "at most 255"]),
], ids=["dot", "300-characters"])
@case("--out ., a 300-character or non-UTF-8 --out")
def test_odd_out_paths(kit, simulators, demo_dataset, out, words):
    FIGURES.tried(f"--out {out[:10]}")
    sim = with_sim(simulators, demo_dataset)
    before = tree_hash(kit.base / "home")
    run = kit("fetch", "--server", sim.url, "--out", out, "--since", SINCE)
    assert_one_line(run, *words)
    assert tree_hash(kit.base / "home") == before
    assert leftovers(kit.base, {"home"}) == []


@case("--out ., a 300-character or non-UTF-8 --out")
def test_a_non_utf8_out_is_refused(kit, simulators, demo_dataset, snapshot_copy):
    FIGURES.tried("--out non-UTF-8")
    sim = with_sim(simulators, demo_dataset)
    name = os.fsdecode(b"snap-\xff\xfe")
    run = kit("fetch", "--server", sim.url, "--out", name, "--since", SINCE)
    assert_one_line(run, "--out", "not valid UTF-8")
    before = tree_hash(snapshot_copy)
    run = kit("report", "--snapshot", snapshot_copy, "--out", os.fsdecode(b"report-\xff"))
    assert_one_line(run, "--out", "not valid UTF-8")
    run = kit("analyze", snapshot_copy, "--out", os.fsdecode(b"analysis-\xff"))
    assert_one_line(run, "--out", "not valid UTF-8")
    intact(snapshot_copy, before)


@pytest.mark.parametrize("field, value", [("unavailable", ["visits"]), ("unavailable", "visits"),
                                          ("sources", ["x"])], ids=["unavailable-list", "unavailable-string",
                                                                    "sources-list"])
@case("a hand-edited manifest.json")
def test_a_hand_edited_manifest(kit, snapshot_copy, simulators, demo_dataset, field, value):
    FIGURES.tried(f"manifest {field} = {value!r}")
    manifest = json.loads((snapshot_copy / "manifest.json").read_text())
    manifest[field] = value
    (snapshot_copy / "manifest.json").write_text(json.dumps(manifest))
    before = tree_hash(snapshot_copy)
    run = kit("analyze", snapshot_copy, "--out", kit.base / "analysis")
    assert_one_line(run, "manifest.json", field)
    run = kit("report", "--snapshot", snapshot_copy, "--out", kit.base / "report")
    assert_one_line(run, "manifest.json", field)
    sim = with_sim(simulators, demo_dataset)
    run, _, _ = fetch_bounded(kit, snapshot_copy, sim.url)
    assert_one_line(run, "manifest.json", field)
    intact(snapshot_copy, before, keep={"analysis", "report"} & {p.name for p in kit.base.iterdir()})


@pytest.mark.parametrize("args, words", [
    (["--days", "1000000"], ["--days"]),
    (["--since", "0000-01-01"], ["--since"]),
    (["--server", "http://127.0.0.1:99999"], ["--server", "port"]),
    (["--server", "abc"], ["--server", "http(s) URL"]),
    (["--server", "http://[::1"], ["--server"]),
    (["--server", "http://connect example.com"], ["--server"]),
], ids=["days-1000000", "since-year-0", "port-99999", "abc", "ipv6-unclosed", "space"])
@case("--days, --since and --server out of range or malformed")
def test_options_out_of_range(kit, snapshot_copy, simulators, demo_dataset, args, words):
    FIGURES.tried(f"option {' '.join(args)}")
    sim = with_sim(simulators, demo_dataset)
    before = tree_hash(snapshot_copy)
    full = (["--server", sim.url] if "--server" not in args else []) + args
    if "--since" not in args and "--days" not in args:
        full += ["--since", SINCE]
    run = kit("fetch", "--out", snapshot_copy, *full)
    line = assert_one_line(run, *words, exit_code=None)
    assert run.returncode in (1, 2) and KEY not in line
    intact(snapshot_copy, before)


@case("users.parquet copied over content.parquet")
def test_a_table_file_holding_another_table(kit, snapshot_copy):
    FIGURES.tried("users.parquet over content.parquet")
    shutil.copyfile(snapshot_copy / "users.parquet", snapshot_copy / "content.parquet")
    before = tree_hash(snapshot_copy)
    run = kit("analyze", snapshot_copy, "--out", kit.base / "analysis")
    assert_one_line(run, "content.parquet", "users")
    run = kit("report", "--snapshot", snapshot_copy, "--out", kit.base / "report")
    assert_one_line(run, "content.parquet", "users")
    assert tree_hash(snapshot_copy) == before
