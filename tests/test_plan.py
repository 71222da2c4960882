"""`connect-analysis plan` on the demo snapshot: the files parse, say what the analysis says,
and the shell files quote what came from the server (checked by running them under bash
with a recorder in place of rsconnect)."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml
from plan_checks import (
    CANARY_KEY,
    REPO,
    chart_configmap,
    check_shell,
    rebuild_waves,
    run_with_recorder,
)

from connect_analysis.analysis import analyze, load_for_analysis
from connect_analysis.demo import make_demo_snapshot
from connect_analysis.plan import FORMAT, build_plan, write_plan
from connect_analysis.plan.values import storage_quantity

POSIT_LAYOUT = {"r": "/opt/R/{}/bin/R", "python": "/opt/python/{}/bin/python",
                "quarto": "/opt/quarto/{}/bin/quarto"}
# CreateEnvironmentInput in Posit's OpenAPI reference (additionalProperties: false)
CREATE_ENVIRONMENT_FIELDS = {"title", "description", "cluster_name", "name", "matching", "supervisor",
                             "python", "nodejs", "quarto", "r", "tensorflow", "volume_mounts"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo snapshot, its analysis, and `connect-analysis plan` run on it (CLI, canary key)."""
    root = tmp_path_factory.mktemp("plan")
    snapshot = make_demo_snapshot(root / "snapshot")
    env = {k: v for k, v in os.environ.items() if k != "CONNECT_SERVER"} | {"CONNECT_API_KEY": CANARY_KEY}
    done = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "plan", str(snapshot),
                           "--out", str(root / "out")], env=env, capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"wrote {root / 'out' / 'plan'}"
    snap = load_for_analysis(snapshot)
    return {"dir": root / "out" / "plan", "analysis": analyze(snap), "snapshot": snap}


def _posit_table() -> dict[str, dict]:
    """The packaged image table, read here with plain YAML (not the kit's loader)."""
    text = resources.files("connect_analysis").joinpath("data/images/posit-public.yaml").read_text()
    return {img["name"]: img for img in yaml.safe_load(text)["images"]}


def _quantity_bytes(q: str) -> int:
    m = re.fullmatch(r"(\d+)(G|Gi|T|Ti)", q)
    assert m, q
    return int(m.group(1)) * {"G": 10**9, "Gi": 2**30, "T": 10**12, "Ti": 2**40}[m.group(2)]


def test_demo_values_yaml_has_one_environment_per_assigned_image(demo):
    values = yaml.safe_load((demo["dir"] / "values.yaml").read_text())
    readiness = demo["analysis"].readiness
    assigned = set(readiness["image"].dropna())
    envs = values["executionEnvironments"]
    assert len(envs) == len(assigned) >= 3
    assert {e["name"] for e in envs} == assigned
    assert assigned <= set(demo["analysis"].summary["images"]["minimal_set"])
    table = _posit_table()
    for e in envs:
        assert e["matching"] == "any" and e["title"]
        image = table[e["name"]]
        for lang in ("r", "python", "quarto"):
            installs = e[lang]["installations"]
            assert [i["version"] for i in installs] == image[lang]
            assert [i["path"] for i in installs] == [POSIT_LAYOUT[lang].format(v) for v in image[lang]]
    storage = values["sharedStorage"]
    recommended = demo["analysis"].summary["storage"]["recommended_bytes"]
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


def test_environments_json_carries_the_same_set(demo):
    values = yaml.safe_load((demo["dir"] / "values.yaml").read_text())
    bodies = json.loads((demo["dir"] / "environments.json").read_text())
    assert len(bodies) == len(values["executionEnvironments"])
    for body, entry in zip(bodies, values["executionEnvironments"], strict=True):
        assert set(body) <= CREATE_ENVIRONMENT_FIELDS
        assert body["cluster_name"] == "Kubernetes"
        assert body["name"] == entry["name"] and body["matching"] == entry["matching"]
        for lang in ("r", "python", "quarto"):
            assert body[lang] == entry[lang]


def test_the_chart_configmap_gives_connect_what_it_reads(demo):
    values = yaml.safe_load((demo["dir"] / "values.yaml").read_text())
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


