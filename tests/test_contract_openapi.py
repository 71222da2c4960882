"""Contract: the simulator's answers validate against Posit's OpenAPI reference
(../shared/reference/connect-openapi.json) on every endpoint the kit reads, on an old
(2024.09) and a new (2026.06) Connect version, with the parameters the kit sends.

The reference is 720 KB, too large to vendor, so the test reads it from ../shared; under
CI=true a missing reference fails the test instead of skipping it.

The reference's known slips, corrected here before validating (each checked to still be
there, so a corrected reference makes the test say so):
- `Group` is an allOf of `TrustedPublisher` (a service principal: name, role, app_role)
  and {guid, member_count}; a group is {guid, name, owner_guid, temp_ticket, member_count}.
- `ContentPackages.items` is `Package` (the /v1/packages record, additionalProperties
  false, with bundle_id and app_id); /v1/content/{guid}/packages lists `ContentPackage`s.
- hits' `id` (`ContentHitEntry.id`) is typed string; Connect sends a number.
OpenAPI 3.0's `nullable: true` is turned into JSON Schema's `type: [T, "null"]`.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import requests
from suite import skip_or_fail

from connect_simulator import generate_dataset, start_simulator

SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "connect-openapi.json"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEY = "contract-key"
WINDOW = {"from": "2026-05-01T00:00:00Z", "to": "2026-06-01T00:00:00Z", "limit": 500}
# (path the kit reads, its path in the reference, query the kit sends, first version that has it)
ENDPOINTS = [
    ("v1/user", "/v1/user", {}, None),
    ("v1/users", "/v1/users", {"page_number": 1, "page_size": 500}, None),
    ("v1/groups", "/v1/groups", {"page_number": 1, "page_size": 500}, None),
    ("v1/content", "/v1/content", {"include": "tags,owner,vanity_url"}, None),
    ("v1/tags", "/v1/tags", {}, None),
    ("v1/vanities", "/v1/vanities", {}, None),
    ("v1/server_settings/r", "/v1/server_settings/r", {}, None),
    ("v1/server_settings/python", "/v1/server_settings/python", {}, None),
    ("v1/server_settings/quarto", "/v1/server_settings/quarto", {}, None),
    ("v1/environments", "/v1/environments", {}, "2023.05.0"),
    ("v1/system/caches/runtime", "/v1/system/caches/runtime", {}, None),
    ("v1/instrumentation/content/visits", "/v1/instrumentation/content/visits", WINDOW, None),
    ("v1/instrumentation/shiny/usage", "/v1/instrumentation/shiny/usage", WINDOW, None),
    ("v1/instrumentation/content/hits", "/v1/instrumentation/content/hits",
     {"from": WINDOW["from"], "to": WINDOW["to"]}, "2025.04.0"),
    ("v1/packages", "/v1/packages", {"page_number": 1, "page_size": 100_000}, "2024.11.0"),
    ("v1/system/storage", "/v1/system/storage", {}, "2026.06.0"),
    ("v1/content/storage", "/v1/content/storage", {"page_number": 1, "page_size": 500}, "2026.06.0"),
]
PER_ITEM = [("bundles", "/v1/content/{guid}/bundles", None), ("packages", "/v1/content/{guid}/packages", "2024.11.0"),
            ("storage", "/v1/content/{guid}/storage", "2026.06.0"), ("jobs", "/v1/content/{guid}/jobs", "2022.10.0")]
VERSIONS = ["2024.09.0", "2026.06.0"]


def _reference() -> dict:
    if not SPEC.is_file():
        skip_or_fail(f"the OpenAPI reference {SPEC} is missing (CI needs ../shared)")
    return json.loads(SPEC.read_text())


def _nullable(node):
    """OpenAPI 3.0 `nullable: true` as JSON Schema types (recursively)."""
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.pop("nullable", False):
            if "type" in node:
                node["type"] = [node["type"], "null"]
            elif "$ref" in node or "allOf" in node:
                node = {"anyOf": [{"type": "null"}, node]}
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


def corrected(spec: dict) -> dict:
    """The reference with its known slips corrected (asserting each slip is still there)."""
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    group = schemas["Group"]
    assert group["allOf"][0] == {"$ref": "#/components/schemas/TrustedPublisher"}, "Group's slip was fixed"
    schemas["Group"] = {"type": "object", "description": group.get("description", ""), "properties": {
        "guid": {"type": "string"}, "name": {"type": "string"},
        "owner_guid": {"type": "string", "nullable": True}, "temp_ticket": {"type": "string", "nullable": True},
        **group["allOf"][1]["properties"]}}
    assert schemas["ContentPackages"]["items"] == {"$ref": "#/components/schemas/Package"}, "the slip was fixed"
    schemas["ContentPackages"]["items"] = {"$ref": "#/components/schemas/ContentPackage"}
    hit_id = schemas["ContentHitEntry"]["properties"]["id"]
    assert hit_id["type"] == "string", "hits' id slip was fixed"
    hit_id["type"] = "integer"
    return _nullable(spec)


@pytest.fixture(scope="module")
def spec() -> dict:
    return corrected(_reference())


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset("demo", seed=5, now=NOW)


def response_schema(spec: dict, path: str) -> dict:
    """A schema document validating path's GET 200 body ($refs resolve within the spec)."""
    body = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": spec["components"],
            "allOf": [body]}


