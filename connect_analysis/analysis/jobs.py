"""What the server's build and restore jobs say: how long an item takes to rebuild, and which
items already fail to build on the old server.

A rebuild (`rsconnect content build`) restores the packages and, for documents, renders: the
measured rebuild of a bundle is the sum of its successful REBUILD_TAGS jobs; an item's is the
median over its bundles. Items with no such job take the median of the measured items of the
same runtime (downtime.rebuild_kind), else the stated assumption (downtime.REBUILD_MINUTES).

By default the fetch reads the jobs of a sample (jobs_sample: per runtime, the most recently
deployed items); jobs_coverage says for how many of the deployed items the jobs were read.
"""

from __future__ import annotations

import pandas as pd

from .. import schema
from ..options import JOBS_ALL_UP_TO, JOBS_MODES, JOBS_PER_RUNTIME
from ..timestamps import iso
from .downtime import REBUILD_MINUTES, rebuild_kind

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


def jobs_sample(content: pd.DataFrame, per_runtime: int = JOBS_PER_RUNTIME,
                all_up_to: int = JOBS_ALL_UP_TO) -> list[str]:
    """The guids of the deployed items whose jobs a sampled fetch reads, in content order: every
    deployed item when there are at most `all_up_to`, else for each runtime (rebuild_kind, the
    groups of the medians) the `per_runtime` most recently deployed (ties: by guid)."""
    deployed = content[content["bundle_id"].notna()]
    if len(deployed) <= all_up_to:
        return deployed["guid"].tolist()
    ranked = deployed.assign(_kind=rebuild_kind(deployed)).sort_values(
        ["last_deployed_time", "guid"], ascending=[False, True], kind="stable", na_position="last")
    chosen = set(ranked.groupby("_kind", sort=False).head(per_runtime)["guid"])
    return [g for g in deployed["guid"] if g in chosen]


def sampled(latest_builds: dict) -> bool:
    """Whether summary.json's readiness.latest_builds covers only some deployed items."""
    return latest_builds.get("checked_items", 0) < latest_builds.get("deployed_items", 0)


def jobs_coverage(manifest: dict, content: pd.DataFrame, jobs_known: bool, failing_items: int) -> dict:
    """summary.json's readiness.latest_builds: {mode, checked_items, deployed_items, failing_items,
    text}, from the manifest's `jobs` record (fetch --jobs); a snapshot without one (an earlier
    kit) holds every deployed item's jobs."""
    deployed = int(content["bundle_id"].notna().sum())
    record = manifest.get("jobs") if isinstance(manifest, dict) else None
    if not (isinstance(record, dict) and record.get("mode") in JOBS_MODES and _count(record.get("items"))):
        record = None  # an earlier kit's snapshot, or the jobs not read at all
    mode = record["mode"] if record else "all"
    checked = min(record["items"], deployed) if record else (deployed if jobs_known else 0)
    per_runtime = record.get("per_runtime") if record and _count(record.get("per_runtime")) else JOBS_PER_RUNTIME
    if deployed == 0 or checked == 0:
        text = "no latest builds were checked: " + ("nothing is deployed" if deployed == 0
                                                    else "the server gave no jobs (see unavailable)")
    elif checked < deployed:
        text = (f"latest builds checked for {checked} of {deployed} deployed items (the fetch read the jobs "
                f"of the {per_runtime} most recently deployed items of each runtime); fetch with --jobs all "
                "to check every item")
    else:
        text = f"latest builds checked for every deployed item ({deployed})"
    if checked and not jobs_known:
        text += "; some of them could not be read with this key (see unavailable)"
    return {"mode": mode, "checked_items": checked, "deployed_items": deployed,
            "failing_items": int(failing_items), "text": text}


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