def test_rebuild_sh_lists_every_ready_or_conditional_item_once_in_its_wave(demo):
    text = (demo["dir"] / "rebuild.sh").read_text()
    waves = rebuild_waves(text)
    table = demo["analysis"].readiness.set_index("guid")
    listed = [g for guids in waves.values() for g in guids]
    assert len(listed) == len(set(listed))
    for wave, guids in waves.items():
        assert guids
        for g in guids:
            assert table.loc[g, "verdict"] in ("ready", "conditional")
            assert int(table.loc[g, "wave"]) == wave
    buildable = table[table["verdict"].isin(["ready", "conditional"])]
    assert set(listed) == set(buildable.index)
    assert sorted(waves) == sorted(int(w) for w in buildable["wave"].unique())
    assert re.search(r"^# \d+ items \(\d+ important\); expected \d+ min at parallelism 2 ", text, re.M)
    assert 'rsconnect content build run --parallelism "$PARALLELISM"' in text


def test_custom_images_name_the_versions_and_the_os_packages(demo):
    table = demo["analysis"].readiness
    blocked = table[table["reasons"].fillna("").str.contains("no-image")]
    rows = demo["analysis"].extra_tables["system-requirements.csv"]
    base = set((REPO / "connect_analysis/data/images/deps_ubuntu-24.04_packages.txt").read_text().split())
    plan = json.loads((demo["dir"] / "plan.json").read_text())
    served = [g for c in plan["custom_images"] for g in c["guids"]]
    assert len(served) == len(set(served)) == len(blocked) >= 10
    with_packages = 0
    for custom in plan["custom_images"]:
        text = (demo["dir"] / custom["directory"] / "Containerfile").read_text()
        assert text.startswith("# Serves ")
        for g in custom["guids"]:
            item = blocked.set_index("guid").loc[g]
            for col, label in (("r_version", "R"), ("py_version", "Python"), ("quarto_version", "Quarto")):
                if isinstance(item[col], str):
                    assert f"{label} {item[col]}" in text.splitlines()[0]
            assert g in text
        need = rows[rows["content_guid"].isin(custom["guids"]) & (rows["os"] == "ubuntu-24.04")
                    & (rows["status"] == "resolved")]["os_package"].dropna()
        expected = sorted(set(need) - base)
        installed = re.findall(r"^      (\S+) \\$", text, re.M)
        assert installed == expected
        with_packages += bool(expected)
        for lang, arg in (("r", "R_VERSION"), ("python", "PYTHON_VERSION"), ("quarto", "QUARTO_VERSION")):
            if lang in custom["installs"]:
                assert f"ARG {arg}={custom['installs'][lang]}" in text
        env = yaml.safe_load((demo["dir"] / custom["directory"] / "environment.yaml").read_text())
        assert env == [custom["environment"]]
        assert {lang: [i["version"] for i in env[0][lang]["installations"]] for lang in custom["needs"]} == {
            lang: [custom["reused"].get(lang) or custom["installs"][lang]] for lang in custom["needs"]}
    assert with_packages >= 1  # the demo's blocked items do need OS packages


def test_caches_sh_dry_runs_then_commented_deletions(demo):
    text = (demo["dir"] / "caches.sh").read_text()
    caches = demo["snapshot"].runtime_caches
    dry = [line for line in text.splitlines() if line.endswith("--dry-run")]
    commented = [line for line in text.splitlines() if line.startswith("# rsconnect system caches delete")]
    assert len(dry) == len(commented) == len(caches) > 0
    assert [d.removesuffix(" --dry-run") for d in dry] == [c.removeprefix("# ") for c in commented]
    words = shlex.split(dry[0])
    assert words[:4] == ["rsconnect", "system", "caches", "delete"]
    assert {"--language", "--version", "--image-name", "--dry-run"} <= set(words)


def test_shell_files_pass_bash_n_and_shellcheck_and_hold_no_key(demo):
    check_shell(demo["dir"])
    for path in demo["dir"].rglob("*"):
        if path.is_file():
            assert CANARY_KEY not in path.read_text()


