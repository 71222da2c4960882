"""Issue 18: a TLS failure says why (expired, another name, an unknown CA) and names
CONNECT_CA_CERTIFICATE only when setting it would help. Real TLS on loopback: the
simulator behind certificates made by openssl in the test."""

from __future__ import annotations

import odd_servers as odd
import pytest
from hostile import case, fetch_bounded, intact
from rel_suite import FIGURES, KEY, assert_one_line


@pytest.fixture
def pki(kit):
    d = kit.base.parent / f"{kit.base.name}-pki"  # beside the directory the scan checks
    d.mkdir()
    ca = odd.make_ca(d)
    return d, ca


@pytest.mark.parametrize("kind, san, days, trust, words, names_variable", [
    ("expired", "IP:127.0.0.1", -1, "ca", ["has expired"], False),
    ("other-name", "DNS:connect.example.com", 2, "ca", ["for another address"], False),
    ("unknown-ca-set", "IP:127.0.0.1", 2, "other-ca", ["signed by a CA not trusted here", "does not hold the CA"], True),
    ("unknown-ca-unset", "IP:127.0.0.1", 2, None, ["signed by a CA not trusted here", "set CONNECT_CA_CERTIFICATE"], True),
])
@case("a TLS failure says why, and what to set only when it is not set")
def test_tls_failures_say_why(kit, snapshot_copy, demo_dataset, pki, kind, san, days, trust, words, names_variable):
    FIGURES.tried(f"TLS {kind}")
    d, ca = pki
    cert, key = odd.issue(d, ca, kind, san, days)
    env = {}
    if trust == "ca":
        env["CONNECT_CA_CERTIFICATE"] = str(ca[0])
    elif trust == "other-ca":
        env["CONNECT_CA_CERTIFICATE"] = str(odd.make_ca(d, "Other CA")[0])
    sim = odd.tls_simulator(demo_dataset, KEY, cert, key)
    try:
        run, before, _ = fetch_bounded(kit, snapshot_copy, sim.url, env=env)
    finally:
        sim.stop()
    line = assert_one_line(run, "TLS verification failed", *words)
    assert ("CONNECT_CA_CERTIFICATE" in line) == names_variable, line
    intact(snapshot_copy, before)
    assert sim.request_log == [], "the key never crossed a connection that failed verification"
