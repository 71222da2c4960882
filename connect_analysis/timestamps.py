"""The kit's one timestamp format: ISO 8601 (RFC 3339) in UTC with a Z."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd


def iso(ts, *, whole_seconds: bool = False) -> str | None:
    """ts (a datetime, pandas Timestamp or ISO string; naive means UTC) in ISO 8601 UTC with a
    Z, or None for a missing value. whole_seconds drops any fraction of a second (what
    Connect's from/to parameters accept); otherwise a fraction is kept when there is one."""
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return None
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    if whole_seconds:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return t.isoformat().replace("+00:00", "Z")


def utc_second(ts) -> datetime:
    """ts (a datetime or an ISO string; naive means UTC) as a timezone-aware UTC datetime,
    its fraction of a second dropped."""
    if isinstance(ts, str):
        ts = pd.Timestamp(ts).to_pydatetime()
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).replace(microsecond=0)
