"""The Connect check: the server answers `/__ping__` and its API (GET requests only).

`/__api__/server_settings` gives the version; with CONNECT_API_KEY set, `/__api__/v1/user`
shows whose key it is. Redirects are not followed, so the key never travels elsewhere.
This check reads raw statuses, one request each (Client.probe: no retries), without a key when
none is set, through the one client: its TLS settings (CONNECT_INSECURE, CONNECT_CA_CERTIFICATE),
proxies, size limits and key masking.
"""

from __future__ import annotations

import re

import requests

from .._bounds import BodyRefused
from ..client import Client, normalize_server
from ..errors import ConfigError
from . import CheckResult

TIMEOUT_S = 10


def check_connect(server: str, api_key: str | None = None) -> CheckResult:
    """Check a Connect server. api_key (from CONNECT_API_KEY) is optional. Never raises."""
    try:
        base = normalize_server(server)
    except ConfigError as e:
        return CheckResult("connect", _without_credentials(server), False, f"not a usable server URL: {e}",
                           "give the server's URL, e.g. https://connect.example.com")
    try:
        client = Client(base, api_key or "", timeout=(TIMEOUT_S, TIMEOUT_S), key_required=False)
    except ConfigError as e:
        return CheckResult("connect", base, False, str(e),
                           "fix CONNECT_INSECURE / CONNECT_CA_CERTIFICATE / CONNECT_API_KEY in the environment")
    with client:
        steps = [_ping, _server_settings] + ([_current_user] if api_key else [])
        found = []
        for step in steps:
            ok, text, fix = step(client)
            found.append(text)
            if not ok:
                return CheckResult("connect", base, False, "; ".join(found), fix)
    if not api_key:
        found.append("CONNECT_API_KEY not set: the key was not checked")
    return CheckResult("connect", base, True, "; ".join(found))


def _without_credentials(url: str) -> str:
    """The URL as given, with any user:password@ part masked."""
    return re.sub(r"(//)[^/@]*@", r"\1***@", url)


def _get(client: Client, path: str, with_key: bool = False):
    """(response, None) or (None, why it failed)."""
    try:
        return client.probe(path, with_key=with_key), None
    except requests.exceptions.SSLError as e:
        return None, f"TLS failed: {type(e).__name__}"
    except requests.exceptions.Timeout:
        return None, f"no answer within {TIMEOUT_S} s"
    except requests.exceptions.ConnectionError:
        return None, "cannot connect"
    except (requests.exceptions.RequestException, BodyRefused) as e:
        return None, f"request failed: {type(e).__name__}"


def _redirected(response) -> str | None:
    if response.is_redirect:
        return f"redirects to {response.headers.get('Location', '?')}"
    return None


_UNREACHABLE_FIX = ("check the URL, DNS and the firewall between this cluster and the Connect "
                    "server; for TLS, set CONNECT_CA_CERTIFICATE to the CA bundle")
_REDIRECT_FIX = "use the URL the server redirects to (scheme, host and path prefix)"


def _ping(client):
    response, error = _get(client, "__ping__")
    if error:
        return False, f"/__ping__: {error}", _UNREACHABLE_FIX
    if (moved := _redirected(response)):
        return False, f"/__ping__ {moved}", _REDIRECT_FIX
    if response.status_code == 402:
        return False, "/__ping__ answered 402: the licence has expired", "renew the Connect licence"
    if response.status_code != 200:
        return False, f"/__ping__ answered {response.status_code}: not a Connect server at this URL", \
            "give the Connect server's URL (the one its dashboard is served from)"
    return True, "/__ping__ 200", None


def _server_settings(client):
    response, error = _get(client, "__api__/server_settings")
    if error:
        return False, f"/__api__/server_settings: {error}", _UNREACHABLE_FIX
    if (moved := _redirected(response)):
        return False, f"/__api__/server_settings {moved}", _REDIRECT_FIX
    body = _json(response)
    if response.status_code != 200 or not isinstance(body, dict):
        return False, (f"/__api__/server_settings answered {response.status_code} without JSON "
                       "settings: not the Connect API"), \
            "give the Connect server's URL; a proxy in front may be blocking /__api__/"
    version = body.get("version") or "version not exposed"
    return True, f"API answers (Connect {version})", None


def _current_user(client):
    response, error = _get(client, "__api__/v1/user", with_key=True)
    if error:
        return False, f"/__api__/v1/user: {error}", _UNREACHABLE_FIX
    if (moved := _redirected(response)):
        return False, f"/__api__/v1/user {moved}", _REDIRECT_FIX
    body = _json(response)
    if response.status_code == 401:
        return False, "the API key was refused (401)", \
            "set CONNECT_API_KEY to a valid key (Connect: your name > API Keys)"
    if response.status_code != 200 or not isinstance(body, dict):
        return False, f"/__api__/v1/user answered {response.status_code}", \
            "check the key and the server's logs"
    role = body.get("user_role") or "unknown role"
    fix = None
    if role != "administrator":
        fix = "an administrator key sees every item and usage; this one sees less"
    return True, f"key belongs to {body.get('username', '?')!s} ({role})" + \
        (f" - {fix}" if fix else ""), None


def _json(response):
    try:
        return response.json()
    except ValueError:
        return None
