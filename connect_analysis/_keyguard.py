"""Where the API key may go, and keeping it out of everything the kit prints or writes.

- `check_key` accepts a key of visible ASCII only (no space, tab or line break); its
  error never shows the key.
- `origin` parses a URL exactly as requests/urllib3 will use it, and refuses what two
  parsers could read differently: a backslash, user info, another scheme than http(s),
  an invalid host or port. `same_origin` compares (scheme, host, port).
- A Client masks its own key (a `Redactor`), and its JSON- and URL-escaped forms, with
  `***` in every body and header it reads, before anything is decoded, printed, logged or
  written; every key is also remembered (`remember`) so that `redact` masks it in what
  the command line prints.
- `segment` makes one path segment of a server-given id (a GUID stays as it is).
"""

from __future__ import annotations

import json
import re
import threading
from urllib.parse import quote

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from .errors import ConfigError

MASK = "***"
DEFAULT_PORT = {"http": 80, "https": 443}
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_UNESCAPED = re.compile(rb"(?<!\\)((?:\\\\)*)\\u00([2-7][0-9a-fA-F])")

_ESCAPED_ALNUM = re.compile(rb"\\u00(?:[4-7][0-9a-fA-F]|3[0-9])")
MIN_REDACTED = 8  # a shorter "key" (a test's "k") is not a Connect key, and masking it would shred text


class Redactor:
    """Masks one or more keys, and their JSON- and URL-escaped forms, in text and in bodies."""

    def __init__(self, keys=()):
        self._keys: set[str] = set()
        self.forms: tuple[bytes, ...] = ()
        self._runs: tuple[bytes, ...] = ()
        for k in keys:
            self.add(k)

    def add(self, key: str) -> None:
        if len(key) < MIN_REDACTED:
            return
        self._keys.add(key)
        forms, runs = set(), set()
        for k in self._keys:
            escaped = json.dumps(k)[1:-1]
            forms.update({k, escaped, escaped.replace("/", "\\/"), quote(k, safe="")})
            long_runs = [r for r in re.findall(r"[A-Za-z0-9]+", k) if len(r) >= 6]
            runs.update(long_runs or [""])  # "": no long run, so always look closer
        self.forms = tuple(sorted((f.encode() for f in forms), key=len, reverse=True))
        self._runs = tuple(r.encode() for r in runs)

    def text(self, text: str) -> str:
        if not self.forms or not isinstance(text, str):
            return text
        for form in self.forms:
            text = text.replace(form.decode(), MASK)
        return text

    def body(self, body: bytes) -> bytes:
        """A JSON body with the keys masked, also where the server wrote their characters as
        \\u00XX escapes (unescaped first, which leaves the JSON's meaning unchanged)."""
        if not self.forms:
            return body
        if b"\\u00" in body and self._maybe_escaped(body):
            body = _UNESCAPED.sub(_unescape, body)
        for form in self.forms:
            if form in body:
                body = body.replace(form, MASK.encode())
        return body

    def _maybe_escaped(self, body: bytes) -> bool:
        """Whether a key could be in body with some characters escaped: a letter or digit is
        escaped somewhere (JSON encoders escape only <, >, & and controls), or each long
        run of them is there as it is."""
        return bool(_ESCAPED_ALNUM.search(body)) or any(run in body for run in self._runs)


_everyone = Redactor()  # every key a client was built with in this process: for what is printed
_lock = threading.Lock()


class UnsafeURL(ValueError):
    """A URL the kit will not send a request to (or not with the key)."""


def check_key(key: str) -> str:
    """The key without surrounding whitespace; ConfigError (never showing it) when it is
    empty or holds anything but visible ASCII."""
    key = (key or "").strip()
    if not key:
        raise ConfigError("no API key: set CONNECT_API_KEY to a Connect API key")
    if not _VISIBLE_ASCII.fullmatch(key):
        raise ConfigError(f"CONNECT_API_KEY is not a valid API key: it holds spaces, line breaks or characters "
                          f"other than visible ASCII ({len(key)} characters); set it to the key alone")
    return key


def remember(key: str) -> None:
    """Mask `key` in whatever redact() is given from now on (for the life of the process)."""
    with _lock:
        _everyone.add(key)


def redact(text: str) -> str:
    """text with every remembered key (and its escaped forms) replaced by ***."""
    return _everyone.text(text)


def _unescape(m: re.Match) -> bytes:
    char = bytes([int(m[2], 16)])
    return m[0] if char in b'"\\' else m[1] + char


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of url as urllib3 (and so requests) will connect to it.
    UnsafeURL for another scheme, user info, a backslash, or an invalid host or port."""
    if not isinstance(url, str) or "\\" in url:
        raise UnsafeURL("it holds a backslash, which HTTP libraries read in different ways")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise UnsafeURL("it holds a space or a control character")
    try:
        parts = parse_url(url)
    except (LocationParseError, ValueError) as e:
        port = re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*:(\d+)(?:[/?#]|$)", url)
        if port and not 0 < int(port[1]) < 65536:
            raise UnsafeURL(f"it is not a valid URL: its port {port[1]} is not between 1 and 65535") from None
        raise UnsafeURL(f"it is not a valid URL ({_short(e)})") from None
    scheme = (parts.scheme or "").lower()
    if scheme not in DEFAULT_PORT:
        raise UnsafeURL(f"its scheme is {scheme + '://' if scheme else 'missing'}, not http(s)://")
    if parts.auth is not None or "@" in (parts.netloc or ""):
        raise UnsafeURL("it holds user info (user@host)")
    if not parts.host:
        raise UnsafeURL("it has no host")
    port = parts.port if parts.port is not None else DEFAULT_PORT[scheme]
    if not 0 < port < 65536:
        raise UnsafeURL(f"its port {port} is not between 1 and 65535")
    return scheme, parts.host.lower(), port


def same_origin(configured: str, target: str) -> bool:
    """Whether the key configured for `configured` may be sent to `target`: the same host and
    port, or http -> https on the same host with default ports. UnsafeURL for a target
    that origin() refuses."""
    a, b = origin(configured), origin(target)
    if a == b:
        return True
    return a[1] == b[1] and (a[0], a[2], b[0], b[2]) == ("http", 80, "https", 443)


def segment(value) -> str:
    """One URL path segment of a server-given id: a GUID as it is, anything else quoted
    whole (slashes, dots and all), so that it cannot reach another path."""
    text = str(value)
    if _GUID.fullmatch(text):
        return text
    return quote(text, safe="").replace(".", "%2E") or "%20"


def is_guid(value) -> bool:
    return isinstance(value, str) and _GUID.fullmatch(value) is not None


def _short(e: Exception) -> str:
    text = str(e).replace("Failed to parse: ", "")
    return text if len(text) < 120 else type(e).__name__
