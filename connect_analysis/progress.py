"""Progress bars for the long steps: tqdm on stderr, silent when asked to be quiet or
when stderr is not a terminal (CI logs, notebooks run by papermill)."""

from __future__ import annotations

import sys

from tqdm import tqdm


def is_quiet(quiet: bool) -> bool:
    """True when bars should not be drawn."""
    return bool(quiet) or not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


def bar(desc: str, total: int | None, quiet: bool, unit: str = "req") -> tqdm:
    """A progress bar (a no-op object when quiet); thread-safe `update()`."""
    return tqdm(total=total, desc=desc, unit=unit, disable=is_quiet(quiet), leave=False, file=sys.stderr,
                dynamic_ncols=True)
