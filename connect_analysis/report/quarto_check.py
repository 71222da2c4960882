"""After any render: the page must be self-contained and carry plotly.js unaltered.

check_page(text) raises ReportError when the page references another host in a <script
src>, <link href>, @import or url(), or when the plotly.js it carries differs, byte for byte,
from the installed plotly package's plotly.min.js (inline, or as a base64 data: URL, as
pandoc's embedding writes it). strip_widget_cdn(text) removes the require.js and jQuery
<script> tags Quarto adds for Jupyter widget outputs, so they never reach the check.
"""

from __future__ import annotations

import base64
import binascii
import re

from ..errors import ReportError
from .render import plotly_js

_REMOTE = r"""(?:https?:)?//"""
_SCRIPT_SRC = re.compile(r"<script\b[^>]*?\bsrc\s*=\s*[\"']?\s*(" + _REMOTE + r"[^\"'\s>]*)", re.I)
_LINK_HREF = re.compile(r"<link\b[^>]*?\bhref\s*=\s*[\"']?\s*(" + _REMOTE + r"[^\"'\s>]*)", re.I)
_CSS_URL = re.compile(r"(?:@import\s+|url\(\s*)[\"']?(" + _REMOTE + r"[^\"')\s]*)", re.I)
_WIDGET_CDN = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"'](?:https?:)?//[^\"']*(?:requirejs|require\.js|require\.min\.js|"
    r"jquery)[^\"']*[\"'][^>]*>\s*</script>\s*", re.I)
_DATA_JS = re.compile(r"src\s*=\s*[\"']data:(?:text|application)/(?:x-)?javascript(?:;charset=[\w-]+)?;"
                      r"base64,([A-Za-z0-9+/=\s]+)[\"']", re.I)
PLOTLY_MARK = "plotly.js v"


def strip_widget_cdn(text: str) -> tuple[str, int]:
    """text without the widget CDN script tags, and how many were removed."""
    return _WIDGET_CDN.subn("", text)


def remote_references(text: str) -> list[str]:
    """Every URL on another host that the page would load (scripts, stylesheets, CSS urls)."""
    return [m.group(1) for rx in (_SCRIPT_SRC, _LINK_HREF, _CSS_URL) for m in rx.finditer(text)]


def plotly_intact(text: str, expected: bytes | None = None) -> bool | None:
    """True: the page carries the installed plotly.min.js byte for byte; False: it carries a
    plotly.js that differs; None: it carries none."""
    expected = plotly_js() if expected is None else expected
    if expected.decode("utf-8") in text:
        return True
    for m in _DATA_JS.finditer(text):
        try:
            body = base64.b64decode("".join(m.group(1).split()), validate=True)
        except (binascii.Error, ValueError):
            continue
        if body == expected:
            return True
        if PLOTLY_MARK.encode() in body:
            return False
    return False if PLOTLY_MARK in text else None


def check_page(text: str, *, needs_plotly: bool = True, expected: bytes | None = None) -> None:
    """Raise ReportError unless the page is self-contained with plotly.js unaltered."""
    remote = remote_references(text)
    if remote:
        shown = ", ".join(sorted(set(remote))[:3])
        raise ReportError(f"the rendered report references another host ({len(remote)} "
                          f"reference{'s' * (len(remote) != 1)}: {shown}); it would not work offline")
    intact = plotly_intact(text, expected)
    if intact is False:
        raise ReportError("the rendered report carries an altered plotly.js (its bytes differ "
                          "from the installed plotly package's plotly.min.js)")
    if intact is None and needs_plotly:
        raise ReportError("the rendered report carries no plotly.js: its charts cannot draw")
