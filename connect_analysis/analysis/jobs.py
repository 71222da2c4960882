"""What the server's build and restore jobs say: how long an item takes to rebuild, and which
items already fail to build on the old server.

A rebuild (`rsconnect content build`) restores the packages and, for documents, renders: the
measured rebuild of a bundle is the sum of its successful REBUILD_TAGS jobs; an item's is the
median over its bundles. Items with no such job take the median of the measured items of the
same runtime (downtime.rebuild_kind), else the stated assumption (downtime.REBUILD_MINUTES).
"""

from __future__ import annotations

import pandas as pd

from .. import schema
from .downtime import REBUILD_MINUTES, rebuild_kind
from .summary import iso

REBUILD_TAGS = schema.BUILD_JOB_TAGS
ITEM, RUNTIME_MEDIAN, ASSUMED = "measured (item)", "measured (runtime median)", "assumed"
REBUILD_COLUMNS = ["guid", "runtime", "rebuild_minutes", "rebuild_source"]


def rebuild_jobs(jobs: pd.DataFrame) -> pd.DataFrame:
    """The build and restore jobs (REBUILD_TAGS) with a start time."""
    return jobs[jobs["tag"].isin(REBUILD_TAGS) & jobs["start_time"].notna()]


def latest_failures(jobs: pd.DataFrame) -> dict[str, str]:
    """{content guid: "<end time>, exit code N"} of items whose latest finished build or
    restore job failed (non-zero exit code, or an error message)."""
    done = rebuild_jobs(jobs)
    done = done[done["exit_code"].notna() | done["error"].notna()]
    if done.empty:
        return {}
    latest = done.sort_values(["start_time", "key"], kind="stable").groupby("content_guid").tail(1)
    failed = latest[latest["exit_code"].fillna(0).ne(0) | latest["error"].fillna("").str.strip().ne("")]
    out = {}
    for j in failed.itertuples(index=False):
        code = "an error" if pd.isna(j.exit_code) else f"exit code {int(j.exit_code)}"
        out[str(j.content_guid)] = f"{iso(j.end_time if pd.notna(j.end_time) else j.start_time)}, {code}"
    return out


def measured_minutes(jobs: pd.DataFrame) -> pd.Series:
    """Measured rebuild minutes per content guid (only items with a successful job)."""
    ok = rebuild_jobs(jobs)
    ok = ok[ok["end_time"].notna() & ok["exit_code"].eq(0)]
    if ok.empty:
        return pd.Series(dtype="float64")
    minutes = (ok["end_time"] - ok["start_time"]).dt.total_seconds().clip(lower=0) / 60
    bundle = ok["bundle_id"].fillna(ok["key"])
    per_bundle = minutes.groupby([ok["content_guid"], bundle]).sum()
    return per_bundle.groupby(level=0).median().astype("float64")


def rebuild_minutes(content: pd.DataFrame, jobs: pd.DataFrame) -> pd.DataFrame:
    """Per content row (content order): runtime, rebuild_minutes and where the figure comes
    from (ITEM, RUNTIME_MEDIAN or ASSUMED); columns REBUILD_COLUMNS."""
    runtime = rebuild_kind(content).reset_index(drop=True)
    guids = content["guid"].reset_index(drop=True)
    own = guids.map(measured_minutes(jobs)).astype("float64")
    medians = own.groupby(runtime).median()
    by_runtime = runtime.map(medians).astype("float64")
    assumed = runtime.map(REBUILD_MINUTES).astype("float64")
    source = pd.Series(ASSUMED, index=guids.index, dtype="string")
    source[by_runtime.notna()] = RUNTIME_MEDIAN
    source[own.notna()] = ITEM
    minutes = own.fillna(by_runtime).fillna(assumed)
    return pd.DataFrame({"guid": guids, "runtime": runtime, "rebuild_minutes": minutes.round(2),
                         "rebuild_source": source})[REBUILD_COLUMNS]


def runtime_medians(table: pd.DataFrame) -> dict[str, dict]:
    """{runtime: {minutes, source}}: the per-item figure used for items without their own jobs."""
    out = {}
    for kind, assumed in REBUILD_MINUTES.items():
        rows = table[(table["runtime"] == kind) & (table["rebuild_source"] == ITEM)]
        out[kind] = ({"minutes": round(float(rows["rebuild_minutes"].median()), 2), "source": RUNTIME_MEDIAN,
                      "measured_items": int(len(rows))} if len(rows)
                     else {"minutes": assumed, "source": ASSUMED, "measured_items": 0})
    return out
