"""The Connect API client: one requests.Session, the key, retries and redirects. What it
makes of each response, and the one place an error response becomes a typed error of
errors.py, is _responses.py.

Configuration is read when a Client is built, never at import:

    CONNECT_SERVER          server URL (with or without a trailing /__api__)
    CONNECT_API_KEY         the API key, sent as `Authorization: Key <key>`
    CONNECT_CA_CERTIFICATE  path to a CA bundle to verify TLS with
    CONNECT_INSECURE        1/true/yes: skip TLS verification (as rsconnect-python reads it)

Only GET requests are ever sent. Redirects are followed by hand so that the key is
sent only to the server it was configured for, never to another host.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from . import _bounds, _keyguard, _tls, _utf8
from ._responses import (
    ANSWERED_BADLY,
    RETRY_STATUSES,
    CutShort,
    api_path,
    check_length,
    decode_json,
    looks_like_html,
    raise_for,
    retry_after_seconds,
    short_reason,
    show_url,
)
from .errors import (
    ConfigError,
    ConnectError,
    NotConnectError,
    NotFoundError,
    ServerError,
    UnreachableError,
    UnsupportedError,
)
from .limiter import FixedLimit

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"", "0", "false", "f", "no", "n", "off"}


@dataclass(frozen=True)
class Version:
    """A Connect version such as 2024.09.0; compares as numbers, not strings."""

    parts: tuple[int, int, int]
    text: str

    @classmethod
    def parse(cls, text) -> Version | None:
        """Version from "2024.09.0" or "2023.11.0-dev+103-g1"; None when absent or unparseable."""
        if not isinstance(text, str):
            return None
        m = re.match(r"\s*v?(\d+)\.(\d+)(?:\.(\d+))?", text)
        if not m:
            return None
        return cls((int(m[1]), int(m[2]), int(m[3] or 0)), text.strip())

    def at_least(self, other: str) -> bool:
        return self.parts >= Version.parse(other).parts

    def __str__(self) -> str:
        return self.text


class _KeyAuth(requests.auth.AuthBase):
    """Adds `Authorization: Key ...`; an explicit auth also stops requests reading ~/.netrc."""

    def __init__(self, key: str | None):
        self._key = key

    def __call__(self, r):
        if self._key:
            r.headers["Authorization"] = f"Key {self._key}"
        else:
            r.headers.pop("Authorization", None)
        return r

    def __repr__(self) -> str:  # never show the key
        return "_KeyAuth(***)"


def normalize_server(url: str) -> str:
    """The server's base URL without a trailing slash or /__api__ (raises ConfigError)."""
    url = (url or "").strip()
    if not url:
        raise ConfigError("no Connect server: pass --server URL or set CONNECT_SERVER")
    try:
        parts = urlsplit(url)
    except ValueError as e:  # e.g. "Invalid IPv6 URL"
        raise ConfigError(f"--server {url!r} is not usable: it is not a valid URL ({e})") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"--server must be an http(s) URL such as https://connect.example.com, got {url!r}")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ConfigError("--server must not contain credentials; the key comes from CONNECT_API_KEY")
    try:
        _keyguard.origin(url)
    except _keyguard.UnsafeURL as e:
        raise ConfigError(f"--server {url!r} is not usable: {e}") from None
    path = re.sub(r"/+$", "", parts.path)
    path = re.sub(r"/__api__$", "", path)
    return f"{parts.scheme}://{parts.netloc}{path}"


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1/true/yes or 0/false/no, got {value!r}")


def tls_verify(ca_certificate: str | None = None, insecure: bool | None = None) -> bool | str:
    """requests' `verify` for this environment: False with CONNECT_INSECURE, else the
    CONNECT_CA_CERTIFICATE bundle, else True. The one place both variables are read."""
    ca = ca_certificate if ca_certificate is not None else os.environ.get("CONNECT_CA_CERTIFICATE") or None
    insecure = _env_flag("CONNECT_INSECURE") if insecure is None else insecure
    if ca and not os.path.isfile(ca):
        raise ConfigError(f"CONNECT_CA_CERTIFICATE names {ca!r}, which is not a file")
    return False if insecure else (ca or True)


def _same_origin(a: str, b: str) -> bool:
    try:
        return _keyguard.same_origin(a, b)
    except _keyguard.UnsafeURL:
        return False


