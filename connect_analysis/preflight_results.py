"""Preflight results: one CheckResult per check, and their JSON file (a stable contract).

The checks (connect_analysis.preflight) write it with `preflight --json`; the report reads it
back with read_results. Kept apart from the checks so the report never imports them (they
reach the network).

    [{"name": "postgres" | "storage" | "nodeport" | "connect",
      "target": str, "ok": bool, "detail": str, "fix": str | null}, ...]
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import ConfigError

CHECK_NAMES = ("postgres", "storage", "nodeport", "connect")
FIELDS = ("name", "target", "ok", "detail", "fix")


@dataclass(frozen=True)
class CheckResult:
    """One check of one target. `fix` says what to change; None when the check passed."""

    name: str
    target: str
    ok: bool
    detail: str
    fix: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def results_to_json(results: list[CheckResult]) -> str:
    """The documented JSON list: one object per result with exactly the keys in FIELDS."""
    return json.dumps([r.to_dict() for r in results], indent=2)


def read_results(path: str | os.PathLike) -> list[CheckResult]:
    """Read results written by `preflight --json`. Raises ConfigError when the file is not one."""
    src = Path(path)
    try:
        data = json.loads(src.read_text())
    except OSError as e:
        raise ConfigError(f"cannot read preflight results {src}: {e.strerror or e}") from None
    except ValueError as e:
        raise ConfigError(f"{src} is not JSON: {e}") from None
    if not isinstance(data, list):
        raise ConfigError(f"{src} is not a list of preflight results")
    results = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or set(item) != set(FIELDS):
            raise ConfigError(f"{src}: item {i} does not have exactly the keys {', '.join(FIELDS)}")
        if item["name"] not in CHECK_NAMES or not isinstance(item["ok"], bool):
            raise ConfigError(f"{src}: item {i} has an unknown check name or a non-boolean ok")
        results.append(CheckResult(**{k: item[k] for k in FIELDS}))
    return results


def format_results(results: list[CheckResult], skipped=()) -> str:
    """Plain text for a terminal: one line per check, the fix under each failure, then one
    SKIP line per (name, why) in skipped."""
    lines = []
    for r in results:
        lines.append(f"{'PASS' if r.ok else 'FAIL'}  {r.name:<8}  {r.target}: {r.detail}")
        if not r.ok and r.fix:
            lines.append(f"      fix: {r.fix}")
    lines += [f"SKIP  {name:<8}  {why}" for name, why in skipped]
    passed = sum(r.ok for r in results)
    lines.append(f"{passed} of {len(results)} checks passed")
    return "\n".join(lines)
