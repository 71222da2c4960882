"""The plan's files with hostile server text (quotes, $(), backticks, spaces, newlines in titles,
GUIDs, image names, versions and caches): each value stays one quoted value, checked by
parsing the YAML back and running the shell files under bash with a recorder for rsconnect."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pandas as pd
import pytest
import yaml
from plan_checks import CANARY_KEY, chart_configmap, check_shell, rebuild_waves, run_with_recorder

from connect_analysis.analysis import analyze
from connect_analysis.plan import write_plan

# Server text that must stay one quoted value in every file: quotes, $(), backticks, spaces,
# a newline, and shell and Containerfile syntax after it.
EVIL = "x' \"$(touch PWNED)\" `touch PWNED` ; touch PWNED\nRUN touch PWNED"
EVIL_GUID = "0000aaaa-' $(touch PWNED) \"\n-g injected"
EVIL_IMAGE = "registry.example/img:\"q' $(touch PWNED)\nFROM evil"
EVIL_R = "4.3.2' $(touch PWNED) \""          # an environment's R version (numeric prefix 4.3.2)
EVIL_CACHE = "3.6.3\n rsconnect system caches delete --language R --version 9"


def _hostile_snapshot():
    from analysis_fixtures import SERVER, small_snapshot

    def c(guid, r=None, title="plain", **kw):
        return {"guid": guid, "id": guid, "name": "n", "title": title, "app_mode": "shiny", "bundle_id": "1",
                "r_version": r, "py_version": None, "quarto_version": None, "owner_username": "o",
                "content_url": f"{SERVER}/content/x/", "run_as_current_user": False,
                "last_deployed_time": "2024-01-01T00:00:00Z"} | kw
    content = [c(EVIL_GUID, "4.3.1", EVIL), c("g2", "4.3.1"), c("g3", "4.3.0", "another"),
               c("g4", "3.5.3", EVIL), c("g5", "3.5.3$(touch PWNED)", EVIL)]
    return small_snapshot(
        content=content, visits=[], shiny_sessions=[], content_tags=[], vanities=[],
        content_storage=[], bundles=[],
        environments=[{"guid": "e1", "id": "1", "title": EVIL, "name": EVIL_IMAGE,
                       "cluster_name": "Kubernetes", "environment_type": "Kubernetes", "matching": "any"}],
        environment_runtimes=[{"environment_guid": "e1", "language": "r", "version": EVIL_R,
                               "path": "/opt/R/4.3.2 x'$(touch PWNED)/bin/R"}],
        runtime_caches=[{"language": "r", "version": EVIL_CACHE, "image_name": "Local"},
                        {"language": "python", "version": "3.11.6", "image_name": EVIL_IMAGE}],
        packages=[])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-plan")
    snap = _hostile_snapshot()
    result = analyze(snap, images="server", target_version="2026.06.0")
    return {"dir": write_plan(result, root / "out", snapshot=snap), "analysis": result, "root": root}


def test_hostile_values_parse_back_exactly(hostile):
    values = yaml.safe_load((hostile["dir"] / "values.yaml").read_text())
    (env,) = values["executionEnvironments"]
    assert env["name"] == EVIL_IMAGE
    assert env["r"]["installations"] == [{"version": EVIL_R, "path": "/opt/R/4.3.2 x'$(touch PWNED)/bin/R"}]
    read = yaml.safe_load(chart_configmap(values)["environments.yaml"])
    assert read[0]["r"]["installations"][0]["version"] == EVIL_R
    (body,) = json.loads((hostile["dir"] / "environments.json").read_text())
    assert body["name"] == EVIL_IMAGE and body["r"] == env["r"]


def test_hostile_shell_files_pass_shellcheck_and_keep_each_value_one_word(hostile, tmp_path):
    check_shell(hostile["dir"])
    calls = run_with_recorder(hostile["dir"] / "environments.sh", tmp_path)
    assert calls == [["environment", "add", EVIL_IMAGE, "--title", "R " + EVIL_R,
                      "--description", "connect-analysis plan: serves 3 content items", "--matching", "any",
                      "--r", f"{EVIL_R}=/opt/R/4.3.2 x'$(touch PWNED)/bin/R"]]
    waves = [str(w["wave"]) for w in json.loads((hostile["dir"] / "plan.json").read_text())["waves"]]
    calls = run_with_recorder(hostile["dir"] / "rebuild.sh", tmp_path, *waves)
    added = [argv[i + 1] for argv in calls if argv[:3] == ["content", "build", "add"]
             for i, a in enumerate(argv) if a == "-g"]
    assert sorted(added) == sorted([EVIL_GUID, "g2", "g3"])
    assert calls.count(["content", "build", "run", "--parallelism", "2"]) == len(waves)
    calls = run_with_recorder(hostile["dir"] / "caches.sh", tmp_path)
    assert calls == [  # dry runs only: the deletions are commented out
        ["system", "caches", "delete", "--language", "Python", "--version", "3.11.6",
         "--image-name", EVIL_IMAGE, "--dry-run"],
        ["system", "caches", "delete", "--language", "R", "--version", EVIL_CACHE,
         "--image-name", "Local", "--dry-run"]]
    for path in hostile["dir"].rglob("*"):
        if path.is_file():
            assert CANARY_KEY not in path.read_text()


def test_hostile_text_stays_in_containerfile_comments(hostile):
    plan = json.loads((hostile["dir"] / "plan.json").read_text())
    (custom,) = plan["custom_images"]  # g5's version is not a plain number: no Containerfile
    assert custom["guids"] == ["g4"] and custom["installs"] == {"r": "3.5.3"}
    assert plan["no_containerfile"] == [{"guid": "g5", "why": "its recorded versions are not plain version numbers"}]
    lines = (hostile["dir"] / custom["directory"] / "Containerfile").read_text().splitlines()
    continued = False
    for line in lines:
        if "PWNED" in line:
            assert line.startswith("#") and not continued
        assert continued or line.startswith(("#", "FROM ", "USER ", "SHELL ", "ARG ", "RUN ")), line
        continued = line.endswith("\\")
    assert "FROM evil" not in "\n".join(lines)
    assert lines[lines.index(next(x for x in lines if x.startswith("FROM ")))].startswith(
        "FROM ghcr.io/posit-dev/connect-content:")
    assert "ARG R_VERSION=3.5.3" in lines


@pytest.mark.parametrize("paths, message", [
    ("[1]", "`paths` must map r, python or quarto"),
    ("{nodejs: {}}", "`paths` must map r, python or quarto"),
    ('{r: {"4.3.3": relative/R}}', "`paths.r` must map versions to absolute paths"),
    ('{r: {"4.9.9": /opt/R/4.9.9/bin/R}}', "names versions the image does not list: 4.9.9"),
])
def test_bad_image_paths_are_one_clear_error(tmp_path, paths, message):
    from connect_analysis.analysis.images import load_images
    from connect_analysis.errors import AnalysisError

    images = tmp_path / "images.yaml"
    images.write_text(f'images:\n  - name: x\n    r: ["4.3.3"]\n    paths: {paths}\n')
    with pytest.raises(AnalysisError, match=re.escape(message)):
        load_images(str(images), pd.DataFrame(), pd.DataFrame())


def test_a_server_with_nothing_to_rebuild_still_gives_valid_files(tmp_path):
    from analysis_fixtures import small_snapshot

    snap = small_snapshot(content=[{"guid": "old", "id": "1", "name": "n", "title": "t", "app_mode": "shiny",
                                    "bundle_id": "1", "r_version": "3.1.0", "run_as_current_user": False}],
                          visits=[], shiny_sessions=[], content_tags=[], vanities=[], bundles=[],
                          content_storage=[])
    plan_dir = write_plan(analyze(snap, target_version="2026.06.0"), tmp_path)
    check_shell(plan_dir)
    assert yaml.safe_load((plan_dir / "values.yaml").read_text())["executionEnvironments"] == []
    assert json.loads((plan_dir / "environments.json").read_text()) == []
    assert rebuild_waves((plan_dir / "rebuild.sh").read_text()) == {}
    assert "The snapshot lists no runtime caches (no snapshot was given to the plan)" in (
        plan_dir / "caches.sh").read_text()
    done = subprocess.run(["bash", str(plan_dir / "rebuild.sh")], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], "CONNECT_SERVER": "x", "CONNECT_API_KEY": "y"})
    assert done.returncode == 2 and "waves: none" in done.stderr
    plan = json.loads((plan_dir / "plan.json").read_text())
    assert [i["verdict"] for i in plan["items"]] == ["blocked"] and plan["waves"] == []
    assert [c["needs"] for c in plan["custom_images"]] == [{"r": "3.1.0"}]
