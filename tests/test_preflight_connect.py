"""The Connect check: the simulator, a plain web server, an expired licence, redirects, bad URLs."""


import pytest
from loopback import serve
from preflight_targets import (
    closed_port,
    expired_licence,
    plain_site,
    redirecting,
    simulator_fixture,  # noqa: F401 - the `simulator` fixture
)

from connect_analysis.errors import ConfigError
from connect_analysis.preflight.connect import check_connect


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



def test_connect_goes_through_the_one_client():
    """The check's requests are the kit client's (its User-Agent, no retry), the key goes only to
    /v1/user, and an answer over the client's size limit is a result, not an exception."""
    from connect_analysis.client import Client

    seen = []

    def connect_like(h):
        seen.append((h.path, h.headers.get("User-Agent"), h.headers.get("Authorization")))
        if h.path == "/__ping__":
            h.send_text("", 200)
        elif h.path == "/__api__/server_settings":
            h.send_json({"version": "2024.09.0"})
        else:
            h.send_json({"username": "ada", "user_role": "administrator"})

    agent = Client("http://127.0.0.1:1", "k").session.headers["User-Agent"]
    with serve(connect_like) as srv:
        result = check_connect(srv.url, api_key="preflight-key-1")
    assert result.ok, result.detail
    assert seen == [("/__ping__", agent, None), ("/__api__/server_settings", agent, None),
                    ("/__api__/v1/user", agent, "Key preflight-key-1")]


def test_connect_answer_over_the_size_limit_is_a_result(monkeypatch):
    monkeypatch.setenv("CONNECT_MAX_BODY_MB", "0.001")  # 1,048 bytes

    def huge(h):
        h.send_text("x" * 5000, 200)  # /__ping__ answers more than the limit

    with serve(huge) as srv:
        result = check_connect(srv.url)
    assert not result.ok
    assert result.detail == "/__ping__: request failed: BodyRefused"
