"""run_preflight, the results' JSON and the `preflight` command (the checks: test_preflight_*.py)."""

import json
import os
import subprocess
import sys

import pytest
from preflight_targets import (
    listeners,
    simulator_fixture,  # noqa: F401 - the `simulator` fixture
)

from connect_analysis.errors import ConfigError
from connect_analysis.preflight import (
    CheckResult,
    parse_port_range,
    read_results,
    results_to_json,
    run_preflight,
)


def test_run_preflight_runs_only_the_checks_given(tmp_path):
    with listeners(1) as port:
        results = run_preflight(postgres=f"127.0.0.1:{port}", nodes=["127.0.0.1"],
                                port_range=(port, port))
    assert [(r.name, r.ok) for r in results] == [("postgres", True), ("nodeport", True)]


def test_run_preflight_without_targets_is_a_config_error():
    with pytest.raises(ConfigError):
        run_preflight()
    with pytest.raises(ConfigError):
        parse_port_range("32767-30000")
    assert parse_port_range("30000-32767") == (30000, 32767)


def test_json_round_trip_and_format(tmp_path):
    results = [CheckResult("storage", "/mnt/x", True, "fine"),
               CheckResult("connect", "http://c", False, "down", "start it")]
    text = results_to_json(results)
    assert json.loads(text) == [
        {"name": "storage", "target": "/mnt/x", "ok": True, "detail": "fine", "fix": None},
        {"name": "connect", "target": "http://c", "ok": False, "detail": "down", "fix": "start it"},
    ]
    (tmp_path / "r.json").write_text(text)
    assert read_results(tmp_path / "r.json") == results
    (tmp_path / "bad.json").write_text('[{"name": "storage"}]')
    with pytest.raises(ConfigError):
        read_results(tmp_path / "bad.json")


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "connect_analysis.cli", "preflight", *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "CONNECT_SERVER": "", **(env or {})})


def test_cli_json_exit_zero_when_all_pass(tmp_path):
    with listeners(2) as port:
        done = _cli("--postgres", f"127.0.0.1:{port}", "--storage", str(tmp_path),
                    "--storage-required-bytes", "1", "--nodes", "127.0.0.1",
                    "--port-range", f"{port}-{port + 1}", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [(d["name"], d["ok"], d["fix"]) for d in data] == [
        ("postgres", True, None), ("storage", True, None), ("nodeport", True, None)]
    assert all(set(d) == {"name", "target", "ok", "detail", "fix"} for d in data)


def test_cli_exit_one_when_any_fails(tmp_path):
    with listeners(1) as port:
        done = _cli("--postgres", f"127.0.0.1:{port}", "--storage", str(tmp_path / "missing"))
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith(f"PASS  postgres  127.0.0.1:{port}")
    assert done.stdout.splitlines()[1].startswith("FAIL  storage")
    assert "1 of 2 checks passed" in done.stdout
    assert "Traceback" not in done.stderr


def test_cli_bad_input_is_one_line():
    done = _cli("--nodes", "127.0.0.1", "--port-range", "abc")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: port range 'abc' is not LOW-HIGH, e.g. 30000-32767"]
    done = _cli()
    assert done.returncode == 1 and done.stderr.startswith("error: nothing to check")


@pytest.mark.postgres
def test_cli_all_four_checks_as_json(postgres_server, simulator, tmp_path):
    """Every check from the command line at once: a real PostgreSQL by DSN, a directory, a node
    with listening ports and the simulator with its key. Then one failing target flips the exit."""
    with listeners(2) as port:
        args = ["--postgres", postgres_server.dsn(), "--storage", str(tmp_path),
                "--storage-required-bytes", "1", "--nodes", "127.0.0.1",
                "--port-range", f"{port}-{port + 1}", "--server", simulator.url, "--json"]
        done = _cli(*args, env={"CONNECT_API_KEY": "k"})
        failing = _cli(*args, env={"CONNECT_API_KEY": "not-the-key"})
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert [(d["name"], d["ok"], d["fix"]) for d in data] == [
        ("postgres", True, None), ("storage", True, None), ("nodeport", True, None),
        ("connect", True, None)]
    assert data[0]["detail"].startswith("logged in; PostgreSQL")
    assert postgres_server.password not in done.stdout + done.stderr
    assert failing.returncode == 1 and "Traceback" not in failing.stderr
    assert [d["ok"] for d in json.loads(failing.stdout)] == [True, True, True, False]
    assert "not-the-key" not in failing.stdout + failing.stderr


def test_nodeport_check_is_skipped_with_its_reason_unless_asked(tmp_path):
    from connect_analysis.preflight import NODEPORT_SKIPPED, skipped_checks

    assert skipped_checks([""], "ClusterIP") == [("nodeport", NODEPORT_SKIPPED)]
    assert skipped_checks(["node-1"], "ClusterIP") == []
    assert skipped_checks([], "NodePort") == []
    done = _cli("--storage", str(tmp_path), "--storage-required-bytes", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1] == f"SKIP  nodeport  {NODEPORT_SKIPPED}"
    assert "ClusterIP by default" in lines[1] and lines[-1] == "1 of 1 checks passed"
    done = _cli("--storage", str(tmp_path), "--storage-required-bytes", "1", "--json")
    assert [d["name"] for d in json.loads(done.stdout)] == ["storage"]  # the contract is unchanged
    assert done.stderr.strip() == f"note: nodeport {NODEPORT_SKIPPED}"


def test_service_type_nodeport_needs_nodes_and_runs_the_check(tmp_path):
    done = _cli("--storage", str(tmp_path), "--service-type", "NodePort")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: NodePort Services: give --nodes HOST,... to check the NodePort range on"]
    with listeners(1) as port:
        done = _cli("--service-type", "NodePort", "--nodes", "127.0.0.1", "--port-range", f"{port}-{port}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(f"PASS  nodeport  127.0.0.1:{port}-{port}")
    assert "SKIP" not in done.stdout
