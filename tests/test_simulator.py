"""The simulated Connect server: generated data, auth, errors, roles, version gating,
faults and the request log. Real HTTP on loopback throughout."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import requests

from connect_simulator import generate_dataset, start_simulator

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ADMIN = "admin-key"


@pytest.fixture(scope="module")
def sim():
    with start_simulator(scenario="demo", api_key=ADMIN, seed=1, now=NOW) as s:
        yield s


def get(sim, path, key=ADMIN, **params):
    headers = {"Authorization": f"Key {key}"} if key else {}
    return requests.get(sim.url + path, headers=headers, params=params, timeout=10)


# -- generated data -----------------------------------------------------------------------

def test_generation_is_deterministic_for_seed_and_clock():
    a, b = generate_dataset("demo", seed=7, now=NOW), generate_dataset("demo", seed=7, now=NOW)
    assert a.content["guid"].tolist() == b.content["guid"].tolist()
    assert a.visits.equals(b.visits) and a.shiny_sessions.equals(b.shiny_sessions)
    c = generate_dataset("demo", seed=8, now=NOW)
    assert c.content["guid"].tolist() != a.content["guid"].tolist()


def test_generated_data_has_the_traits_of_a_real_server(sim):
    ds = sim.dataset
    c = ds.content
    never = c[c["app_mode"] == "unknown"]
    assert len(never) and never["bundle_id"].isna().all() and never["r_version"].isna().all()
    assert {"shiny", "rmd-static", "quarto-static", "python-fastapi", "static"} <= set(c["app_mode"])
    r = set(c["r_version"].dropna())
    assert any(v.startswith("3.") for v in r) and any(v.startswith("4.4") for v in r)
    assert c["run_as"].notna().any() and c["run_as_current_user"].any()
    assert any(t and any(ord(ch) > 127 for ch in t) for t in c["title"].dropna())
    assert any("<" in t or "&" in t for t in c["title"].dropna())
    # exactly one active bundle per deployed item, and it is the item's bundle_id
    active = ds.bundles[ds.bundles["active"]]
    deployed = c[c["bundle_id"].notna()]
    assert sorted(active["content_guid"]) == sorted(deployed["guid"])
    assert dict(zip(active["content_guid"], active["id"], strict=True)) == dict(
        zip(deployed["guid"], deployed["bundle_id"], strict=True))
    assert ds.bundles.groupby("content_guid").size().max() > 1
    assert len(ds.vanities) and len(ds.content_tags)
    v, s = ds.visits, ds.shiny_sessions
    assert v["user_guid"].isna().any()  # anonymous visits
    assert s["ended"].isna().any() and (s["ended"] > s["started"]).sum() == s["ended"].notna().sum()
    assert set(ds.deleted_content_guids) & set(v["content_guid"])  # usage of deleted content
    assert v["time"].min() >= NOW.replace(year=2025) and v["time"].max() <= NOW
    r_pkgs = set(ds.packages.loc[ds.packages["language"] == "r", "name"])
    py_pkgs = set(ds.packages.loc[ds.packages["language"] == "python", "name"])
    assert {"sf", "rgdal", "terra", "xml2", "curl", "openssl", "RPostgres", "odbc", "rJava", "magick",
            "textshaping", "ragg"} <= r_pkgs
    assert {"psycopg2", "mysqlclient", "pyodbc", "GDAL", "lxml"} <= py_pkgs
    assert set(ds.packages["content_guid"]) <= set(c.loc[c["r_version"].notna() | c["py_version"].notna(), "guid"])
    # popularity is skewed: the top item has many times the median's visits
    counts = v["content_guid"].value_counts()
    assert counts.iloc[0] > 10 * counts.median()


# -- auth, errors, read-only ----------------------------------------------------------------

def test_auth_errors(sim):
    r = get(sim, "/__api__/v1/content", key=None)
    assert r.status_code == 401 and r.json() == {
        "code": 24, "error": "The requested operation requires authentication.", "payload": None}
    r = get(sim, "/__api__/v1/content", key="wrong")
    assert r.status_code == 401 and r.json()["code"] == 30
    r = requests.get(sim.url + "/__api__/v1/content", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10)
    assert r.status_code == 401 and r.json()["code"] == 24
    assert get(sim, "/__ping__", key=None).json() == {}
    assert get(sim, "/__api__/server_settings", key=None).json()["version"] == "2026.06.0"


def test_unknown_route_and_missing_object(sim):
    r = get(sim, "/__api__/v1/no/such/thing")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/plain")
    assert r.text == "404 page not found"
    r = get(sim, "/__api__/v1/content/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and r.json()["code"] == 4


def test_every_non_get_request_is_refused_and_logged(sim):
    sim.clear_log()
    guid = sim.dataset.content["guid"].iloc[0]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = requests.request(method, f"{sim.url}/__api__/v1/content/{guid}",
                             headers={"Authorization": f"Key {ADMIN}"}, json={"title": "x"}, timeout=10)
        assert r.status_code == 405 and r.json()["code"] == 2
    log = sim.request_log
    assert [(m, s) for m, _, s in log] == [("POST", 405), ("PUT", 405), ("PATCH", 405), ("DELETE", 405)]
    assert get(sim, f"/__api__/v1/content/{guid}").json()["title"] == sim.dataset.content["title"].iloc[0]


# -- content --------------------------------------------------------------------------------

def test_content_list_matches_dataset_and_uses_own_base_url(sim):
    items = get(sim, "/__api__/v1/content", include="tags,owner,vanity_url").json()
    ds = sim.dataset
    assert [i["guid"] for i in items] == ds.content["guid"].tolist()
    by_guid = {i["guid"]: i for i in items}
    row = ds.content.iloc[3]
    item = by_guid[row["guid"]]
    assert item["content_url"] == f"{sim.url}/content/{row['guid']}/"
    assert item["r_version"] == (row["r_version"] if isinstance(row["r_version"], str) else None)
    assert isinstance(item["id"], str) and item["created_time"].endswith("Z")
    van = ds.vanities.iloc[0]
    assert by_guid[van["content_guid"]]["vanity_url"] == sim.url + van["path"]
    owner = ds.users.set_index("guid").loc[row["owner_guid"]]
    assert item["owner"]["username"] == owner["username"]
    tagged = ds.content_tags.iloc[0]
    assert tagged["tag_id"] in [t["id"] for t in by_guid[tagged["content_guid"]]["tags"]]
    one = get(sim, "/__api__/v1/content", name=row["name"], owner_guid=row["owner_guid"]).json()
    assert [i["guid"] for i in one] == [row["guid"]]


def test_repeated_content_lists_answer_per_key_and_include():
    # the unfiltered list is served from a per-(key, include) cache: answers must not mix
    with start_simulator(api_key=ADMIN, seed=1, now=NOW) as s:
        first = {(who, inc): get(s, "/__api__/v1/content", key=key, **({"include": inc} if inc else {})).json()
                 for who, key in (("admin", ADMIN), ("viewer", s.keys["viewer"]),
                                  ("publisher", s.keys["publisher"]))
                 for inc in ("", "owner", "tags,owner,vanity_url")}
        again = {(who, inc): get(s, "/__api__/v1/content", key=key, **({"include": inc} if inc else {})).json()
                 for who, key in (("viewer", s.keys["viewer"]), ("admin", ADMIN),
                                  ("publisher", s.keys["publisher"]))
                 for inc in ("tags,owner,vanity_url", "", "owner")}
        guid = s.dataset.content["guid"].iloc[0]
        s.dataset.set_title(guid, "Edited & reloaded")
        s.reload()  # a new state: the cached lists go with the old one
        assert get(s, "/__api__/v1/content").json()[0]["title"] == "Edited & reloaded"
    assert again == first
    assert len(first["admin", ""]) == len(s.dataset.content) > len(first["viewer", ""])
    assert "owner" not in first["admin", ""][0] and "owner" in first["admin", "owner"][0]
    assert "tags" in first["viewer", "tags,owner,vanity_url"][0]
    assert all(i["r_version"] is None for i in first["viewer", "owner"])
    assert {i["app_role"] for i in first["publisher", ""]} >= {"owner"}


def test_bundles_newest_first_with_sizes(sim):
    ds = sim.dataset
    guid = ds.bundles["content_guid"].value_counts().index[0]
    got = get(sim, f"/__api__/v1/content/{guid}/bundles").json()
    want = ds.bundles[ds.bundles["content_guid"] == guid]
    assert [b["id"] for b in got] == sorted(want["id"], key=int, reverse=True)
    assert sum(b["size"] for b in got) == int(want["size"].sum())
    assert [b["active"] for b in got].count(True) == 1


# -- roles ----------------------------------------------------------------------------------

def test_viewer_sees_no_runtimes_and_no_usage(sim):
    from connect_simulator.api import RUNTIME_FIELDS

    key = sim.keys["viewer"]
    items = get(sim, "/__api__/v1/content", key=key).json()
    admin = {i["guid"]: i for i in get(sim, "/__api__/v1/content").json()}
    assert items and all(i[f] is None for i in items for f in RUNTIME_FIELDS)
    # the same items have runtimes for the administrator: it is the role that hides them
    for field in ("r_version", "py_version", "quarto_version", "cluster_name", "r_environment_management"):
        assert any(admin[i["guid"]][field] is not None for i in items), field
    assert [i["title"] for i in items] == [admin[i["guid"]]["title"] for i in items]
    deployed = next(i["guid"] for i in items if admin[i["guid"]]["r_version"])
    bundles = get(sim, f"/__api__/v1/content/{deployed}/bundles", key=key).json()
    assert bundles and all(b["r_version"] is None and b["image_name"] is None for b in bundles)
    assert any(b["r_version"] for b in get(sim, f"/__api__/v1/content/{deployed}/bundles").json())
    r = get(sim, "/__api__/v1/instrumentation/content/visits", key=key)
    assert r.status_code == 403 and r.json()["code"] == 22
    assert get(sim, "/__api__/v1/system/caches/runtime", key=key).status_code == 403


def test_publisher_sees_own_usage_only(sim):
    key = sim.keys["publisher"]
    me = get(sim, "/__api__/v1/user", key=key).json()
    assert me["user_role"] == "publisher"
    own = set(sim.dataset.content.loc[sim.dataset.content["owner_guid"] == me["guid"], "guid"])
    assert own
    seen = set()
    url, params = "/__api__/v1/instrumentation/content/visits", {"limit": 500}
    body = get(sim, url, key=key, **params).json()
    while True:
        seen |= {v["content_guid"] for v in body["results"]}
        if "next" not in body["paging"]:
            break
        body = requests.get(body["paging"]["next"], headers={"Authorization": f"Key {key}"}, timeout=10).json()
    assert seen and seen <= own
    items = {i["guid"]: i for i in get(sim, "/__api__/v1/content", key=key).json()}
    mine = [items[g] for g in own]
    assert all(i["app_role"] == "owner" for i in mine)
    assert any(i["r_version"] or i["py_version"] for i in mine)


# -- version gating -------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2022.11.0", "2023.09.0", "2024.09.0", "2025.04.0", "2026.06.0"])
def test_version_gating(version):
    with start_simulator(api_key=ADMIN, connect_version=version, seed=1, now=NOW) as s:
        v = tuple(int(p) for p in version.split("."))

        def exists(path, **params):
            r = get(s, path, **params)
            if r.status_code == 404:
                assert r.text == "404 page not found"
            return r.status_code == 200

        assert get(s, "/__api__/server_settings").json()["version"] == version
        assert exists("/__api__/v1/search/content") == (v >= (2024, 4))
        assert exists("/__api__/v1/environments") == (v >= (2023, 5))
        assert exists("/__api__/v1/instrumentation/content/hits") == (v >= (2025, 4))
        assert exists("/__api__/v1/packages") == (v >= (2024, 11))
        guid = s.dataset.content.loc[s.dataset.content["bundle_id"].notna(), "guid"].iloc[0]
        assert exists(f"/__api__/v1/content/{guid}/packages") == (v >= (2024, 11))
        assert exists("/__api__/v1/system/storage") == (v >= (2026, 6))
        assert exists("/__api__/v1/content/storage") == (v >= (2026, 6))
        assert exists(f"/__api__/v1/content/{guid}/storage") == (v >= (2026, 6))
        assert exists("/__api__/v1/instrumentation/content/visits")  # always there
        one = get(s, f"/__api__/v1/content/{guid}").json()
        assert ("locked" in one) == (v >= (2024, 8))
        assert ("environment_guid" in one) == (v >= (2025, 9))
        r = get(s, "/__api__/v1/content", include="vanity_url")
        if v >= (2024, 6):
            assert r.status_code == 200
        else:
            assert r.status_code == 400 and r.json()["code"] == 161
        lic = get(s, "/__api__/server_settings").json()["license"]
        assert isinstance(lic["users"], int if v >= (2024, 1) else str)
        # the same data whatever the version: only gating differs
        items = get(s, "/__api__/v1/content", include="owner").json()
        assert [(i["guid"], i["r_version"], i["py_version"]) for i in items] == [
            (g, r if isinstance(r, str) else None, p if isinstance(p, str) else None)
            for g, r, p in s.dataset.content[["guid", "r_version", "py_version"]].itertuples(index=False)]


# -- users and groups paging ----------------------------------------------------------------

def test_users_offset_paging(sim):
    assert get(sim, "/__api__/v1/users", page_size=501).status_code == 400
    assert get(sim, "/__api__/v1/users", page_number=0).status_code == 400
    seen, page = [], 1
    while True:
        body = get(sim, "/__api__/v1/users", page_number=page, page_size=25).json()
        assert body["current_page"] == page and body["total"] == len(sim.dataset.users)
        if not body["results"]:
            break
        seen += [u["guid"] for u in body["results"]]
        page += 1
    assert sorted(seen) == sorted(sim.dataset.users["guid"])
    groups = get(sim, "/__api__/v1/groups", page_size=500).json()
    assert groups["total"] == len(sim.dataset.groups)


# -- faults and latency ---------------------------------------------------------------------

def _statuses(faults, n=40):
    with start_simulator(api_key=ADMIN, faults=faults, seed=3, now=NOW, retry_after=1) as s:
        out = []
        for _ in range(n):
            try:
                r = get(s, "/__api__/v1/tags")
                out.append((r.status_code, r.headers.get("Retry-After")))
                if r.status_code == 200:
                    assert len(r.json()) == len(s.dataset.tags)  # never corrupted
            except requests.exceptions.RequestException:
                out.append(("dropped", None))
        return out, s.request_log


def test_faults_are_deterministic_and_shaped_like_real_failures():
    a, log = _statuses({"503": 0.2, "429": 0.2, "drop": 0.2})
    b, _ = _statuses({"503": 0.2, "429": 0.2, "drop": 0.2})
    assert a == b
    kinds = {s for s, _ in a}
    assert {200, 503, 429, "dropped"} <= kinds
    assert all(ra == "1" for s, ra in a if s == 429)
    assert sum(1 for _, _, s in log if s == 0) == sum(1 for s, _ in a if s == "dropped")


def test_dropped_connection_sends_part_of_a_promised_body():
    import socket
    with start_simulator(api_key=ADMIN, faults={"drop": 1.0}, now=NOW) as s:
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as conn:
            conn.sendall(f"GET /__api__/v1/tags HTTP/1.1\r\nHost: x\r\nAuthorization: Key {ADMIN}\r\n\r\n".encode())
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0].split(b":")[1])
        assert 0 < len(body) < length


def test_latency_is_added_per_request():
    with start_simulator(api_key=ADMIN, latency_ms=80, now=NOW) as s:
        t = time.perf_counter()
        get(s, "/__ping__")
        assert time.perf_counter() - t >= 0.08


def test_hand_edited_titles_are_served_verbatim():
    ds = generate_dataset("demo", seed=1, now=NOW)
    guid = ds.content["guid"].iloc[0]
    nasty = "<script>alert(1)</script>\u202e\x07" + "é" * 5000
    ds.set_title(guid, nasty)
    ds.set_username(ds.users["guid"].iloc[0], "<b>root</b>")
    ds.set_tag_name(ds.tags["id"].iloc[1], "\u05e9\u05dc\u05d5\u05dd & <tag>")
    with start_simulator(api_key=ADMIN, dataset=ds) as s:
        assert get(s, f"/__api__/v1/content/{guid}").json()["title"] == nasty
        assert get(s, "/__api__/v1/user").json()["username"] == "<b>root</b>"
        assert get(s, "/__api__/v1/tags").json()[1]["name"] == "\u05e9\u05dc\u05d5\u05dd & <tag>"


def test_cli_simulate_serves_until_ctrl_c():
    import signal
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("connect-analysis")
    proc = subprocess.Popen([str(exe), "simulate", "--port", "0", "--api-key", "cli-secret-key",
                             "--connect-version", "2024.09.0", "--seed", "2", "--latency-ms", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split()[-1]
        assert url.startswith("http://127.0.0.1:")
        r = requests.get(url + "/__api__/v1/user", headers={"Authorization": "Key cli-secret-key"}, timeout=10)
        assert r.json()["user_role"] == "administrator"
        assert requests.get(url + "/__api__/server_settings", timeout=10).json()["version"] == "2024.09.0"
        t = time.perf_counter()
        items = requests.get(url + "/__api__/v1/content", headers={"Authorization": "Key cli-secret-key"},
                             timeout=10).json()
        assert time.perf_counter() - t >= 0.06  # --latency-ms
        assert [i["guid"] for i in items] == generate_dataset("demo", seed=2).content["guid"].tolist()  # --seed
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "Traceback" not in err
    assert "cli-secret-key" not in line + out + err


def test_tiny_scenario_is_a_small_editable_starting_point():
    ds = generate_dataset("tiny", seed=1, now=NOW)
    assert len(ds.content) == 12 and len(ds.users) == 8 and len(ds.visit_log) == 400
    ds.content = ds.content.iloc[:3].copy()  # drop items: their usage counts as deleted content
    with start_simulator(api_key=ADMIN, dataset=ds) as s:
        assert len(get(s, "/__api__/v1/content").json()) == 3
        body = get(s, "/__api__/v1/instrumentation/content/visits", limit=500).json()
        assert len(body["results"]) == 400


@pytest.mark.parametrize(("args", "word"), [
    (["--connect-version", "abc"], "--connect-version"),
    (["--connect-version", "2024.9"], "--connect-version"),
    (["--fault-rate", "2"], "--fault-rate"),
    (["--latency-ms", "-5"], "--latency-ms"),
])
def test_cli_simulate_bad_options_are_one_line(args, word):
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("connect-analysis")
    p = subprocess.run([str(exe), "simulate", "--port", "0", "--api-key", "k", *args],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and p.stdout == ""
    assert word in p.stderr and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_a_version_that_is_not_one_is_refused():
    ds = generate_dataset("tiny", seed=1, now=NOW)
    with pytest.raises(ValueError, match="not a Connect version"):
        start_simulator(api_key=ADMIN, connect_version="latest", dataset=ds)
