"""Usage in the window, per content item and in total, from the visits and Shiny sessions tables.

Definitions (the README repeats them):
- a visit is in the window when start <= time <= end;
- a Shiny session is in the window when it overlaps it: started <= end and (ended is null or
  ended >= start); a session with no end is still open;
- events = visits + Shiny sessions in the window;
- unique viewers = distinct non-null user_guid over both tables (anonymous events have none);
- Shiny session hours = the part of each session inside the window, open sessions counted up
  to the window end.
Events whose content_guid is not in the content table (deleted content) count in the totals
and are never attributed to a content item.

Written for tens of millions of events: everything below works on integer codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NS_PER_HOUR = 3_600 * 10**9
NAT = np.iinfo(np.int64).min  # how NaT looks as int64 nanoseconds


@dataclass
class Window:
    """The usage window, tz-aware UTC; either end may be None (unbounded)."""

    start: pd.Timestamp | None
    end: pd.Timestamp | None


CHUNK_ROWS = 1_000_000  # rows per pass: bounds the temporary arrays on very large tables


def usage_by_content(content_guids: pd.Series, visits: pd.DataFrame, sessions: pd.DataFrame,
                     window: Window) -> tuple[pd.DataFrame, dict]:
    """Per content item (one row per content_guids entry, same order) and in total.

    Returns (per_content, totals). per_content columns: visits, shiny_sessions, events,
    unique_viewers, shiny_session_hours (float hours), last_visit (UTC timestamp or NaT).
    totals: visits, shiny_sessions, events, unique_viewers, events_for_deleted_content,
    open_shiny_sessions, shiny_session_hours.
    """
    acc = _Accumulator(pd.Index(content_guids.astype("string")))
    start_ns = _ns(window.start, np.iinfo(np.int64).min)
    end_ns = _ns(window.end, np.iinfo(np.int64).max)
    v_time = _times_ns(visits["time"])
    s_start = _times_ns(sessions["started"])
    # Open sessions run to the window end; with no end, to the latest event.
    last_ns = end_ns if window.end is not None else max(
        int(np.max(v_time, where=v_time != NAT, initial=0)), int(np.max(s_start, where=s_start != NAT, initial=0)))
    visit_counts, n_visits = _count_visits(acc, visits, v_time, start_ns, end_ns)
    s = _count_sessions(acc, sessions, s_start, start_ns, end_ns, last_ns)

    per = pd.DataFrame({"visits": visit_counts, "shiny_sessions": s["counts"]})
    per["events"] = per["visits"] + per["shiny_sessions"]
    per["unique_viewers"] = acc.unique_viewers()
    per["shiny_session_hours"] = s["hours"]
    per["last_visit"] = pd.Series(acc.last.view("datetime64[ns]")).dt.tz_localize("UTC")
    totals = {
        "visits": n_visits,
        "shiny_sessions": s["n"],
        "events": n_visits + s["n"],
        "unique_viewers": len(acc.users_seen),
        "events_for_deleted_content": acc.deleted,
        "open_shiny_sessions": s["n_open"],
        "shiny_session_hours": s["total_hours"],
    }
    return per, totals


def _count_visits(acc: _Accumulator, visits: pd.DataFrame, v_time: np.ndarray, start_ns: int,
                  end_ns: int) -> tuple[np.ndarray, int]:
    """(visits per content item, visits in the window), chunk by chunk."""
    visit_counts = np.zeros(acc.n, dtype=np.int64)
    n_visits = 0
    for rows in _chunks(len(visits)):
        t = v_time[rows]
        inside = (t != NAT) & (t >= start_ns) & (t <= end_ns)
        content = acc.add(visits["content_guid"].iloc[rows], visits["user_guid"].iloc[rows], inside, t)
        visit_counts += np.bincount(content[inside & (content >= 0)], minlength=acc.n)
        n_visits += int(inside.sum())
    return visit_counts, n_visits


def _count_sessions(acc: _Accumulator, sessions: pd.DataFrame, s_start: np.ndarray, start_ns: int,
                    end_ns: int, last_ns: int) -> dict:
    """Shiny sessions overlapping the window: counts and hours per item, and in total."""
    s_end_all = _times_ns(sessions["ended"])
    session_counts = np.zeros(acc.n, dtype=np.int64)
    session_hours = np.zeros(acc.n, dtype=np.float64)
    n_sessions = n_open = 0
    total_hours = 0.0
    for rows in _chunks(len(sessions)):
        started, ended = s_start[rows], s_end_all[rows]
        is_open = ended == NAT
        inside = (started != NAT) & (started <= end_ns) & (is_open | (ended >= start_ns))
        content = acc.add(sessions["content_guid"].iloc[rows], sessions["user_guid"].iloc[rows], inside, started)
        overlap = np.minimum(np.where(is_open, last_ns, ended), end_ns) - np.maximum(started, start_ns)
        hours = np.where(inside, np.clip(overlap, 0, None) / NS_PER_HOUR, 0.0)
        known = inside & (content >= 0)
        session_counts += np.bincount(content[known], minlength=acc.n)
        session_hours += np.bincount(content[known], weights=hours[known], minlength=acc.n)
        n_sessions += int(inside.sum())
        n_open += int((inside & is_open).sum())
        total_hours += float(hours.sum())
    return {"counts": session_counts, "hours": session_hours, "n": n_sessions, "n_open": n_open,
            "total_hours": total_hours}


class _Accumulator:
    """Per-content facts gathered chunk by chunk over both usage tables."""

    def __init__(self, index: pd.Index):
        self.index = index
        self.n = len(index)
        self.user_codes: dict[str, int] = {}  # user_guid -> code, shared by both tables
        self.users_seen: set[int] = set()
        self.pairs: list[np.ndarray] = []  # distinct (content << 32 | user) keys per chunk
        self.last = np.full(self.n, NAT, dtype=np.int64)
        self.deleted = 0

    def add(self, content_guid: pd.Series, user_guid: pd.Series, inside: np.ndarray,
            times: np.ndarray) -> np.ndarray:
        """Record one chunk's in-window rows; return its content positions (-1: not in content)."""
        content = _codes_in(content_guid, self.index)
        users = self._users(user_guid)
        self.deleted += int((inside & (content < 0)).sum())
        self.users_seen.update(np.flatnonzero(np.bincount(users[inside & (users >= 0)])).tolist())
        known = inside & (content >= 0)
        np.maximum.at(self.last, content[known], times[known])
        both = known & (users >= 0)
        self.pairs.append(_distinct((content[both].astype(np.int64) << 32) | users[both]))
        return content

    def _users(self, user_guid: pd.Series) -> np.ndarray:
        codes, uniques = pd.factorize(user_guid, use_na_sentinel=True)
        lookup = [self.user_codes.setdefault(u, len(self.user_codes)) for u in uniques.astype(object)]
        return np.append(np.asarray(lookup, dtype=np.int64), -1)[codes]

    def unique_viewers(self) -> np.ndarray:
        """Distinct non-null users per content position."""
        pairs = _distinct(np.concatenate(self.pairs)) if self.pairs else np.empty(0, np.int64)
        return np.bincount(pairs >> 32, minlength=self.n).astype(np.int64)


def _chunks(n: int):
    for start in range(0, n, CHUNK_ROWS):
        yield slice(start, min(n, start + CHUNK_ROWS))


def _codes_in(col: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value in index (-1: absent or null), as int32; factorized first,
    because looking up millions of strings one by one is slow and few are distinct."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    positions = np.append(index.get_indexer(uniques), -1).astype(np.int32)  # code -1 picks the last
    return positions[codes]


def _distinct(keys: np.ndarray) -> np.ndarray:
    # Sort-based: numpy's hash-based np.unique is far slower on tens of millions of int64.
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


def _times_ns(col: pd.Series) -> np.ndarray:
    """Timestamps as int64 UTC nanoseconds; NaT becomes NAT."""
    if col.dtype != "datetime64[ns, UTC]":
        col = pd.to_datetime(col, utc=True).astype("datetime64[ns, UTC]")
    return col.array.asi8  # a view, no copy


def _ns(ts: pd.Timestamp | None, default: int) -> int:
    return default if ts is None else int(pd.Timestamp(ts).tz_convert("UTC").value)
