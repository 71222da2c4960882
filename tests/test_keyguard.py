"""connect_analysis/_keyguard.py: where the key may go, masking it, and path segments."""

from __future__ import annotations

import json

import pytest

from connect_analysis import _keyguard as kg
from connect_analysis.errors import ConfigError

KEY = "k3y-0123456789abcdef/xyz"


@pytest.mark.parametrize("url, origin", [
    ("http://connect.example.com/__api__/", ("http", "connect.example.com", 80)),
    ("HTTPS://Connect.Example.com:8443", ("https", "connect.example.com", 8443)),
    ("http://[::1]:3939/x", ("http", "[::1]", 3939)),
])
def test_origin_is_what_urllib3_connects_to(url, origin):
    assert kg.origin(url) == origin


@pytest.mark.parametrize("url, why", [
    ("http://other\\@server/x", "backslash"), ("http://user@server/", "user info"),
    ("file:///etc/passwd", "file://"), ("ftp://server/x", "ftp://"), ("http://[::1/x", "not a valid URL"),
    ("http://server:99999/", "port 99999"), ("http://ser ver/", "space"), ("//server/x", "missing"),
])
def test_ambiguous_or_other_urls_are_refused(url, why):
    with pytest.raises(kg.UnsafeURL, match=why.replace("\\", "\\\\")):
        kg.origin(url)


def test_same_origin_allows_only_the_same_host_and_port_or_the_tls_upgrade():
    assert kg.same_origin("http://a.example", "http://a.example:80/x")
    assert kg.same_origin("http://a.example", "https://a.example/x")
    assert not kg.same_origin("https://a.example", "http://a.example/x")
    assert not kg.same_origin("http://a.example", "http://a.example:8080/")
    assert not kg.same_origin("http://a.example", "http://b.example/")
    with pytest.raises(kg.UnsafeURL):
        kg.same_origin("http://a.example", "http://b.example\\@a.example/")


@pytest.mark.parametrize("bad", [KEY + "\n", "a b" + KEY, KEY + "\u20ac", "\t"])
def test_check_key_never_shows_the_key(bad):
    if bad.strip() == "":
        with pytest.raises(ConfigError, match="no API key"):
            kg.check_key(bad)
        return
    with pytest.raises(ConfigError) as e:
        kg.check_key(bad.replace("\n", "\nx"))
    assert KEY not in str(e.value) and "visible ASCII" in str(e.value)
    assert kg.check_key(f"  {KEY}\n") == KEY


def test_the_redactor_masks_every_form_of_the_key():
    r = kg.Redactor([KEY])
    escaped = "".join(f"\\u{ord(c):04x}" for c in KEY)
    body = ('{{"a": "x {} y", "b": "{}", "c": "{}", "d": "{}", "e": "\\u003c\\u0022"}}'.format(
        KEY, KEY.replace("/", "\\/"), escaped, KEY.replace("/", "%2F"))).encode()
    masked = r.body(body)
    assert KEY.encode() not in masked and b"xyz" not in masked
    decoded = json.loads(masked)
    assert decoded == {"a": "x *** y", "b": "***", "c": "***", "d": "***", "e": '<"'}
    assert r.text(f"GET /x?k={KEY}") == "GET /x?k=***"
    assert kg.Redactor(["k"]).body(b'{"ok": 1}') == b'{"ok": 1}'  # too short to be a key


@pytest.mark.parametrize("value, segment", [
    ("6f300623-1e0c-48e6-a473-ddf630c0c0c3", "6f300623-1e0c-48e6-a473-ddf630c0c0c3"),
    ("../../etc", "%2E%2E%2F%2E%2E%2Fetc"), ("/tmp/x", "%2Ftmp%2Fx"), ("..", "%2E%2E"),
    ("a?b#c", "a%3Fb%23c"), ("", "%20"), (42, "42"),
])
def test_a_server_id_is_one_path_segment(value, segment):
    assert kg.segment(value) == segment
