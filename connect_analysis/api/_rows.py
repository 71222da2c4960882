"""Lenient conversion of API records into snapshot rows.

Connect answers with ids as strings or integers, timestamps with Z, offsets, micro-
or nanoseconds (and, in some fixtures, invalid ones), nulls, and extra fields. None of
these is an error here: unknown fields are ignored, unparseable values become null.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from .. import schema


def text(value) -> str | None:
    """An id or label as a string: 33 and "33" are the same; 33.0 is "33"; null stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, (dict, list)):
        return None
    return str(value)


def timestamp(value) -> pd.Timestamp | None:
    """A UTC timestamp from RFC 3339 text (Z, offsets, up to nanoseconds) or epoch seconds."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return pd.Timestamp(value, unit="s", tz="UTC")
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if ts is pd.NaT:
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def timestamps(values: pd.Series) -> pd.Series:
    """Vectorised `timestamp` for a column; falls back to one value at a time."""
    try:
        return pd.to_datetime(values, utc=True, format="ISO8601").astype(schema.TS)
    except (ValueError, TypeError, OverflowError):
        return pd.Series([timestamp(v) for v in values], index=values.index, dtype=object).pipe(
            lambda s: pd.to_datetime(s, utc=True)).astype(schema.TS)


def frame(rows: Iterable[dict], table: str) -> pd.DataFrame:
    """Rows (dicts, possibly with raw API values) as a DataFrame conformed to `table`."""
    rows = list(rows)
    columns = schema.TABLES[table]
    if not rows:
        return schema.empty(table)
    present = set().union(*(r.keys() for r in rows))
    out = {}
    for name, dtype in columns.items():
        if name not in present:
            continue
        values = [r.get(name) for r in rows]
        kinds = set(map(type, values))  # values already of the right type skip the per-value clean-up
        if dtype == schema.TS:
            if not kinds <= _TEXT:
                values = [None if isinstance(v, (dict, list)) else v for v in values]
            out[name] = timestamps(pd.Series(values, dtype=object))
        elif dtype == schema.STR:
            out[name] = values if kinds <= _TEXT else [text(v) for v in values]
        elif dtype == schema.BOOL:
            out[name] = values if kinds <= _BOOL else [_flag(v) for v in values]
        elif dtype == schema.INT:
            out[name] = values if kinds <= _INT else [_integer(v) for v in values]
        else:
            out[name] = values
    return schema.conform(pd.DataFrame(out, index=pd.RangeIndex(len(rows))), table)


_TEXT, _BOOL, _INT = {str, type(None)}, {bool, type(None)}, {int, type(None)}


def _flag(value):
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("1", "true", "yes", "t"):
            return True
        if v in ("0", "false", "no", "f", ""):
            return False
        return None
    return bool(value)


def _integer(value):
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else int(f)


def get(record, *keys, default=None):
    """record[k1][k2]... where any level may be missing or null."""
    for k in keys:
        if not isinstance(record, dict):
            return default
        record = record.get(k)
    return default if record is None else record
