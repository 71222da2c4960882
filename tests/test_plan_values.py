"""The plan's values.yaml and environments.json on the demo snapshot (fixture `demo_plan`):
one environment per assigned image, the target version's features, only keys the chart documents."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
import yaml
from plan_checks import REPO, chart_configmap

from connect_analysis.analysis import analyze
from connect_analysis.plan import build_plan
from connect_analysis.plan.values import storage_quantity

POSIT_LAYOUT = {"r": "/opt/R/{}/bin/R", "python": "/opt/python/{}/bin/python",
                "quarto": "/opt/quarto/{}/bin/quarto"}
# CreateEnvironmentInput in Posit's OpenAPI reference (additionalProperties: false)
CREATE_ENVIRONMENT_FIELDS = {"title", "description", "cluster_name", "name", "matching", "supervisor",
                             "python", "nodejs", "quarto", "r", "tensorflow", "volume_mounts"}

def _posit_table() -> dict[str, dict]:
    """The packaged image table, read here with plain YAML (not the kit's loader)."""
    text = resources.files("connect_analysis").joinpath("data/images/posit-public.yaml").read_text()
    return {img["name"]: img for img in yaml.safe_load(text)["images"]}


def _quantity_bytes(q: str) -> int:
    m = re.fullmatch(r"(\d+)(G|Gi|T|Ti)", q)
    assert m, q
    return int(m.group(1)) * {"G": 10**9, "Gi": 2**30, "T": 10**12, "Ti": 2**40}[m.group(2)]


def test_demo_values_yaml_has_one_environment_per_assigned_image(demo_plan):
    values = yaml.safe_load((demo_plan["dir"] / "values.yaml").read_text())
    readiness = demo_plan["analysis"].readiness
    assigned = set(readiness["image"].dropna())
    envs = values["executionEnvironments"]
    assert len(envs) == len(assigned) >= 3
    assert {e["name"] for e in envs} == assigned
    assert assigned <= set(demo_plan["analysis"].summary["images"]["minimal_set"])
    table = _posit_table()
    for e in envs:
        assert e["matching"] == "any" and e["title"]
        image = table[e["name"]]
        for lang in ("r", "python", "quarto"):
            installs = e[lang]["installations"]
            assert [i["version"] for i in installs] == image[lang]
            assert [i["path"] for i in installs] == [POSIT_LAYOUT[lang].format(v) for v in image[lang]]
    storage = values["sharedStorage"]
    recommended = demo_plan["analysis"].summary["storage"]["recommended_bytes"]
    assert _quantity_bytes(storage["requests"]["storage"]) >= recommended
    assert storage["accessModes"] == ["ReadWriteMany"] and storage["create"] is True
    # the demo server is 2026.06.0, the default target: direct runner, no Launcher
    assert values["backends"]["kubernetes"]["enabled"] is True and values["launcher"]["enabled"] is False
    assert values["nameservice"]["enabled"] is True  # the demo has items run as the viewer
    assert values["config"]["Postgres"]["URL"].startswith("postgres://<user>@<postgres-host>")


def test_storage_quantity_is_never_below_the_bytes():
    assert storage_quantity(100 * 10**9) == "100G"
    assert storage_quantity(100 * 10**9 + 1) == "101G"
    assert storage_quantity(1) == "1G"


def test_environments_json_carries_the_same_set(demo_plan):
    values = yaml.safe_load((demo_plan["dir"] / "values.yaml").read_text())
    bodies = json.loads((demo_plan["dir"] / "environments.json").read_text())
    assert len(bodies) == len(values["executionEnvironments"])
    for body, entry in zip(bodies, values["executionEnvironments"], strict=True):
        assert set(body) <= CREATE_ENVIRONMENT_FIELDS
        assert body["cluster_name"] == "Kubernetes"
        assert body["name"] == entry["name"] and body["matching"] == entry["matching"]
        for lang in ("r", "python", "quarto"):
            assert body[lang] == entry[lang]


def test_the_chart_configmap_gives_connect_what_it_reads(demo_plan):
    values = yaml.safe_load((demo_plan["dir"] / "values.yaml").read_text())
    data = chart_configmap(values)
    read = yaml.safe_load(data["environments.yaml"])  # what Connect reads: a bare list
    assert isinstance(read, list) and len(read) == len(values["executionEnvironments"])
    for e in read:
        assert isinstance(e["name"], str) and e["name"]
        installs = [i for lang in ("r", "python", "quarto") for i in (e.get(lang) or {}).get("installations", [])]
        assert installs
        assert all(isinstance(i["version"], str) and isinstance(i["path"], str) for i in installs)
    broken = {"executionEnvironments": [dict(read[0], name="")]}
    with pytest.raises(ValueError, match="requires a name"):
        chart_configmap(broken)


@pytest.mark.parametrize("target, environments, kubernetes, nameservice, codes", [
    ("2025.09.0", False, False, False, ["no-nameservice", "no-declarative-environments",
                                        "launcher-backend", "no-shared-storage-subpath"]),
    ("2026.01.0", False, False, True, ["no-declarative-environments", "nameservice-needed",
                                       "launcher-backend", "no-shared-storage-subpath"]),
    ("2026.03.0", True, False, True, ["nameservice-needed", "launcher-backend", "no-shared-storage-subpath"]),
    ("2026.04.0", True, True, True, ["nameservice-needed", "no-shared-storage-subpath"]),
    ("2026.08.0", True, True, True, ["nameservice-needed"]),
])
def test_target_version_decides_what_values_yaml_holds(demo_plan, target, environments, kubernetes, nameservice, codes):
    result = analyze(demo_plan["snapshot"], target_version=target)
    plan = build_plan(result, snapshot=demo_plan["snapshot"])
    values = yaml.safe_load(plan.files["values.yaml"])
    assert bool(values["executionEnvironments"]) is environments
    assert values["backends"]["kubernetes"]["enabled"] is kubernetes
    assert values["launcher"]["enabled"] is (not kubernetes)
    assert ("nameservice" in values) is nameservice
    assert [f["code"] for f in plan.document["findings"]] == codes
    assert plan.document["target"] == {"version": target, "source": "analysis", "features": {
        "nameservice": {"available": target >= "2026.01.0", "since": "2026.01.0"},
        "execution_environments": {"available": environments, "since": "2026.03.0"},
        "kubernetes_backend": {"available": kubernetes, "since": "2026.04.0"},
        "shared_storage_subpath": {"available": target >= "2026.08.0", "since": "2026.08.0"}}}
    # the environments are still given for the API and rsconnect whatever the target
    assert len(json.loads(plan.files["environments.json"])) == len(set(result.readiness["image"].dropna()))
    assert ("# subPath:" in plan.files["values.yaml"]) is (target >= "2026.08.0")


def test_images_file_paths_replace_posits_layout(demo_plan, tmp_path):
    images = tmp_path / "images.yaml"
    images.write_text("""
images:
  - name: registry.example/all:1
    r: ["4.3.3", "4.4.3", "4.5.2", "4.1.3", "4.2.2", "3.6.3", "4.0.5"]
    python: ["3.8.19", "3.9.19", "3.10.11", "3.11.3", "3.12.12", "3.13.12"]
    paths:
      r: {"4.4.3": /usr/lib/R/bin/R}
      python: {"3.12.12": /usr/local/bin/python3}
""")
    result = analyze(demo_plan["snapshot"], images=str(images))
    (entry,) = yaml.safe_load(build_plan(result).files["values.yaml"])["executionEnvironments"]
    paths = {i["version"]: i["path"] for lang in ("r", "python") for i in entry[lang]["installations"]}
    assert paths["4.4.3"] == "/usr/lib/R/bin/R" and paths["3.12.12"] == "/usr/local/bin/python3"
    assert paths["4.3.3"] == "/opt/R/4.3.3/bin/R" and paths["3.11.3"] == "/opt/python/3.11.3/bin/python"
    assert "quarto" not in entry


CHART_VALUES = REPO / "tests/fixtures/helm-rstudio-connect/values.yaml"


def _key_paths(d: dict, prefix=()) -> set[tuple]:
    out = set()
    for k, v in d.items():
        out.add(prefix + (k,))
        if isinstance(v, dict):
            out |= _key_paths(v, prefix + (k,))
    return out


def _chart_environment_example() -> dict:
    """The entry the chart's values.yaml documents in the comment under executionEnvironments."""
    lines = CHART_VALUES.read_text().splitlines()
    start = lines.index("executionEnvironments: []") + 1
    block = []
    for line in lines[start:]:
        if not line.startswith("# "):
            break
        block.append(line[2:])
    (entry,) = yaml.safe_load("\n".join(block))
    return entry


@pytest.mark.parametrize("target", ["2025.09.0", "2026.06.0", "2026.08.0"])
def test_values_yaml_uses_only_keys_the_chart_documents(demo_plan, target):
    chart = yaml.safe_load(CHART_VALUES.read_text())
    values = yaml.safe_load(build_plan(analyze(demo_plan["snapshot"], target_version=target)).files["values.yaml"])
    ours = {p for p in _key_paths(values) if p[0] not in ("config", "executionEnvironments")}
    assert ours <= _key_paths(chart)  # config is the free-form gcfg map
    assert isinstance(chart["executionEnvironments"], list)
    example = _chart_environment_example()
    for entry in values["executionEnvironments"]:
        assert set(entry) <= set(example)
        for lang in ("r", "python", "quarto"):
            if lang in entry:
                assert set(entry[lang]) == set(example[lang]) == {"installations"}
                for inst in entry[lang]["installations"]:
                    assert set(inst) == set(example[lang]["installations"][0]) == {"version", "path"}