class Client:
    """A read-only client for one Connect server.

    server / api_key default to CONNECT_SERVER / CONNECT_API_KEY. timeout is
    (connect, read) seconds per request; retries is how many times a request is
    retried after 429/502/503/504, a reset connection or a body cut short; backoff
    is the first wait in seconds, doubling up to max_backoff. max_in_flight bounds
    concurrent requests across every thread that shares this client; `limiter` (see
    limiter.py, e.g. an AdaptiveLimit) replaces that fixed bound. key_required=False lets a
    check run without a key (probe() then sends none).
    """

    def __init__(self, server: str | None = None, api_key: str | None = None, *,
                 ca_certificate: str | None = None, insecure: bool | None = None,
                 timeout: tuple[float, float] = (10.0, 120.0), retries: int = 8,
                 backoff: float = 0.25, max_backoff: float = 20.0, max_in_flight: int = 8,
                 limiter: FixedLimit | None = None, key_required: bool = True):
        self.server = normalize_server(server if server is not None else os.environ.get("CONNECT_SERVER", ""))
        key = api_key if api_key is not None else os.environ.get("CONNECT_API_KEY", "")
        key = _keyguard.check_key(key) if key_required or key.strip() else None
        if key:
            _keyguard.remember(key)
        self._redactor = _keyguard.Redactor([key] if key else [])
        verify = tls_verify(ca_certificate, insecure)
        self.api = self.server + "/__api__/"
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._auth = _KeyAuth(key)
        self._no_auth = _KeyAuth(None)
        self.limiter = limiter or FixedLimit(max_in_flight)
        self._count_lock = threading.Lock()
        self.request_count = 0
        self.retry_count = 0
        self.invalid_utf8 = 0  # byte sequences of server text that were not UTF-8, replaced
        self._cancelled: str | None = None
        self._cancel_event = threading.Event()
        self.limits = _bounds.Limits.from_env()
        self.session = requests.Session()
        # passed on every request too: requests lets REQUESTS_CA_BUNDLE override session.verify
        self.verify = verify
        if verify is False:  # the user chose this; one warning per request would bury the output
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self.session.verify = self.verify
        self.session.headers["User-Agent"] = f"connect-analysis/{_kit_version()}"
        self.session.headers["Accept"] = "application/json"
        adapter = _bounds.WatchedAdapter(pool_connections=4, pool_maxsize=max(4, self.limiter.max_limit * 2),
                                         max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def cancel(self, why: str) -> None:
        """Make every later request fail at once (another thread already hit a fatal error)."""
        self._cancelled = why
        self._cancel_event.set()
        _bounds.WATCHDOG.abort(self)

    def __repr__(self) -> str:
        return f"Client({self.server!r})"

    # --- requests -------------------------------------------------------------------

    def url(self, path: str) -> str:
        """Absolute URL of an API path such as "v1/content" (relative to /__api__/)."""
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.api, path.lstrip("/"))

    def get_json(self, path: str, params: dict | None = None, into=None):
        """GET an API path and return the decoded JSON body (None for 204 No Content).

        into: a msgspec type to decode into (e.g. a list of Structs, far cheaper than
        dicts for a large list); a body of another shape comes back as plain JSON.
        Raises the typed errors of errors.py; retries transient failures first.
        """
        return self._get(self.url(path), params, into)[0]

    def server_settings(self) -> dict:
        """The raw GET /__api__/server_settings body; NotConnectError when it is not Connect's."""
        try:
            body = self.get_json("server_settings")
        except (NotFoundError, UnsupportedError) as e:  # a 5xx is a server failing, Connect or not
            raise NotConnectError(
                f"{self.server} answers, but not as a Posit Connect server "
                f"(GET /__api__/server_settings gave HTTP {e.status}); check --server / CONNECT_SERVER",
                status=e.status, url=e.url) from None
        if not isinstance(body, dict):
            raise NotConnectError(f"{self.server} answers, but not as a Posit Connect server "
                                  "(/__api__/server_settings is not a JSON object); check --server")
        return body

    def probe(self, path: str, *, with_key: bool = True) -> requests.Response:
        """One GET of `path` on the server (e.g. "__ping__"): no retry, no redirect followed,
        the body read within the size limits, for checks that read raw statuses (preflight).
        Raises requests' exceptions and _bounds.BodyRefused."""
        with self._count_lock:
            self.request_count += 1
        response = self.session.get(urljoin(self.server + "/", path.lstrip("/")), timeout=self.timeout,
                                    auth=self._auth if with_key else self._no_auth, verify=self.verify,
                                    allow_redirects=False, stream=True)
        response._content = self._redactor.body(self._read(response))
        return response

    def _get(self, url: str, params: dict | None, into=None) -> tuple[object, str]:
        """GET with retries and hand-followed redirects; returns (decoded JSON body, final url)."""
        attempt = 0
        while True:
            if self._cancelled:
                raise Cancelled(self._cancelled, url=show_url(url))
            try:
                response, final = self._get_once(url, params)
                if response.status_code in RETRY_STATUSES and attempt < self.retries:
                    wait = retry_after_seconds(response) if response.status_code == 429 else None
                    response.close()
                    attempt += 1
                    self._sleep(attempt, wait, f"HTTP {response.status_code}", url)
                    continue
                if response.status_code >= 400:
                    raise_for(self.server, response, final, not _same_origin(self.server, final), self.retries)
                if response.status_code >= 300:
                    raise ServerError(f"{self.server} sent too many redirects for {show_url(url)}",
                                      status=response.status_code, url=show_url(url))
                if response.status_code != 204 and looks_like_html(response):
                    raise NotConnectError(
                        f"{show_url(final)} returned an HTML page instead of JSON: {self.server} is not "
                        "a Posit Connect server, or a proxy or login page is in the way; check --server",
                        status=response.status_code, url=show_url(final))
                if response.status_code == 204 or not response.content.strip():
                    return None, final
                return self._decode(response, final, into), final
            except requests.exceptions.SSLError as e:
                raise UnreachableError(_tls.explain(self.server, e, self.verify), url=show_url(url)) from None
            except _bounds.DeadlineExceeded as e:
                raise ServerError(f"{self.server} gave {api_path(show_url(url))} no complete answer in time ({e}; "
                                  "CONNECT_REQUEST_DEADLINE): the server or a proxy is stalled", url=show_url(url)) from None
            except _bounds.BodyRefused as e:
                raise ServerError(f"{self.server} answered {api_path(show_url(url))} with {e}; the kit stopped reading it",
                                  url=show_url(url)) from None
            except _bounds.Aborted:
                raise Cancelled(self._cancelled or "stopped", url=show_url(url)) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
                    CutShort) as e:
                # nothing listening: a couple of quick retries, not minutes of backoff
                limit = min(self.retries, 2) if "refused" in short_reason(e) else self.retries
                if attempt >= limit and isinstance(e, ANSWERED_BADLY):
                    # the server did answer: its bodies were unusable, so "cannot reach" would mislead
                    raise ServerError(
                        f"{self.server} answered {api_path(show_url(url))}, but with an unusable body ({short_reason(e)})"
                        + (f" after {attempt} retries" if attempt else "") + "; try again later or check the "
                        "server's logs and any proxy in front of it", url=show_url(url)) from None
                if attempt >= limit:
                    raise UnreachableError(
                        f"cannot reach {self.server} ({short_reason(e)}) after {attempt + 1} attempts; "
                        "check the URL, the network and that the server is running", url=show_url(url)) from None
                attempt += 1
                self._sleep(attempt, None, short_reason(e), url)

    def _get_once(self, url: str, params: dict | None) -> tuple[requests.Response, str]:
        """One GET, following up to MAX_REDIRECTS redirects; the body is read in full here."""
        current, auth = url, (self._auth if _same_origin(self.server, url) else self._no_auth)
        for _ in range(MAX_REDIRECTS + 1):
            with self.limiter.slot(current) as slot, _bounds.watch(self, self.limits.deadline):
                with self._count_lock:
                    self.request_count += 1
                try:
                    response = self.session.get(current, params=params, auth=auth, timeout=self.timeout,
                                                verify=self.verify, allow_redirects=False, stream=True)
                except (ValueError, urllib3.exceptions.LocationParseError) as e:  # requests parses Location too
                    if isinstance(e, requests.exceptions.RequestException) and not isinstance(e, requests.exceptions.InvalidURL):
                        raise
                    raise ServerError(f"{self.server} answered {api_path(show_url(url))} with a redirect the kit will not "
                                      f"follow (not a valid URL: {self._redactor.text(str(e))[:120]})", url=show_url(url)) from None
                slot.status, slot.retry_after = response.status_code, retry_after_seconds(response)
                response._content = self._read(response)  # inside the slot and the deadline
            log.debug("GET %s -> %s", show_url(response.url), response.status_code)
            check_length(response)
            response._content = self._redactor.body(response._content)  # server text never holds the key
            if response.status_code not in (301, 302, 303, 307, 308) or "location" not in response.headers:
                return response, current
            target = urljoin(response.url, self._redactor.text(response.headers["location"]))
            try:
                if not _keyguard.same_origin(self.server, target):
                    auth = self._no_auth  # the key stays with the configured server
            except _keyguard.UnsafeURL as e:
                raise ServerError(f"{self.server} redirected {api_path(show_url(url))} to an address the kit will not "
                                  f"follow ({e}): {self._redactor.text(target)[:120]!r}", url=show_url(url)) from None
            current, params = target, None  # the Location already carries the query
        return response, current

    def _read(self, response: requests.Response) -> bytes:
        """The whole body of a streamed response, within the size limits; the connection closed."""
        try:
            return _bounds.read_body(response, self.limits)
        finally:
            response.close()

    def _sleep(self, attempt: int, retry_after: float | None, why: str, url: str) -> None:
        with self._count_lock:
            self.retry_count += 1
        wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        if retry_after is not None:
            wait = max(wait, min(retry_after, 120.0))
        log.debug("retry %d for %s in %.2fs (%s)", attempt, show_url(url), wait, why)
        self._cancel_event.wait(wait)  # cut short by cancel()

    def _decode(self, response: requests.Response, url: str, into=None):
        response._content = self._valid_utf8(response.content)
        return decode_json(self.server, response, url, into)

    def _valid_utf8(self, body: bytes) -> bytes:
        """body with invalid UTF-8 replaced by U+FFFD; the replacements are counted."""
        fixed, replaced = _utf8.repair(body)
        if replaced:
            with self._count_lock:
                self.invalid_utf8 += replaced
        return fixed


class Cancelled(ConnectError):
    """A request not sent because the fetch is already failing for another reason."""


def _kit_version() -> str:
    from . import __version__

    return __version__
