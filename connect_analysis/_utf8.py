"""Server text that is not UTF-8: each invalid byte sequence replaced by U+FFFD, and counted."""

from __future__ import annotations

import codecs
import threading

import requests

_counts = threading.local()


def _count(e: UnicodeDecodeError):
    _counts.n += 1
    return "\ufffd", e.end


codecs.register_error("connect-analysis-count", _count)


def repair(body: bytes) -> tuple[bytes, int]:
    """(body with invalid UTF-8 replaced, how many sequences were replaced). A body in
    UTF-16 or UTF-32 (which JSON allows) is left as it is."""
    if body.isascii() or requests.utils.guess_json_utf(body) not in (None, "utf-8"):
        return body, 0
    try:
        body.decode("utf-8")
        return body, 0
    except UnicodeDecodeError:
        pass
    _counts.n = 0
    fixed = body.decode("utf-8", "connect-analysis-count").encode()
    return fixed, _counts.n
