"""The PostgreSQL check: TCP HOST:PORT against loopback listeners, DSNs against a real server."""


import pytest
from preflight_targets import closed_port, listeners

from connect_analysis.preflight.postgres import check_postgres, redact


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



@pytest.mark.postgres
def test_postgres_host_port_of_a_real_server_passes(postgres_server):
    result = check_postgres(f"127.0.0.1:{postgres_server.port}")
    assert result.ok and result.target == f"127.0.0.1:{postgres_server.port}"

