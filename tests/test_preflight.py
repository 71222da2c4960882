"""Preflight checks against real listeners on loopback and a real PostgreSQL server."""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
from loopback import serve

from connect_analysis.errors import ConfigError
from connect_analysis.preflight import (
    CheckResult,
    parse_port_range,
    read_results,
    results_to_json,
    run_preflight,
)
from connect_analysis.preflight.connect import check_connect
from connect_analysis.preflight.nodeports import check_nodeports, sample_ports
from connect_analysis.preflight.postgres import check_postgres, redact
from connect_analysis.preflight.storage import DEFAULT_REQUIRED_BYTES, check_storage

# --- loopback helpers ------------------------------------------------------------------------------


@contextlib.contextmanager
def listeners(count: int):
    """`count` listening sockets on consecutive loopback ports; yields the first port."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                socks.append(s)
                s.bind(("127.0.0.1", port))
                s.listen(16)
        except OSError:
            for s in socks:
                s.close()
            continue
        try:
            yield base
        finally:
            for s in socks:
                s.close()
        return
    raise RuntimeError("no block of free loopback ports")


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def silent_port():
    """A port whose connections get no answer: a listener with a full accept queue drops SYNs,
    which on loopback behaves like a firewall that drops traffic."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        # fill the accept queue until a connect attempt times out
        for _ in range(8):
            c = socket.socket()
            c.settimeout(0.3)
            fillers.append(c)
            try:
                c.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            raise RuntimeError("could not saturate a loopback listener")
        yield port
    finally:
        for c in fillers:
            c.close()
        server.close()


def plain_site(h):
    """An ordinary web server: a page at /, 404 elsewhere."""
    h.send_text("<html>hello</html>" if h.path == "/" else "not found", 200 if h.path == "/" else 404,
                "text/html")


def expired_licence(h):
    """A Connect whose licence has expired: /__ping__ answers 402."""
    h.send_text("", 402)


# --- postgres --------------------------------------------------------------------------------------


def test_postgres_tcp_open_port_passes():
    with listeners(1) as port:
        result = check_postgres(f"127.0.0.1:{port}")
    assert (result.name, result.target, result.ok, result.fix) == (
        "postgres", f"127.0.0.1:{port}", True, None)
    assert "TCP port open" in result.detail


def test_postgres_tcp_closed_port_fails_with_a_fix():
    port = closed_port()
    result = check_postgres(f"127.0.0.1:{port}")
    assert not result.ok
    assert result.detail == "connection refused"
    assert "listen_addresses" in result.fix


@pytest.mark.parametrize("target", ["127.0.0.1:notaport", "127.0.0.1:70000", ":5432"])
def test_postgres_malformed_target_is_a_result(target):
    result = check_postgres(target)
    assert not result.ok and "HOST:PORT" in result.fix


@pytest.mark.postgres
def test_postgres_dsn_logs_in_and_reads_the_version(postgres_server):
    result = check_postgres(postgres_server.dsn())
    assert result.ok, result.detail
    assert result.detail.startswith(f"logged in; PostgreSQL {postgres_server.version}.")
    assert postgres_server.password not in result.target + result.detail
    assert f"port={postgres_server.port}" in result.target and "user=kit" in result.target


@pytest.mark.postgres
def test_postgres_dsn_with_a_wrong_password_fails(postgres_server):
    result = check_postgres(postgres_server.dsn(password="wrong-password"))
    assert not result.ok
    assert 'password authentication failed for user "kit"' in result.detail
    assert "password" in result.fix
    assert "wrong-password" not in result.target + result.detail + result.fix


@pytest.mark.postgres
def test_postgres_dsn_to_a_closed_port_fails(postgres_server):
    result = check_postgres(postgres_server.dsn(port=closed_port()))
    assert not result.ok
    assert "Connection refused" in result.detail
    assert "nothing accepts connections" in result.fix


def test_postgres_malformed_dsn_is_a_result():
    result = check_postgres("host=127.0.0.1 bogus_option=1 password=s3cret")
    assert not result.ok and "invalid DSN" in result.detail
    assert "s3cret" not in result.target + result.detail


def test_redact_drops_the_password():
    assert redact("postgresql://u:s3cret@db:5433/app") == "user=u dbname=app host=db port=5433"


# --- storage ---------------------------------------------------------------------------------------


def test_storage_writable_with_space_passes(tmp_path):
    result = check_storage(tmp_path, required_bytes=10**6)
    assert result.ok, result.detail
    assert "required 0.0 GB (1000000 bytes; required size given)" in result.detail
    assert list(tmp_path.iterdir()) == []  # the probe file was removed


