"""`connect-analysis plan` on the demo snapshot (fixture `demo_plan`, tests/plan_checks.py):
plan.json, the custom images, the command's errors, write_plan, the guide. The values and the
shell files: test_plan_values.py, test_plan_scripts.py; what came from the server: test_plan_quoting.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml
from plan_checks import REPO, rebuild_waves

from connect_analysis.plan import FORMAT, build_plan, write_plan


def test_custom_images_name_the_versions_and_the_os_packages(demo_plan):
    table = demo_plan["analysis"].readiness
    blocked = table[table["reasons"].fillna("").str.contains("no-image")]
    rows = demo_plan["analysis"].extra_tables["system-requirements.csv"]
    base = set((REPO / "connect_analysis/data/images/deps_ubuntu-24.04_packages.txt").read_text().split())
    plan = json.loads((demo_plan["dir"] / "plan.json").read_text())
    served = [g for c in plan["custom_images"] for g in c["guids"]]
    assert len(served) == len(set(served)) == len(blocked) >= 10
    with_packages = 0
    for custom in plan["custom_images"]:
        text = (demo_plan["dir"] / custom["directory"] / "Containerfile").read_text()
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
        env = yaml.safe_load((demo_plan["dir"] / custom["directory"] / "environment.yaml").read_text())
        assert env == [custom["environment"]]
        assert {lang: [i["version"] for i in env[0][lang]["installations"]] for lang in custom["needs"]} == {
            lang: [custom["reused"].get(lang) or custom["installs"][lang]] for lang in custom["needs"]}
    assert with_packages >= 1  # the demo's blocked items do need OS packages


def test_plan_json_is_the_whole_plan(demo_plan):
    plan = json.loads((demo_plan["dir"] / "plan.json").read_text())
    assert plan["format"] == FORMAT == 1
    assert plan["no_containerfile"] == []
    assert {i["name"] for i in plan["images"]} <= set(plan["recommended_images"])
    assert sum(i["items"] for i in plan["images"]) == int(demo_plan["analysis"].readiness["image"].notna().sum())
    table = demo_plan["analysis"].readiness
    assert [i["guid"] for i in plan["items"]] == list(table["guid"])
    assert {i["verdict"] for i in plan["items"]} <= {"ready", "conditional", "blocked", "unknown", "nothing-to-move"}
    waves = rebuild_waves((demo_plan["dir"] / "rebuild.sh").read_text())
    assert {w["wave"]: w["guids"] for w in plan["waves"]} == waves
    assert plan["environments"] == yaml.safe_load((demo_plan["dir"] / "values.yaml").read_text())["executionEnvironments"]
    assert plan["target"]["version"] == "2026.06.0" and plan["target"]["source"] == "old server"
    assert plan["preflight"]["nodeport_check"] is False and "ClusterIP" in plan["preflight"]["nodeport_skipped"]
    assert set(plan["files"]) == {str(p.relative_to(demo_plan["dir"])) for p in demo_plan["dir"].rglob("*") if p.is_file()}


def test_a_target_other_than_the_analysed_one_is_refused(demo_plan):
    from connect_analysis.errors import ConfigError

    with pytest.raises(ConfigError, match="judged readiness for Connect 2026.06.0, not 2026.08.0"):
        build_plan(demo_plan["analysis"], target_version="2026.08.0")


def test_plan_cli_bad_input_is_one_line(demo_plan, tmp_path):
    done = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "plan", str(tmp_path / "none"),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "plan", str(demo_plan["dir"].parents[1] / "snapshot"),
                           "--out", str(tmp_path / "o"), "--target-version", "2026.6"],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 1 and done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1


def test_write_plan_replaces_a_previous_plan_whole(demo_plan, tmp_path):
    out = tmp_path / "report"
    first = write_plan(demo_plan["analysis"], out, snapshot=demo_plan["snapshot"])
    (first / "stale.txt").write_text("old")
    again = write_plan(demo_plan["analysis"], out, snapshot=demo_plan["snapshot"])
    assert again == first == out / "plan" and not (again / "stale.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == ["plan"]
    assert (again / "values.yaml").read_text() == (demo_plan["dir"] / "values.yaml").read_text()


def test_the_guide_walks_through_every_file_and_option(demo_plan):
    from connect_analysis.cli import main

    guide = (REPO / "docs/guides/plan-to-cluster.qmd").read_text()
    assert 'title: "From plan to cluster"' in guide
    files = {p.name for p in demo_plan["dir"].rglob("*") if p.is_file()}
    for name in files:
        assert f"`{name}`" in guide, name
    for option in main.commands["plan"].params:
        for flag in option.opts:
            if flag.startswith("--"):
                assert flag in guide, flag
