"""The snapshot's tables: one Parquet file per table, with these columns and dtypes.

This is the contract between fetch (which writes), the simulator's generated data
(which it must round-trip) and the analysis (which reads). Timestamps are
timezone-aware UTC; ids are strings; versions are strings ("4.3.2").
"""

from __future__ import annotations

import pandas as pd

STR = "string"
TS = "datetime64[ns, UTC]"
INT = "Int64"
BOOL = "boolean"
FLOAT = "Float64"

TABLES: dict[str, dict[str, str]] = {
    "content": {
        "guid": STR,
        "id": STR,
        "name": STR,
        "title": STR,
        "description": STR,
        "app_mode": STR,
        "content_category": STR,
        "access_type": STR,
        "owner_guid": STR,
        "owner_username": STR,
        "created_time": TS,
        "last_deployed_time": TS,
        "bundle_id": STR,  # null: never deployed
        "r_version": STR,
        "py_version": STR,
        "quarto_version": STR,
        "cluster_name": STR,
        "image_name": STR,
        "run_as": STR,
        "run_as_current_user": BOOL,
        "content_url": STR,
        "dashboard_url": STR,
        "vanity_url": STR,
        "locked": BOOL,
        "r_environment_management": BOOL,  # false: R packages from the host; null: server default
        "py_environment_management": BOOL,
    },
    "bundles": {
        "content_guid": STR,
        "bundle_id": STR,
        "created_time": TS,
        "active": BOOL,
        "size": INT,  # bytes of the bundle archive on disk; 0 when none
    },
    "content_storage": {  # per content item; from the storage endpoints or summed from bundles
        "content_guid": STR,
        "bundle_count": INT,
        "bytes_total": INT,
        "bytes_active": INT,
        "bytes_inactive": INT,
    },
    "visits": {
        "content_guid": STR,
        "user_guid": STR,  # null: anonymous
        "time": TS,
        "variant_key": STR,
        "rendering_id": STR,
        "bundle_id": STR,
        "path": STR,
        "data_version": INT,
    },
    "shiny_sessions": {
        "content_guid": STR,
        "user_guid": STR,
        "started": TS,
        "ended": TS,  # null: still open
        "data_version": INT,
    },
    "users": {
        "guid": STR,
        "username": STR,
        "email": STR,
        "first_name": STR,
        "last_name": STR,
        "user_role": STR,
        "created_time": TS,
        "updated_time": TS,
        "active_time": TS,
        "confirmed": BOOL,
        "locked": BOOL,
    },
    "groups": {"guid": STR, "name": STR, "owner_guid": STR},
    "tags": {
        "id": STR,
        "name": STR,
        "parent_id": STR,
        "created_time": TS,
        "updated_time": TS,
    },
    "content_tags": {"content_guid": STR, "tag_id": STR, "tag_name": STR},
    "vanities": {"content_guid": STR, "path": STR, "created_time": TS},
    "server_runtimes": {  # installations on the server itself
        "language": STR,  # r | python | quarto
        "version": STR,
        "cluster_name": STR,
        "image_name": STR,
    },
    "environments": {
        "guid": STR,
        "id": STR,
        "title": STR,
        "name": STR,  # the container image
        "cluster_name": STR,
        "environment_type": STR,
        "matching": STR,
    },
    "environment_runtimes": {
        "environment_guid": STR,
        "language": STR,  # r | python | quarto
        "version": STR,
        "path": STR,
    },
    "runtime_caches": {"language": STR, "version": STR, "image_name": STR},
    "packages": {"content_guid": STR, "language": STR, "name": STR, "version": STR},
    "jobs": {  # build and restore jobs (GET /v1/content/{guid}/jobs): tag in BUILD_JOB_TAGS
        "content_guid": STR,
        "key": STR,
        "bundle_id": STR,
        "tag": STR,
        "start_time": TS,
        "end_time": TS,  # null: still running
        "exit_code": INT,  # null: not finished
        "status": INT,  # 0 active, 1 finished, 2 finalized, 3 skipped
        "error": STR,
        "hostname": STR,
        "cluster": STR,
        "image": STR,
        "run_as": STR,
    },
}


# The job tags the jobs table keeps: package restores and renders, what a rebuild repeats.
BUILD_JOB_TAGS = ("packrat_restore", "python_restore", "build_report", "build_site", "build_jupyter")


def empty(table: str) -> pd.DataFrame:
    """An empty DataFrame with the table's columns and dtypes."""
    return conform(pd.DataFrame(), table)


def conform(df: pd.DataFrame, table: str, only: list[str] | None = None) -> pd.DataFrame:
    """Return df with exactly the table's columns (or `only` those), in order, cast to their dtypes.

    Missing columns become all-null; extra columns are dropped.
    """
    columns = {n: d for n, d in TABLES[table].items() if only is None or n in only}
    out = {}
    for name, dtype in columns.items():
        col = df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index)
        out[name] = _cast(col, dtype)
    return pd.DataFrame(out, index=range(len(df))) if len(df) else pd.DataFrame(
        {n: pd.Series([], dtype=d) for n, d in columns.items()}
    )


def _cast(col: pd.Series, dtype: str) -> pd.Series:
    col = col.reset_index(drop=True)
    if str(col.dtype) == dtype:  # not ==: "string" == the NaN-valued "str" dtype
        return col  # already conformed, e.g. read back from a snapshot: no copy
    if dtype == TS:
        return pd.to_datetime(col, utc=True, format="ISO8601").astype(TS)
    if dtype == BOOL:
        return col.map(_to_bool, na_action="ignore").astype(BOOL)
    if dtype == INT:
        return pd.to_numeric(col, errors="coerce").astype(INT)
    if dtype == FLOAT:
        return pd.to_numeric(col, errors="coerce").astype(FLOAT)
    if isinstance(col.dtype, pd.StringDtype):
        # Already strings (e.g. read back from Parquet): a cheap cast, no per-value Python
        # call; it matters for tables of tens of millions of rows.
        return col.astype(STR)
    return col.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore").astype(STR)


def _to_bool(v):
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "t")
    return bool(v)