def test_plan_json_is_the_whole_plan(demo):
    plan = json.loads((demo["dir"] / "plan.json").read_text())
    assert plan["format"] == FORMAT == 1
    assert plan["no_containerfile"] == []
    assert {i["name"] for i in plan["images"]} <= set(plan["recommended_images"])
    assert sum(i["items"] for i in plan["images"]) == int(demo["analysis"].readiness["image"].notna().sum())
    table = demo["analysis"].readiness
    assert [i["guid"] for i in plan["items"]] == list(table["guid"])
    assert {i["verdict"] for i in plan["items"]} <= {"ready", "conditional", "blocked", "unknown", "nothing-to-move"}
    waves = rebuild_waves((demo["dir"] / "rebuild.sh").read_text())
    assert {w["wave"]: w["guids"] for w in plan["waves"]} == waves
    assert plan["environments"] == yaml.safe_load((demo["dir"] / "values.yaml").read_text())["executionEnvironments"]
    assert plan["target"]["version"] == "2026.06.0" and plan["target"]["source"] == "old server"
    assert plan["preflight"]["nodeport_check"] is False and "ClusterIP" in plan["preflight"]["nodeport_skipped"]
    assert set(plan["files"]) == {str(p.relative_to(demo["dir"])) for p in demo["dir"].rglob("*") if p.is_file()}


@pytest.mark.parametrize("target, environments, kubernetes, nameservice, codes", [
    ("2025.09.0", False, False, False, ["no-nameservice", "no-declarative-environments",
                                        "launcher-backend", "no-shared-storage-subpath"]),
    ("2026.01.0", False, False, True, ["no-declarative-environments", "nameservice-needed",
                                       "launcher-backend", "no-shared-storage-subpath"]),
    ("2026.03.0", True, False, True, ["nameservice-needed", "launcher-backend", "no-shared-storage-subpath"]),
    ("2026.04.0", True, True, True, ["nameservice-needed", "no-shared-storage-subpath"]),
    ("2026.08.0", True, True, True, ["nameservice-needed"]),
])
def test_target_version_decides_what_values_yaml_holds(demo, target, environments, kubernetes, nameservice, codes):
    result = analyze(demo["snapshot"], target_version=target)
    plan = build_plan(result, snapshot=demo["snapshot"])
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


def test_a_target_other_than_the_analysed_one_is_refused(demo):
    from connect_analysis.errors import ConfigError

    with pytest.raises(ConfigError, match="judged readiness for Connect 2026.06.0, not 2026.08.0"):
        build_plan(demo["analysis"], target_version="2026.08.0")


def test_images_file_paths_replace_posits_layout(demo, tmp_path):
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
    result = analyze(demo["snapshot"], images=str(images))
    (entry,) = yaml.safe_load(build_plan(result).files["values.yaml"])["executionEnvironments"]
    paths = {i["version"]: i["path"] for lang in ("r", "python") for i in entry[lang]["installations"]}
    assert paths["4.4.3"] == "/usr/lib/R/bin/R" and paths["3.12.12"] == "/usr/local/bin/python3"
    assert paths["4.3.3"] == "/opt/R/4.3.3/bin/R" and paths["3.11.3"] == "/opt/python/3.11.3/bin/python"
    assert "quarto" not in entry


def test_plan_cli_bad_input_is_one_line(demo, tmp_path):
    done = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "plan", str(tmp_path / "none"),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "plan", str(demo["dir"].parents[1] / "snapshot"),
                           "--out", str(tmp_path / "o"), "--target-version", "2026.6"],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 1 and done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1


def test_nodeport_check_only_when_asked(demo, tmp_path):
    plain = build_plan(demo["analysis"]).files["preflight.sh"]
    asked = build_plan(demo["analysis"], service_type="NodePort").files["preflight.sh"]
    flag = build_plan(demo["analysis"], check_nodeports=True).files["preflight.sh"]
    assert "--nodes" not in plain and "ClusterIP by default" in plain
    assert asked == flag and 'connect-analysis preflight --service-type NodePort --nodes "$NODES"' in asked
    assert "nc -vz" in plain and '"$NFS_HOST" "$NFS_PORT"' in plain and '"$PG_HOST" "$PG_PORT"' in plain
    path = tmp_path / "preflight.sh"
    path.write_text(asked)
    assert subprocess.run(["shellcheck", str(path)]).returncode == 0