def check(spec: dict, path: str, body) -> None:
    schema = response_schema(spec, path)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{path}: {len(errors)} errors, first at {list(errors[0].path)}: {errors[0].message[:300]}"


def older(version: str, first: str | None) -> bool:
    return first is not None and tuple(map(int, version.split("."))) < tuple(map(int, first.split(".")))


@pytest.mark.parametrize("version", VERSIONS)
def test_every_endpoint_the_kit_reads_conforms(spec, dataset, version):
    with start_simulator(dataset=dataset, api_key=KEY, connect_version=version) as sim, requests.Session() as s:
        s.headers["Authorization"] = f"Key {KEY}"
        checked = []
        for kit_path, ref_path, params, first in ENDPOINTS:
            r = s.get(f"{sim.url}/__api__/{kit_path}", params=params, timeout=30)
            if older(version, first):
                assert r.status_code == 404, f"{kit_path} on {version}: {r.status_code}"
                continue
            assert r.status_code == 200, f"{kit_path} on {version}: {r.status_code} {r.text[:200]}"
            check(spec, ref_path, r.json())
            checked.append(kit_path)
        guids = [c["guid"] for c in s.get(f"{sim.url}/__api__/v1/content", timeout=30).json()[:20]]
        for name, ref_path, first in PER_ITEM:
            for guid in guids:
                r = s.get(f"{sim.url}/__api__/v1/content/{guid}/{name}", timeout=30)
                if older(version, first):
                    assert r.status_code == 404
                    continue
                assert r.status_code in (200, 204), f"{name} of {guid} on {version}: {r.status_code}"
                if r.status_code == 200:  # 204: nothing recorded for this item (no body to check)
                    check(spec, ref_path, r.json())
                    checked.append(f"v1/content/{{guid}}/{name}")
    expected = {p for p, _, _, f in ENDPOINTS if not older(version, f)} | {
        f"v1/content/{{guid}}/{n}" for n, _, f in PER_ITEM if not older(version, f)}
    assert set(checked) == expected


def test_the_corrections_are_needed(spec):
    """Each correction changes a verdict: a real group fails the uncorrected Group, and a
    content package fails the uncorrected ContentPackages."""
    raw = _nullable(_reference())
    group = {"guid": "6f300623-1e0c-48e6-a473-ddf630c0c0c3", "name": "analysts", "owner_guid": None,
             "temp_ticket": None, "member_count": 3}
    package = [{"language": "r", "name": "shiny", "version": "1.0.3", "hash": None}]
    check(spec, "/v1/content/{guid}/packages", package)
    with pytest.raises(AssertionError):
        check(raw, "/v1/content/{guid}/packages", [{**package[0], "unknown_field": 1}])
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": spec["components"],
              "$ref": "#/components/schemas/Group"}
    jsonschema.Draft202012Validator(schema).validate(group)
    with pytest.raises(jsonschema.ValidationError):  # the validator does check: a wrong type fails
        jsonschema.Draft202012Validator(schema).validate({**group, "member_count": "three"})
