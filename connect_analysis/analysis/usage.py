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


def usage_by_content(content_guids: pd.Series, visits: pd.DataFrame, sessions: pd.DataFrame,
                     window: Window) -> tuple[pd.DataFrame, dict]:
    """Per content item (one row per content_guids entry, same order) and in total.

    Returns (per_content, totals). per_content columns: visits, shiny_sessions, events,
    unique_viewers, shiny_session_hours (float hours), last_visit (UTC timestamp or NaT).
    totals: visits, shiny_sessions, events, unique_viewers, events_for_deleted_content,
    open_shiny_sessions, shiny_session_hours.
    """
    n = len(content_guids)
    index = pd.Index(content_guids.astype("string"))
    start_ns = _ns(window.start, np.iinfo(np.int64).min)
    end_ns = _ns(window.end, np.iinfo(np.int64).max)

    v_time = _times_ns(visits["time"])
    v_mask = (v_time != NAT) & (v_time >= start_ns) & (v_time <= end_ns)
    v_content = index.get_indexer(visits["content_guid"])[v_mask]
    v_time = v_time[v_mask]

    s_start = _times_ns(sessions["started"])
    s_end_raw = _times_ns(sessions["ended"])
    s_open = sessions["ended"].isna().to_numpy()
    s_mask = (s_start != NAT) & (s_start <= end_ns) & (s_open | (s_end_raw >= start_ns))
    s_content = index.get_indexer(sessions["content_guid"])[s_mask]
    s_start, s_end_raw, s_open = s_start[s_mask], s_end_raw[s_mask], s_open[s_mask]

    # Session hours: overlap with the window; an open session runs to the window end.
    last_ns = end_ns if window.end is not None else (
        int(max(v_time.max(initial=0), s_start.max(initial=0))))
    s_end = np.where(s_open, last_ns, s_end_raw)
    overlap = np.minimum(s_end, end_ns) - np.maximum(s_start, start_ns)
    hours = np.clip(overlap, 0, None) / NS_PER_HOUR

    users = pd.concat([visits["user_guid"][v_mask], sessions["user_guid"][s_mask]], ignore_index=True)
    user_codes, uniques = pd.factorize(users, use_na_sentinel=True)
    n_users = max(len(uniques), 1)

    per = pd.DataFrame({
        "visits": _count(v_content, n),
        "shiny_sessions": _count(s_content, n),
    })
    per["events"] = per["visits"] + per["shiny_sessions"]
    content_codes = np.concatenate([v_content, s_content])
    known = (content_codes >= 0) & (user_codes >= 0)
    pairs = np.unique(content_codes[known].astype(np.int64) * n_users + user_codes[known])
    per["unique_viewers"] = np.bincount(pairs // n_users, minlength=n).astype(np.int64)
    per["shiny_session_hours"] = np.bincount(s_content[s_content >= 0], weights=hours[s_content >= 0],
                                             minlength=n)
    per["last_visit"] = _last_time(content_codes, np.concatenate([v_time, s_start]), n)

    totals = {
        "visits": int(len(v_content)),
        "shiny_sessions": int(len(s_content)),
        "events": int(len(v_content) + len(s_content)),
        "unique_viewers": int(len(uniques)),
        "events_for_deleted_content": int((v_content < 0).sum() + (s_content < 0).sum()),
        "open_shiny_sessions": int(s_open.sum()),
        "shiny_session_hours": float(hours.sum()),
    }
    return per, totals


def _count(codes: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes[codes >= 0], minlength=n).astype(np.int64)


def _last_time(codes: np.ndarray, times_ns: np.ndarray, n: int) -> pd.Series:
    """Latest event time per content code, NaT when none."""
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    ok = codes >= 0
    _max_by_sort(last, codes[ok], times_ns[ok])
    out = pd.Series(pd.to_datetime(last, utc=True, unit="ns"))
    out[last == np.iinfo(np.int64).min] = pd.NaT
    return out.astype("datetime64[ns, UTC]")


def _max_by_sort(last: np.ndarray, codes: np.ndarray, times: np.ndarray) -> None:
    # np.maximum.at is slow on millions of rows; sort by (code, time), take each group's last.
    if not len(codes):
        return
    order = np.lexsort((times, codes))
    codes, times = codes[order], times[order]
    ends = np.flatnonzero(np.append(codes[1:] != codes[:-1], True))
    last[codes[ends]] = times[ends]


def _times_ns(col: pd.Series) -> np.ndarray:
    """Timestamps as int64 UTC nanoseconds; NaT becomes NAT."""
    values = pd.to_datetime(col, utc=True).astype("datetime64[ns, UTC]")
    return values.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT")).view(np.int64)


def _ns(ts: pd.Timestamp | None, default: int) -> int:
    return default if ts is None else int(pd.Timestamp(ts).tz_convert("UTC").value)