def test_storage_larger_than_the_filesystem_fails(tmp_path):
    total = shutil.disk_usage(tmp_path).total
    result = check_storage(tmp_path, required_bytes=total + 1)
    assert not result.ok
    assert f"({total + 1} bytes; required size given)" in result.detail
    assert result.fix.startswith("grow the volume by at least")
    assert list(tmp_path.iterdir()) == []


def test_storage_default_requirement_is_100_gb(tmp_path):
    result = check_storage(tmp_path)
    assert DEFAULT_REQUIRED_BYTES == 10**11
    assert "(100000000000 bytes; default minimum 100 GB)" in result.detail
    assert result.ok == (shutil.disk_usage(tmp_path).free >= 10**11)


def test_storage_missing_path_fails(tmp_path):
    result = check_storage(tmp_path / "not-mounted", required_bytes=1)
    assert not result.ok and "does not exist" in result.detail and "mount" in result.fix


def test_storage_a_file_is_not_a_directory(tmp_path):
    (tmp_path / "f").write_text("x")
    result = check_storage(tmp_path / "f", required_bytes=1)
    assert not result.ok and "is not a directory" in result.detail


@pytest.fixture
def read_only_dir(tmp_path):
    """A directory the current user cannot create files in (root: the immutable attribute)."""
    target = tmp_path / "ro"
    target.mkdir()
    if os.geteuid() == 0:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(target)]).returncode:
            pytest.skip("running as root and cannot set the immutable attribute (chattr)")
        yield target
        subprocess.run(["chattr", "-i", str(target)], check=True)
    else:
        target.chmod(0o555)
        yield target
        target.chmod(0o755)


def test_storage_not_writable_fails(read_only_dir):
    result = check_storage(read_only_dir, required_bytes=1)
    assert not result.ok
    assert result.detail.startswith(f"cannot write a file in {read_only_dir}")
    assert "writable" in result.fix


def test_storage_from_a_snapshot_equals_the_analysis_without_running_it(tmp_path, monkeypatch):
    import pandas as pd

    from connect_analysis import analysis
    from connect_analysis.snapshot import load_snapshot, write_snapshot

    bundles = pd.DataFrame({"content_guid": ["a", "a", "b"], "id": ["1", "2", "3"],
                            "size": [40 * 10**9, 5 * 10**9, 30 * 10**9], "active": [True, False, True]})
    snap = write_snapshot(tmp_path / "snap", {"bundles": bundles}, {"server_url": "http://127.0.0.1:1"})
    expected = int(analysis.analyze(load_snapshot(snap)).summary["storage"]["recommended_bytes"])
    assert expected == 2 * 75 * 10**9
    monkeypatch.setattr(analysis.core, "analyze", None)  # the check must not run it
    monkeypatch.setattr(analysis, "analyze", None)
    (tmp_path / "mnt").mkdir()
    result = check_storage(tmp_path / "mnt", snapshot=snap)
    assert f"({expected} bytes; recommended capacity from snapshot {snap})" in result.detail


def test_storage_from_an_empty_snapshot_uses_the_minimum(tmp_path):
    from connect_analysis import analysis
    from connect_analysis.snapshot import load_snapshot, write_snapshot

    snap = write_snapshot(tmp_path / "snap", {}, {"server_url": "http://127.0.0.1:1"})
    expected = int(analysis.analyze(load_snapshot(snap)).summary["storage"]["recommended_bytes"])
    assert expected == 10**11  # an empty server: max(100 GB, 2 x 0)
    (tmp_path / "mnt").mkdir()
    result = check_storage(tmp_path / "mnt", snapshot=snap)
    assert f"({expected} bytes; recommended capacity from snapshot {snap})" in result.detail
    assert result.ok == (shutil.disk_usage(tmp_path).free >= expected)


def test_storage_with_an_unreadable_snapshot_fails(tmp_path):
    (tmp_path / "not-a-snapshot").mkdir()
    result = check_storage(tmp_path, snapshot=tmp_path / "not-a-snapshot")
    assert not result.ok
    assert "snapshot" in result.detail and "snapshot" in result.fix


# --- nodeports -------------------------------------------------------------------------------------


def test_sample_ports_small_range_is_complete_and_large_range_is_sampled():
    assert sample_ports(30000, 30009) == list(range(30000, 30010))
    sample = sample_ports(30000, 32767, 128)
    assert len(sample) == 128 and sample[0] == 30000 and sample[-1] == 32767
    assert sample == sorted(set(sample))
    assert sample_ports(30000, 32767, 128) == sample  # deterministic


def test_nodeports_all_listening_passes():
    with listeners(4) as base:
        [result] = check_nodeports(["127.0.0.1"], (base, base + 3), timeout=0.5)
    assert result.ok and result.fix is None
    assert result.target == f"127.0.0.1:{base}-{base + 3}"
    assert result.detail.startswith(f"all 4 ports {base}-{base + 3}: 4 open, 0 refused")


