"""Contract tests: the simulator's responses have the keys and JSON types of responses
recorded from real servers by the official clients (vendored in tests/fixtures/posit-dev)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from connect_simulator import generate_dataset, start_simulator

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "posit-dev"
SDK = "posit-sdk-py/tests/posit/connect/__api__"
CAPI = "connectapi/tests/testthat"
RSC = "rsconnect-python/tests/testdata/connect-responses"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ADMIN = "admin-key"


# Keys the simulator may add beyond an older recording: fields of newer versions or of
# an `include=` the recording did not ask for.
NEWER = {"locked", "locked_message", "tags", "owner", "vanity_url", "environment_guid",
         "default_environment_guid", "public_content_status", "hash", "language_version",
         "bundle_id", "content_id", "content_guid", "app_id", "app_guid", "managed_by", "volume_mounts"}


def load(rel: str):
    text = (FIXTURES / rel).read_text()
    return json.loads("\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//")))


def kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


# Numeric ids the simulator serves as strings, as the newest API reference has them
# (older recordings have numbers; clients must accept both).
STRING_IDS = {"rendering_id", "bundle_id"}


def same_shape(recorded, served, where="$", extra=frozenset(NEWER), missing_ok=frozenset()) -> list[str]:
    """Differences in keys and JSON types; null matches any type (nullable fields)."""
    if recorded is None or served is None:
        return []
    if where.rsplit(".", 1)[-1] in STRING_IDS and kind(recorded) == "number":
        return [] if kind(served) == "string" and served.isdigit() else [f"{where}: not a numeric string"]
    if kind(recorded) != kind(served):
        return [f"{where}: recorded {kind(recorded)}, served {kind(served)}"]
    problems = []
    if isinstance(recorded, dict):
        for k in recorded.keys() - served.keys() - missing_ok:
            problems.append(f"{where}: key {k!r} missing")
        for k in served.keys() - recorded.keys() - extra:
            problems.append(f"{where}: unexpected key {k!r}")
        for k in recorded.keys() & served.keys():
            problems += same_shape(recorded[k], served[k], f"{where}.{k}", extra, missing_ok)
    elif isinstance(recorded, list) and recorded and served:
        for item in served[:50]:
            problems += same_shape(recorded[0], item, f"{where}[]", extra, missing_ok)
    return problems


@pytest.fixture(scope="module")
def sims():
    started = {}
    ds = generate_dataset("demo", seed=1, now=NOW)  # one dataset, served as each version
    try:
        for version in ("2023.09.0", "2024.08.0", "2024.09.0", "2025.04.0", "2025.09.0", "2026.06.0"):
            started[version] = start_simulator(api_key=ADMIN, connect_version=version, dataset=ds)
        yield started
    finally:
        for s in started.values():
            s.stop()


def served(sim, path, **params):
    r = requests.get(sim.url + path, headers={"Authorization": f"Key {ADMIN}"}, params=params, timeout=10)
    assert r.status_code == 200, (path, r.status_code, r.text[:200])
    return r.json()


def a_guid(sim, with_bundles=True):
    c = sim.dataset.content
    return c.loc[c["bundle_id"].notna(), "guid"].iloc[0] if with_bundles else c["guid"].iloc[0]


CASES = [
    # (fixture, version, path (with {guid}), params)
    (f"{CAPI}/2024.08.0/__api__/v1/content-064d19.json", "2024.08.0", "/__api__/v1/content", {"include": "tags,owner"}),
    (f"{CAPI}/2024.09.0/__api__/v1/content/12345678-064d19.json", "2024.09.0", "/__api__/v1/content/{guid}", {"include": "tags,owner"}),
    (f"{CAPI}/2025.09.0/__api__/v1/content/6632a162-064d19.json", "2025.09.0", "/__api__/v1/content/{guid}", {"include": "owner"}),
    (f"{SDK}/v1/content/f2f37341-e21d-3d80-c698-a935ad614066.json", "2023.09.0", "/__api__/v1/content/{guid}", {}),
    (f"{RSC}/list-content.json", "2023.09.0", "/__api__/v1/content", {}),
    (f"{SDK}/v1/content/f2f37341-e21d-3d80-c698-a935ad614066/bundles.json", "2026.06.0", "/__api__/v1/content/{guid}/bundles", {}),
    (f"{SDK}/v1/content/f2f37341-e21d-3d80-c698-a935ad614066/tags.json", "2026.06.0", "/__api__/v1/tags", {}),
    (f"{CAPI}/2024.08.0/__api__/v1/content/8f37d6e0/packages.json", "2026.06.0", "/__api__/v1/content/{guid}/packages", {}),
    (f"{SDK}/v1/packages.json", "2026.06.0", "/__api__/v1/packages", {"page_size": 5}),
    (f"{SDK}/v1/instrumentation/content/visits?limit=500.json", "2026.06.0", "/__api__/v1/instrumentation/content/visits", {"limit": 5}),
    (f"{SDK}/v1/instrumentation/shiny/usage?limit=500.json", "2026.06.0", "/__api__/v1/instrumentation/shiny/usage", {"limit": 5}),
    (f"{CAPI}/2025.04.0/__api__/v1/instrumentation/content/hits-c331ad.json", "2025.04.0", "/__api__/v1/instrumentation/content/hits", {"from": "2026-05-30T00:00:00Z"}),
    (f"{SDK}/v1/users?page_number=1&page_size=500.jsonc", "2026.06.0", "/__api__/v1/users", {"page_size": 500}),
    (f"{CAPI}/2024.08.0/__api__/v1/users-c6c26e.json", "2024.08.0", "/__api__/v1/users", {"page_size": 500}),
    (f"{SDK}/v1/user.json", "2026.06.0", "/__api__/v1/user", {}),
    (f"{SDK}/v1/groups.json", "2026.06.0", "/__api__/v1/groups", {}),
    (f"{SDK}/v1/tags.json", "2026.06.0", "/__api__/v1/tags", {}),
    (f"{CAPI}/2024.08.0/__api__/v1/vanities.json", "2024.08.0", "/__api__/v1/vanities", {}),
    (f"{CAPI}/2024.08.0/__api__/v1/system/caches/runtime.json", "2024.08.0", "/__api__/v1/system/caches/runtime", {}),
    (f"{SDK}/v1/environments.json", "2026.06.0", "/__api__/v1/environments", {}),
    (f"{RSC}/list-environments.json", "2026.06.0", "/__api__/v1/environments", {}),
    (f"{CAPI}/2025.09.0/__api__/v1/search/content-d37a6d.json", "2025.09.0", "/__api__/v1/search/content", {"page_size": 3}),
    (f"{CAPI}/2024.09.0/__api__/server_settings.json", "2024.09.0", "/__api__/server_settings", {}),
]


@pytest.mark.parametrize(("fixture", "version", "path", "params"), CASES, ids=[c[0].split("/__api__/")[-1] for c in CASES])
def test_served_shape_matches_recording(sims, fixture, version, path, params):
    sim = sims[version]
    body = served(sim, path.format(guid=a_guid(sim)), **params)
    recorded = load(fixture)
    # Fields in the recording the simulator leaves out on purpose: none, except the
    # search fixture's abbreviated items (served items are full Content objects).
    extra = NEWER | ({"description", "access_type"} if "search" in fixture else set())
    if "search" in fixture:
        recorded = {**recorded, "results": []}  # its items are hand-abbreviated
    assert same_shape(recorded, body, extra=extra) == []


def test_last_visits_page_has_no_next_keys(sims):
    sim = sims["2026.06.0"]
    recorded = load(f"{SDK}/v1/instrumentation/content/visits?limit=500&next=23948901087.json")
    assert "next" not in recorded["paging"] and "next" not in recorded["paging"]["cursors"]
    h = {"Authorization": f"Key {ADMIN}"}
    body = requests.get(sim.url + "/__api__/v1/instrumentation/content/visits", headers=h,
                        params={"limit": 500, "asc_order": "false"}, timeout=10).json()
    while "next" in body["paging"]:
        body = requests.get(body["paging"]["next"], headers=h, timeout=10).json()
    assert same_shape(recorded, body, missing_ok={"results"}) == []
    assert set(body["paging"]) == set(recorded["paging"])
    assert set(body["paging"]["cursors"]) == set(recorded["paging"]["cursors"])


def test_old_licence_values_are_strings_like_the_2023_recording(sims):
    recorded = load(f"{RSC}/server_settings.json")["license"]
    lic = served(sims["2023.09.0"], "/__api__/server_settings")["license"]
    for key in ("cores", "users", "user-activity-days", "allow-apis", "custom-branding"):
        assert kind(lic[key]) == kind(recorded[key]) == "string"
    assert same_shape(load(f"{CAPI}/2024.09.0/__api__/server_settings.json")["license"],
                      served(sims["2024.09.0"], "/__api__/server_settings")["license"]) == []


def _first(sim, path):
    body = served(sim, path, page_size=500)
    return (body["results"] if isinstance(body, dict) else body)[0]


# More recordings: single objects whose id comes from the served list.
MORE = [
    # (fixture, version, path, how to fill {id})
    (f"{CAPI}/2024.08.0/__ping__.json", "2024.08.0", "/__ping__", None),
    (f"{SDK}/v1/content.json", "2026.06.0", "/__api__/v1/content?include=owner", None),
    (f"{SDK}/v1/users/20a79ce3-6e87-4522-9faf-be24228800a4.json", "2026.06.0", "/__api__/v1/users/{id}",
     lambda s: _first(s, "/__api__/v1/users")["guid"]),
    (f"{SDK}/v1/groups/6f300623-1e0c-48e6-a473-ddf630c0c0c3.json", "2026.06.0", "/__api__/v1/groups/{id}",
     lambda s: _first(s, "/__api__/v1/groups")["guid"]),
    (f"{SDK}/v1/tags/33.json", "2026.06.0", "/__api__/v1/tags/{id}", lambda s: _first(s, "/__api__/v1/tags")["id"]),
    (f"{SDK}/v1/environments/25438b83-ea6d-4839-ae8e-53c52ac5f9ce.json", "2026.06.0",
     "/__api__/v1/environments/{id}", lambda s: _first(s, "/__api__/v1/environments")["guid"]),
    (f"{SDK}/v1/instrumentation/content/hits.json", "2026.06.0", "/__api__/v1/instrumentation/content/hits", None),
]


@pytest.mark.parametrize(("fixture", "version", "path", "fill"), MORE, ids=[m[0].rsplit("/", 2)[-2] + "/" +
                                                                            m[0].rsplit("/", 1)[-1] for m in MORE])
def test_more_served_shapes_match_recordings(sims, fixture, version, path, fill):
    sim = sims[version]
    body = served(sim, path.format(id=fill(sim)) if fill else path)
    assert same_shape(load(fixture), body) == []