def test_write_plan_replaces_a_previous_plan_whole(demo, tmp_path):
    out = tmp_path / "report"
    first = write_plan(demo["analysis"], out, snapshot=demo["snapshot"])
    (first / "stale.txt").write_text("old")
    again = write_plan(demo["analysis"], out, snapshot=demo["snapshot"])
    assert again == first == out / "plan" and not (again / "stale.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == ["plan"]
    assert (again / "values.yaml").read_text() == (demo["dir"] / "values.yaml").read_text()


def test_the_guide_walks_through_every_file_and_option(demo):
    from connect_analysis.cli import main

    guide = (REPO / "docs/guides/plan-to-cluster.qmd").read_text()
    assert 'title: "From plan to cluster"' in guide
    files = {p.name for p in demo["dir"].rglob("*") if p.is_file()}
    for name in files:
        assert f"`{name}`" in guide, name
    for option in main.commands["plan"].params:
        for flag in option.opts:
            if flag.startswith("--"):
                assert flag in guide, flag


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
def test_values_yaml_uses_only_keys_the_chart_documents(demo, target):
    chart = yaml.safe_load(CHART_VALUES.read_text())
    values = yaml.safe_load(build_plan(analyze(demo["snapshot"], target_version=target)).files["values.yaml"])
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


def test_preflight_sh_runs_posits_busybox_checks(demo, tmp_path):
    """preflight.sh under bash with a recorder for kubectl (no cluster here): the commands and
    their arguments, the hosts given through the environment each one argument."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "kubectl.log"
    recorder = bin_dir / "kubectl"
    recorder.write_text(f"#!{sys.executable}\nimport json, sys\n"
                        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
    recorder.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path), "NFS_HOST": "nfs.internal",
           "PG_HOST": "db 'internal $(x)", "NAMESPACE": "connect"}
    done = subprocess.run(["bash", str(demo["dir"] / "preflight.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    pod = ["run", "--rm", "-i", "--namespace", "connect"]
    assert calls == [
        pod + ["storage-check", "--image=busybox", "--restart=Never", "--", "nc", "-vz", "nfs.internal", "2049"],
        pod + ["pg-check", "--image=busybox", "--restart=Never", "--", "nc", "-vz", "db 'internal $(x)", "5432"]]
    missing = subprocess.run(["bash", str(demo["dir"] / "preflight.sh")], capture_output=True, text=True,
                             env={"PATH": env["PATH"], "HOME": str(tmp_path)}, timeout=60)
    assert missing.returncode != 0 and "set NFS_HOST" in missing.stderr and not log.read_text().count("\n") > 2


def test_every_rsconnect_option_used_is_one_the_installed_rsconnect_has(demo, tmp_path):
    """The scripts' rsconnect commands, as bash passes them (a recorder in place of rsconnect),
    checked against `rsconnect <command> --help` of the installed rsconnect-python."""
    rsconnect = Path(sys.executable).with_name("rsconnect")
    assert rsconnect.exists(), "rsconnect-python is not installed in this environment"
    calls = run_with_recorder(demo["dir"] / "environments.sh", tmp_path)
    waves = [str(w["wave"]) for w in json.loads((demo["dir"] / "plan.json").read_text())["waves"]]
    calls += run_with_recorder(demo["dir"] / "rebuild.sh", tmp_path, *waves)
    calls += run_with_recorder(demo["dir"] / "caches.sh", tmp_path)
    deletions = [shlex.split(line[2:])[1:] for line in (demo["dir"] / "caches.sh").read_text().splitlines()
                 if line.startswith("# rsconnect system caches delete")]
    assert deletions and calls
    helps: dict[tuple, str] = {}
    for argv in calls + deletions:
        command = tuple(itertools.takewhile(lambda w: re.fullmatch(r"[a-z]+", w), argv))  # then IMAGE, options
        if command not in helps:
            done = subprocess.run([str(rsconnect), *command, "--help"], capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, (command, done.stderr)
            helps[command] = done.stdout
        for word in argv[len(command) + (command == ("environment", "add")):]:
            if word.startswith("-"):
                assert re.search(rf"(^|[\s,]){re.escape(word)}[\s,]", helps[command], re.M), (command, word)
    assert set(helps) >= {("environment", "add"), ("content", "build", "add"), ("content", "build", "run"),
                          ("system", "caches", "delete")}