def test_nodeports_refused_ports_count_as_reachable():
    port = closed_port()
    [result] = check_nodeports(["127.0.0.1"], (port, port), timeout=0.5)
    assert result.ok
    assert "0 open, 1 refused" in result.detail and "0 no answer" in result.detail


def test_nodeports_a_port_without_answer_fails():
    with listeners(1) as open_port, silent_port() as quiet:
        low, high = sorted((open_port, quiet))
        [result] = check_nodeports(["127.0.0.1"], (low, high), timeout=0.3, max_ports=2)
    assert not result.ok
    assert "1 open" in result.detail and "1 no answer within 0.3 s" in result.detail
    assert f"e.g. port {quiet}" in result.detail
    assert f"open TCP {low}-{high} from this host to 127.0.0.1" in result.fix


def test_nodeports_large_range_states_the_sample_size():
    results = check_nodeports(["127.0.0.1", "localhost"], (40000, 44999), timeout=0.3, max_ports=16)
    assert [r.target for r in results] == ["127.0.0.1:40000-44999", "localhost:40000-44999"]
    for r in results:
        assert "a sample of 16 of 5000 ports 40000-44999" in r.detail


# --- connect ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulator():
    import connect_simulator as sim_module

    with sim_module.start_simulator(scenario="demo", api_key="k", port=0) as sim:
        yield sim


def test_connect_simulator_with_an_admin_key_passes(simulator):
    seen = len(simulator.request_log)
    result = check_connect(simulator.url, api_key="k")
    assert result.ok, result.detail
    assert [(m, p.split("?")[0], s) for m, p, s in simulator.request_log[seen:]] == [
        ("GET", "/__ping__", 200), ("GET", "/__api__/server_settings", 200),
        ("GET", "/__api__/v1/user", 200)]
    assert result.target == simulator.url.rstrip("/")
    assert result.detail.startswith("/__ping__ 200; API answers (Connect ")
    assert "(administrator)" in result.detail


def test_connect_without_a_key_checks_ping_and_api(simulator):
    result = check_connect(simulator.url + "/")
    assert result.ok
    assert result.detail.endswith("CONNECT_API_KEY not set: the key was not checked")


def test_connect_bad_key_fails(simulator):
    result = check_connect(simulator.url, api_key="wrong")
    assert not result.ok
    assert "the API key was refused (401)" in result.detail
    assert "CONNECT_API_KEY" in result.fix
    assert "wrong" not in result.detail + result.fix


def test_connect_plain_web_server_is_not_connect():
    with serve(plain_site) as srv:
        result = check_connect(srv.url, api_key="k")
    assert not result.ok
    assert result.detail == "/__ping__ answered 404: not a Connect server at this URL"


def test_connect_expired_licence_fails():
    with serve(expired_licence) as srv:
        result = check_connect(srv.url)
    assert not result.ok and "licence has expired" in result.detail


def redirecting(h):
    """Sends every request to another host; the check must not follow (nor carry the key)."""
    h.send_text("", 302, headers={"Location": "http://localhost:9/elsewhere"})


def test_connect_redirect_is_reported_not_followed():
    with serve(redirecting) as srv:
        result = check_connect(srv.url, api_key="k")
    assert not result.ok
    assert result.detail == "/__ping__ redirects to http://localhost:9/elsewhere"
    assert "redirects to" in result.fix


def test_connect_reads_tls_settings_as_the_client_does(simulator, monkeypatch):
    from connect_analysis.client import Client

    monkeypatch.setenv("CONNECT_INSECURE", "sometimes")
    with pytest.raises(ConfigError) as err:
        Client(simulator.url, "k")
    result = check_connect(simulator.url, api_key="k")
    assert not result.ok and result.detail == str(err.value) and "CONNECT_INSECURE" in result.detail
    monkeypatch.setenv("CONNECT_INSECURE", "on")  # a value the client accepts is accepted here too
    assert check_connect(simulator.url, api_key="k").ok


@pytest.mark.parametrize("url", ["ftp://connect.example", "http://user:pw@127.0.0.1:1"])
def test_connect_bad_url_is_a_result_without_credentials(url):
    result = check_connect(url)
    assert not result.ok and result.detail.startswith("not a usable server URL")
    assert "pw" not in result.target + result.detail


def test_connect_unreachable_is_a_result():
    result = check_connect(f"http://127.0.0.1:{closed_port()}")
    assert not result.ok and result.detail == "/__ping__: cannot connect"


# --- run_preflight, JSON, CLI ----------------------------------------------------------------------


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
def test_postgres_host_port_of_a_real_server_passes(postgres_server):
    result = check_postgres(f"127.0.0.1:{postgres_server.port}")
    assert result.ok and result.target == f"127.0.0.1:{postgres_server.port}"


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
