"""Quoting for the files the plan writes: every value that came from the server is quoted for
the language of its file (shell, YAML), and server text in a comment stays on its line."""

from __future__ import annotations

import re
import shlex

import yaml

# Characters that would end a comment line or confuse a terminal.
_UNSAFE_IN_COMMENT = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


def sh(value) -> str:
    """value as one bash word on one line: single quotes when it needs any; bash's $'...' with
    escapes when it holds control characters (a newline must not end a commented line), or $ or
    a backtick (the same meaning, without shellcheck's SC2016 "won't expand" note)."""
    text = str(value)
    if not _UNSAFE_IN_COMMENT.search(text) and "$" not in text and "`" not in text:
        return shlex.quote(text)
    return "$'" + "".join(_ansi_c(ch) for ch in text) + "'"


def _ansi_c(ch: str) -> str:
    if ch in "\\'":
        return "\\" + ch
    if _UNSAFE_IN_COMMENT.match(ch):
        return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
    return ch


def yaml_str(value) -> str:
    """value as a double-quoted YAML scalar on one line (escapes for newlines and quotes)."""
    text = yaml.safe_dump(str(value), default_style='"', allow_unicode=True, width=10**9)
    return text.removesuffix("\n...\n").rstrip("\n")


def comment(value, limit: int = 120) -> str:
    """Server text for a comment: control characters and line breaks shown as a space, cut to
    limit characters."""
    text = _UNSAFE_IN_COMMENT.sub(" ", str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def count(n: int, word: str) -> str:
    """'1 item', '3 items'."""
    return f"{n} {word}" + ("" if n == 1 else "s")
