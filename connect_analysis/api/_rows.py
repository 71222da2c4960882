"""Lenient conversion of API records into snapshot rows.

Connect answers with ids as strings or integers, timestamps with Z, offsets, micro-
or nanoseconds (and, in some fixtures, invalid ones), nulls, and extra fields. None of
these is an error here: unknown fields are ignored, unparseable values become null.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import repeat

import pandas as pd
import pyarrow as pa

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
        epoch = isinstance(value, (int, float)) and not isinstance(value, bool)
        ts = pd.Timestamp(value, unit="s", tz="UTC") if epoch else pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if ts is pd.NaT:
        return None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    try:
        return ts.as_unit("ns")
    except (ValueError, OverflowError):  # beyond 1677-2262, e.g. Go's zero time 0001-01-01
        return None


def timestamps(values: pd.Series) -> pd.Series:
    """Vectorised `timestamp` for a column of text; numbers (epoch seconds) and text that
    does not parse go one value at a time."""
    try:
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            raise TypeError("not all text")
        return pd.to_datetime(values, utc=True, format="ISO8601").astype(schema.TS)
    except (ValueError, TypeError, OverflowError):
        return pd.Series([timestamp(v) for v in values], index=values.index, dtype=object).pipe(
            lambda s: pd.to_datetime(s, utc=True)).astype(schema.TS)


def frame(rows: Iterable[dict], table: str) -> pd.DataFrame:
    """Rows (dicts, possibly with raw API values; anything else is skipped) as a DataFrame
    conformed to `table`."""
    rows = [r for r in rows if isinstance(r, dict)]
    return columns_frame({name: list(map(dict.get, rows, repeat(name, len(rows)))) for name in schema.TABLES[table]},
                         len(rows), table)


def columns_frame(columns: dict[str, list], length: int, table: str) -> pd.DataFrame:
    """Columns of raw API values ({name: values}, each `length` long) as a DataFrame
    conformed to `table`; a column not given is null."""
    if not length:
        return schema.empty(table)
    out = {name: _column(columns.get(name) or [None] * length, dtype)
           for name, dtype in schema.TABLES[table].items()}
    return pd.DataFrame(out, index=pd.RangeIndex(length), copy=False)


def _column(values: list, dtype: str):
    """One column in its schema dtype; values already of the right type skip the per-value clean-up."""
    kinds = set(map(type, values))
    if dtype == schema.TS:
        if not kinds <= _TEXT:
            values = [None if isinstance(v, (dict, list)) else v for v in values]
        return timestamps(pd.Series(values, dtype=object)).array
    if dtype == schema.STR:
        values = values if kinds <= _TEXT else [text(v) for v in values]
        if _ARROW_STRINGS:  # what pd.array(dtype="string") gives, at half the cost
            return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()))
        return pd.array(values, dtype=schema.STR)
    if dtype == schema.BOOL:
        return pd.array(values if kinds <= _BOOL else [_flag(v) for v in values], dtype=schema.BOOL)
    if dtype == schema.INT:
        return pd.array(values if kinds <= _INT else [_integer(v) for v in values], dtype=schema.INT)
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype(dtype).array


_TEXT, _BOOL, _INT = {str, type(None)}, {bool, type(None)}, {int, type(None)}
_ARROW_STRINGS = pd.StringDtype().storage == "pyarrow"


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
    return int(f) if math.isfinite(f) else None  # NaN, or beyond a double (1e400)


def get(record, *keys, default=None):
    """record[k1][k2]... where any level may be missing or null."""
    for k in keys:
        if not isinstance(record, dict):
            return default
        record = record.get(k)
    return default if record is None else record
