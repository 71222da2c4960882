"""What the client makes of one HTTP response: a body cut short, Retry-After, Connect's error
body, an HTML page where JSON was expected, the JSON itself, and the one place an error
response becomes a typed error of errors.py (raise_for). client.py sends the requests (the
session, the key, retries, redirects); everything here reads a response it already has.
"""

from __future__ import annotations

import email.utils
import time
from typing import NoReturn
from urllib.parse import urlsplit

import msgspec
import requests

from .errors import (
    AuthError,
    ConfigError,
    ConnectError,
    NotConnectError,
    NotFoundError,
    PermissionError_,
    ServerError,
    UnsupportedError,
)

RETRY_STATUSES = frozenset({429, 502, 503, 504})


class CutShort(Exception):
    """The body was shorter than Content-Length said (a dropped connection)."""


# failures after the status line arrived: the server answered, the body was broken
ANSWERED_BADLY = (CutShort, requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


def check_length(response: requests.Response) -> None:
    expected = response.headers.get("content-length")
    if expected and expected.isdigit() and "content-encoding" not in response.headers:
        if len(response.content) < int(expected):
            raise CutShort(f"body cut short: {len(response.content)} of {expected} bytes")


def retry_after_seconds(response: requests.Response) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_body(response: requests.Response) -> tuple[int | None, str]:
    """(Connect error code, message) from a {"code", "error"} body; (None, text) otherwise."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().splitlines()[0] if response.text.strip() else ""
        return None, text[:200] if "<" not in text else ""
    if isinstance(body, dict):
        code = body.get("code")
        try:
            code = int(code) if code is not None else None
        except (TypeError, ValueError):
            code = None
        return code, str(body.get("error") or "")[:300]
    return None, ""


def looks_like_html(response: requests.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    if "html" in ctype:
        return True
    return response.content[:200].lstrip().lower().startswith((b"<!doctype html", b"<html"))


def show_url(url: str) -> str:
    """A URL fit for a message: no query string (cursors and filters are noise)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def api_path(url: str) -> str:
    path = urlsplit(url).path
    return path.split("/__api__", 1)[-1] or path


def short_reason(e: Exception) -> str:
    """A short reason for a transport failure, without a long urllib3 repr."""
    text = str(e)
    for pattern, short in (("Connection refused", "connection refused"),
                           ("Name or service not known", "host name not found"),
                           ("nodename nor servname", "host name not found"),
                           ("timed out", "timed out"), ("Connection reset", "connection reset"),
                           ("RemoteDisconnected", "connection closed by the server"),
                           ("IncompleteRead", "response cut short"),
                           ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed")):
        if pattern in text:
            return short
    return text if len(text) < 160 else type(e).__name__


def decode_json(server: str, response: requests.Response, url: str, into=None):
    """The response's JSON body, into the msgspec type `into` when given (a body of another
    shape comes back as plain JSON). CutShort for JSON that looks cut short; NotConnectError
    for a body that is not JSON; ServerError for JSON nested too deeply."""
    try:
        try:
            return msgspec.json.decode(response.content, type=into) if into else msgspec.json.decode(
                response.content)
        except msgspec.DecodeError:
            pass  # another shape, or what only the standard library reads (NaN, huge numbers, UTF-16)
        return response.json()
    except RecursionError:
        raise ServerError(f"{server} answered {api_path(show_url(url))} with JSON nested too deeply to read",
                          url=show_url(url)) from None
    except ValueError:
        ctype = response.headers.get("content-type", "")
        if "json" in ctype or response.content.lstrip()[:1] in (b"{", b"["):
            raise CutShort("malformed JSON, probably cut short") from None
        raise NotConnectError(f"{show_url(url)} did not return JSON ({ctype or 'no content type'}): "
                              f"{server} is not a Posit Connect API; check --server",
                              status=response.status_code, url=show_url(url)) from None


def raise_for(server: str, response: requests.Response, url: str, redirected: bool, retries: int) -> NoReturn:
    """The one place an error response becomes a typed error (of errors.py); `redirected`: the
    response came from another origin, where the key was not sent."""
    status = response.status_code
    code, message = error_body(response)
    shown = show_url(url)
    detail = f"HTTP {status}" + (f", code {code}" if code is not None else "") + (f": {message}" if message else "")
    if redirected and status in (401, 403):
        raise ConfigError(f"{server} redirected to {shown}, another host, and the API key was not "
                          f"sent there ({detail}); if that is your Connect server, pass it as --server")
    if status == 401:
        raise AuthError(f"{server} rejected the API key ({detail}); set CONNECT_API_KEY to a "
                        "current key for this server", status=status, code=code, url=shown)
    if status == 403:
        raise PermissionError_(f"the API key may not read {api_path(shown)} ({detail}); an administrator's "
                               "key gives a complete snapshot", status=status, code=code, url=shown)
    if status == 404 and code is None:
        raise UnsupportedError(f"this server has no {api_path(shown)} endpoint (HTTP 404): its Connect "
                               "version is too old for it", status=status, url=shown)
    if status == 404:
        raise NotFoundError(f"{api_path(shown)} was not found ({detail})", status=status, code=code, url=shown)
    if status == 402:
        raise ConnectError(f"{server} says its licence does not allow this ({detail}); check the "
                           "server's licence", status=status, code=code, url=shown)
    if status >= 500:
        tried = f" after {retries} retries" if status in RETRY_STATUSES else ""
        raise ServerError(f"{server} failed on {api_path(shown)} ({detail}){tried}; try again later "
                          "or check the server's logs",
                          status=status, code=code, url=shown)
    raise ConnectError(f"{server} refused {api_path(shown)} ({detail})", status=status, code=code, url=shown)
