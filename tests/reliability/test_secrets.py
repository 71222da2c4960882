"""Secrets: the API key goes to the configured server and nowhere else.

Every command of the suite is scanned by the `kit` fixture (stdout, stderr, every file
under the test's directory, HOME included). This file adds what a scan cannot see:
redirects to other hosts, help texts, a key pasted into the URL, and proof that the scan
itself finds a key when there is one.
"""

from __future__ import annotations

import odd_servers as odd
import pytest
from loopback import serve
from rel_suite import FIGURES, KEY, SINCE, Figures, Kit, assert_one_line

SUBCOMMANDS = ["analyze", "bundle", "compare", "demo", "fetch", "preflight", "report", "run", "simulate"]


def connect_without_key(h):
    """What a real Connect answers to a request without a key."""
    h.send_json({"code": 24, "error": "You must be authenticated to perform this action.",
                 "payload": None}, 401)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"], ids=["other-host-name", "other-port"])
def test_a_redirect_to_another_host_does_not_carry_the_key(kit, snapshot_copy, host):
    FIGURES.tried(f"redirect to another server ({host})")
    with serve(connect_without_key, host=host) as other, odd.redirecting_to(other.url) as first:
        run = kit("fetch", "--server", first.url, "--out", snapshot_copy, "--since", SINCE)
    assert_one_line(run, "another host", "not sent there")
    assert other.requests, "the redirect was followed"
    for method, _, headers in other.requests:
        assert method == "GET"
        assert "Authorization" not in headers and KEY not in repr(headers)
    assert all(h.get("Authorization") == f"Key {KEY}" for _, _, h in first.requests)
    assert first.requests and {m for m, _, _ in first.requests} == {"GET"}
    FIGURES.requests_logged += len(other.requests) + len(first.requests)


def test_a_redirect_to_a_connect_server_elsewhere_gets_no_key(kit, simulators, demo_dataset):
    """An old address that redirects to a (simulated) Connect on another port: that server
    sees no key, so it answers 401, and the kit says why in one line."""
    FIGURES.tried("redirect to a Connect server elsewhere")
    sim = simulators(demo_dataset)
    with odd.redirecting_to(sim.url) as first:
        run = kit("fetch", "--server", first.url, "--out", kit.base / "snap", "--since", SINCE)
    assert_one_line(run, "another host", "not sent there", "pass it as --server")
    authenticated = [status for _, path, status in sim.request_log if path != "/__api__/server_settings"]
    assert authenticated and set(authenticated) == {401}


@pytest.mark.parametrize("args", [["--help"], ["--version"]] + [[c, "--help"] for c in SUBCOMMANDS])
def test_help_never_shows_the_key(kit, args):
    run = kit(*args)  # the scan fails the test if the key is in the output
    assert run.returncode == 0 and run.stdout.strip(), str(run)
    assert "CONNECT_API_KEY" in run.stdout or args != ["fetch", "--help"]


def test_a_key_pasted_into_the_server_url_is_not_echoed(kit, snapshot_copy):
    FIGURES.tried("key pasted into the server URL")
    run = kit("fetch", "--server", f"https://admin:{KEY}@connect.example.com", "--out", snapshot_copy,
              env={"CONNECT_API_KEY": "some-other-key"})
    assert_one_line(run, "must not contain credentials")


def test_other_commands_that_talk_to_connect_keep_the_key(kit, simulators, demo_dataset, clean_snapshot):
    """preflight's Connect check and compare, with the key in the environment."""
    sim = simulators(demo_dataset)
    run = kit("preflight", "--server", sim.url, "--json")
    assert "Traceback" not in run.stderr and '"connect' in run.stdout.lower(), str(run)
    run = kit("compare", clean_snapshot, clean_snapshot, "--out", kit.base / "compare")
    assert run.returncode == 0, str(run)  # GET only: checked as the simulators fixture ends


def test_the_scan_finds_a_key_when_there_is_one(tmp_path):
    """The scan that guards every command, shown to work (on its own counter)."""
    figures = Figures()
    kit = Kit(tmp_path, figures)
    (tmp_path / "home" / "leak.log").write_text(f"Authorization: Key {KEY}\n")
    with pytest.raises(AssertionError, match="leak.log"):
        kit.scan()
    assert figures.secrets_found == 1 and figures.files_scanned == 1
