"""Versions compare as versions ("4.10" > "4.9"), and the rule that says when a runtime
version in an image (or on a server) can run content that recorded another version.

The rule (VERSION_MATCHING, the default): R, Python and Quarto match on major.minor, so
content recorded with R 4.3.1 runs on an image with R 4.3.3. This is Connect's default
version matching (`Python.VersionMatching` / `R.VersionMatching` = "major-minor"); an
administrator may configure "exact", which `analyze(..., version_matching="exact")` models.
"""

from __future__ import annotations

import re

MAJOR_MINOR = "major-minor"
EXACT = "exact"
VERSION_MATCHING = MAJOR_MINOR
RULES = (MAJOR_MINOR, EXACT)

_NUMERIC = re.compile(r"^\s*[vV]?(\d+(?:\.\d+)*)")


def parse_version(text) -> tuple[int, ...] | None:
    """The numeric parts of a version string: "4.3.2" -> (4, 3, 2); None when there are none.

    Trailing text is ignored ("3.12.0rc1" -> (3, 12, 0)), so a pre-release sorts with its release.
    """
    if text is None or not isinstance(text, str):
        return None
    m = _NUMERIC.match(text)
    if not m:
        return None
    return tuple(int(p) for p in m.group(1).split("."))


def version_key(text) -> tuple:
    """A sort key: numeric parts first (padded so "4.3" == "4.3.0"), then the text itself."""
    parts = parse_version(text)
    if parts is None:
        return ((), str(text))
    return (_padded(parts), str(text))


def sort_versions(versions) -> list[str]:
    """Distinct version strings sorted as versions, oldest first."""
    return sorted({v for v in versions if isinstance(v, str) and v}, key=version_key)


def match_key(text, rule: str = VERSION_MATCHING) -> tuple[int, ...] | None:
    """What two versions must share to match: (major, minor) or the full padded version."""
    parts = parse_version(text)
    if parts is None:
        return None
    if rule == EXACT:
        return _padded(parts)
    return _padded(parts)[:2]


def matches(wanted, available, rule: str = VERSION_MATCHING) -> bool:
    """True when a runtime `available` can run content that recorded `wanted`."""
    a, b = match_key(wanted, rule), match_key(available, rule)
    return a is not None and a == b


def best_match(wanted, available_versions, rule: str = VERSION_MATCHING) -> str | None:
    """The newest of available_versions that matches wanted (None when none does)."""
    found = [v for v in available_versions if matches(wanted, v, rule)]
    return max(found, key=version_key) if found else None


def _padded(parts: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(parts) + (0,) * max(0, 3 - len(parts))
