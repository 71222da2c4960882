"""The plan's shell files on the demo snapshot (fixture `demo_plan`): rebuild.sh's waves,
caches.sh, preflight.sh, bash -n and shellcheck, and every rsconnect option they use."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from plan_checks import CANARY_KEY, check_shell, rebuild_waves, run_with_recorder

from connect_analysis.plan import build_plan


def test_rebuild_sh_lists_every_ready_or_conditional_item_once_in_its_wave(demo_plan):
    text = (demo_plan["dir"] / "rebuild.sh").read_text()
    waves = rebuild_waves(text)
    table = demo_plan["analysis"].readiness.set_index("guid")
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


def test_caches_sh_dry_runs_then_commented_deletions(demo_plan):
    text = (demo_plan["dir"] / "caches.sh").read_text()
    caches = demo_plan["snapshot"].runtime_caches
    dry = [line for line in text.splitlines() if line.endswith("--dry-run")]
    commented = [line for line in text.splitlines() if line.startswith("# rsconnect system caches delete")]
    assert len(dry) == len(commented) == len(caches) > 0
    assert [d.removesuffix(" --dry-run") for d in dry] == [c.removeprefix("# ") for c in commented]
    words = shlex.split(dry[0])
    assert words[:4] == ["rsconnect", "system", "caches", "delete"]
    assert {"--language", "--version", "--image-name", "--dry-run"} <= set(words)


def test_shell_files_pass_bash_n_and_shellcheck_and_hold_no_key(demo_plan):
    check_shell(demo_plan["dir"])
    for path in demo_plan["dir"].rglob("*"):
        if path.is_file():
            assert CANARY_KEY not in path.read_text()


def test_nodeport_check_only_when_asked(demo_plan, tmp_path):
    plain = build_plan(demo_plan["analysis"]).files["preflight.sh"]
    asked = build_plan(demo_plan["analysis"], service_type="NodePort").files["preflight.sh"]
    flag = build_plan(demo_plan["analysis"], check_nodeports=True).files["preflight.sh"]
    assert "--nodes" not in plain and "ClusterIP by default" in plain
    assert asked == flag and 'connect-analysis preflight --service-type NodePort --nodes "$NODES"' in asked
    assert "nc -vz" in plain and '"$NFS_HOST" "$NFS_PORT"' in plain and '"$PG_HOST" "$PG_PORT"' in plain
    path = tmp_path / "preflight.sh"
    path.write_text(asked)
    assert subprocess.run(["shellcheck", str(path)]).returncode == 0


def test_preflight_sh_runs_posits_busybox_checks(demo_plan, tmp_path):
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
    done = subprocess.run(["bash", str(demo_plan["dir"] / "preflight.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    pod = ["run", "--rm", "-i", "--namespace", "connect"]
    assert calls == [
        pod + ["storage-check", "--image=busybox", "--restart=Never", "--", "nc", "-vz", "nfs.internal", "2049"],
        pod + ["pg-check", "--image=busybox", "--restart=Never", "--", "nc", "-vz", "db 'internal $(x)", "5432"]]
    missing = subprocess.run(["bash", str(demo_plan["dir"] / "preflight.sh")], capture_output=True, text=True,
                             env={"PATH": env["PATH"], "HOME": str(tmp_path)}, timeout=60)
    assert missing.returncode != 0 and "set NFS_HOST" in missing.stderr and not log.read_text().count("\n") > 2


def test_every_rsconnect_option_used_is_one_the_installed_rsconnect_has(demo_plan, tmp_path):
    """The scripts' rsconnect commands, as bash passes them (a recorder in place of rsconnect),
    checked against `rsconnect <command> --help` of the installed rsconnect-python."""
    rsconnect = Path(sys.executable).with_name("rsconnect")
    assert rsconnect.exists(), "rsconnect-python is not installed in this environment"
    calls = run_with_recorder(demo_plan["dir"] / "environments.sh", tmp_path)
    waves = [str(w["wave"]) for w in json.loads((demo_plan["dir"] / "plan.json").read_text())["waves"]]
    calls += run_with_recorder(demo_plan["dir"] / "rebuild.sh", tmp_path, *waves)
    calls += run_with_recorder(demo_plan["dir"] / "caches.sh", tmp_path)
    deletions = [shlex.split(line[2:])[1:] for line in (demo_plan["dir"] / "caches.sh").read_text().splitlines()
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
