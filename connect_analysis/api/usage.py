"""Usage: visits (everything but Shiny) and Shiny sessions. Never the hits endpoint,
which counts Shiny sessions differently and does not exist before 2025.04.

A window is split into time slices read in parallel, cursor paging inside each. The
API's from/to are both inclusive, so each slice keeps only the records whose time
(a visit's `time`, a session's `started`) falls in [slice start, slice end), the last
slice also keeping its end: every record lands in exactly one slice. Shiny sessions
overlapping two slices are returned by both and kept once, by their start.

A Shiny session belongs to a window when it overlaps it (started <= end and, unless
still open, ended >= start): the server returns such sessions for `from=`, and the
first slice keeps those that started before the window (unless `earlier=False`, when
another part of a refresh already holds them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta

import pandas as pd

from .. import schema
from .._paging import iter_cursor
from ..client import Client
from ._rows import frame

VISITS = "v1/instrumentation/content/visits"
SHINY = "v1/instrumentation/shiny/usage"
TIME_FIELD = {"visits": "time", "shiny_sessions": "started"}  # usage tables, and the time each is sorted by


def slices(start: datetime, end: datetime, count: int) -> list[tuple[datetime, datetime]]:
    """[start, end] cut into about `count` consecutive slices on whole seconds."""
    span = max(0, int((end - start).total_seconds()))
    count = max(1, min(count, span or 1))
    step = math.ceil(span / count) if span else 0
    bounds = [start + timedelta(seconds=step * i) for i in range(count)] + [end]
    bounds = sorted(set(b for b in bounds if b <= end))
    if len(bounds) == 1:
        return [(start, end)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def slice_count(start: datetime, end: datetime, workers: int) -> int:
    """Slices for a window: one per two days, between one per worker (so a one-day refresh
    still reads in parallel) and four per worker, and never more than one per hour."""
    seconds = (end - start).total_seconds()
    by_days = max(workers, min(workers * 4, math.ceil(seconds / (2 * 86400))))
    return max(1, min(by_days, math.ceil(seconds / 3600)))


def iso(t: datetime) -> str:
    """RFC 3339 in UTC with a Z, to the second (what Connect's from/to accept)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch_visits(client: Client, start: datetime, end: datetime, *, pool: Executor | None = None,
                 workers: int = 8, end_inclusive: bool = True, on_slice: Callable[[], None] | None = None
                 ) -> pd.DataFrame:
    """Visits with start <= time <= end (< end when not end_inclusive), sorted by time."""
    return _fetch_sliced(client, VISITS, "visits", start, end, pool, workers,
                         end_inclusive, on_slice)


def fetch_shiny_sessions(client: Client, start: datetime, end: datetime, *, pool: Executor | None = None,
                         workers: int = 8, end_inclusive: bool = True,
                         on_slice: Callable[[], None] | None = None, earlier: bool = True) -> pd.DataFrame:
    """Shiny sessions that started in [start, end] (ended may be null: still open), and with
    `earlier` those that started before `start` and were still running at it (overlap)."""
    return _fetch_sliced(client, SHINY, "shiny_sessions", start, end, pool, workers,
                         end_inclusive, on_slice, earlier)


def still_running(sessions: pd.DataFrame, at: datetime):
    """Mask of sessions open or ended at or after `at` (True/False per row)."""
    ended = sessions["ended"]
    return (ended.isna() | (ended >= at)).to_numpy(dtype=bool)


def _fetch_sliced(client, path, table, start, end, pool, workers, end_inclusive,
                  on_slice, earlier=False) -> pd.DataFrame:
    if end < start:
        return schema.empty(table)
    parts = slices(start, end, slice_count(start, end, workers))

    def one(i: int) -> pd.DataFrame:
        lo, hi = parts[i]
        records = iter_cursor(client, path, {"from": iso(lo), "to": iso(hi), "asc_order": "true"})
        df = frame(records, table)
        t = df[TIME_FIELD[table]]
        last = i == len(parts) - 1
        keep = (t >= lo) & ((t <= hi) if (last and end_inclusive) else (t < hi))
        if earlier and i == 0:  # sessions begun before the window and still running in it
            keep = keep | ((t < lo) & still_running(df, lo))
        if on_slice:
            on_slice()
        return df[keep.fillna(False)]

    frames = list(pool.map(one, range(len(parts)))) if pool else [one(i) for i in range(len(parts))]
    return sort_usage(pd.concat(frames, ignore_index=True) if frames else schema.empty(table), table)


def sort_usage(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """A stable order for usage rows, so equal data gives equal files."""
    keys = list(schema.TABLES[table])
    keys.remove(TIME_FIELD[table])
    return df.sort_values([TIME_FIELD[table], *keys], kind="stable", na_position="first").reset_index(drop=True)
