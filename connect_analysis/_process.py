"""Process-wide settings a fetch holds while it runs, in one place.

    with fetch_tuning():    # entered by fetch_snapshot only, never by load_snapshot or analyze
        ...

Each piece is a Held (applied by the first thread in, restored by the last out, also when the
block raises). One is left, the one bench/bench_tuning.py shows earning its keep:

    malloc    Arrow allocates with the C library's malloc: its default, mimalloc, asks for
              transparent huge pages, and where the kernel has free 2 MB pages each first touch
              clears all of it, in every thread (a refresh of `large`: 0.5 s less CPU, 60 MB
              less peak memory; a cold fetch ~100 MB less)

Pausing the cycle collector and shorter GIL switch intervals were pieces too, until the same
bench showed neither saving anything measurable (docs/explanation/performance.qmd).

CONNECT_ANALYSIS_TUNING switches them, read when a fetch starts: unset, "1" or "on": all;
"0" or "off": none; a comma-separated list of names: those.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable

ENV = "CONNECT_ANALYSIS_TUNING"


class Held:
    """A process-wide setting held while any thread is inside the block: the first to come
    in applies it (apply() returns what was there), the last to leave puts that back."""

    def __init__(self, apply: Callable[[], object], restore: Callable[[object], None]):
        self._apply, self._restore = apply, restore
        self._lock, self._users, self._before = threading.Lock(), 0, None

    def __enter__(self):
        with self._lock:
            if self._users == 0:
                self._before = self._apply()
            self._users += 1

    def __exit__(self, *exc):
        with self._lock:
            self._users -= 1
            if self._users == 0:
                self._restore(self._before)


def _use_malloc():
    import pyarrow as pa

    pool = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    return pool


def _restore_pool(pool) -> None:
    import pyarrow as pa

    pa.set_memory_pool(pool)


PIECES = {
    "malloc": Held(_use_malloc, _restore_pool),
}


def chosen_pieces() -> list[str]:
    """The pieces CONNECT_ANALYSIS_TUNING asks for (all by default); unknown names are an error."""
    from .errors import ConfigError

    value = os.environ.get(ENV, "").strip().lower()
    if value in ("", "1", "on", "true", "yes"):
        return list(PIECES)
    if value in ("0", "off", "false", "no"):
        return []
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in PIECES]
    if unknown:
        raise ConfigError(f"{ENV}: unknown setting {unknown[0]!r}; use on, off or a list of "
                          f"{', '.join(PIECES)}")
    return names


@contextlib.contextmanager
def fetch_tuning():
    """Hold the chosen pieces for the block; each is put back when the block ends."""
    with contextlib.ExitStack() as stack:
        for name in chosen_pieces():
            stack.enter_context(PIECES[name])
        yield
