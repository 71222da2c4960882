"""Downtime planning: what must be rebuilt, who content runs as, and how long the move may take.

After a move to off-host execution every deployed item must be rebuilt (its packages restored
in the new images); the time estimate multiplies assumed minutes per rebuild by the content
counts and adds the copy of the bundle bytes to shared storage. The assumptions are returned
with the estimate so a reader can judge and change them.
"""

from __future__ import annotations

import pandas as pd

from .runtimes import deployed

# Assumed minutes to rebuild one item, by the heaviest runtime it records.
REBUILD_MINUTES = {"r": 6.0, "python": 3.0, "quarto": 1.0, "none": 0.2}
PARALLEL_BUILDS = 2
COPY_BYTES_PER_SECOND = 100 * 10**6  # 100 MB/s to the shared storage

BY_APP_MODE_COLUMNS = ["app_mode", "content_count", "deployed_count", "never_deployed_count",
                       "bundle_count", "bytes_total"]
RUN_AS_COLUMNS = ["guid", "title", "owner", "app_mode", "run_as", "run_as_current_user"]


def rebuild_kind(content: pd.DataFrame) -> pd.Series:
    """"r", "python", "quarto" or "none": the heaviest runtime each item records (R > Python > Quarto)."""
    kind = pd.Series("none", index=content.index, dtype="string")
    kind[content["quarto_version"].notna()] = "quarto"
    kind[content["py_version"].notna()] = "python"
    kind[content["r_version"].notna()] = "r"
    return kind


def counts_by_app_mode(content: pd.DataFrame, by_content_storage: pd.DataFrame) -> pd.DataFrame:
    """Content and bundle counts per app_mode (null app_mode: "unknown"), sorted by app_mode."""
    mode = content["app_mode"].fillna("unknown")
    storage = by_content_storage.set_index("guid")[["bundle_count", "bytes_total"]]
    joined = content[["guid"]].join(storage, on="guid")
    df = pd.DataFrame({
        "app_mode": mode.to_numpy(),
        "content_count": 1,
        "deployed_count": deployed(content).astype("int64").to_numpy(),
        "bundle_count": joined["bundle_count"].fillna(0).astype("int64").to_numpy(),
        "bytes_total": joined["bytes_total"].fillna(0).astype("int64").to_numpy(),
    })
    out = df.groupby("app_mode", sort=True).sum().reset_index()
    out["never_deployed_count"] = out["content_count"] - out["deployed_count"]
    return out[BY_APP_MODE_COLUMNS].astype({"app_mode": "string"})


def downtime_estimate(content: pd.DataFrame, bundle_count: int, bundle_bytes: int, *,
                      rebuild_minutes: dict | None = None, parallel_builds: int = PARALLEL_BUILDS,
                      copy_bytes_per_second: int = COPY_BYTES_PER_SECOND) -> dict:
    """Estimated migration time in minutes, with the assumptions and the counts it used."""
    minutes = dict(REBUILD_MINUTES, **(rebuild_minutes or {}))
    kind = rebuild_kind(content)[deployed(content)]
    by_kind = {k: int((kind == k).sum()) for k in minutes}
    rebuild = sum(by_kind[k] * minutes[k] for k in minutes) / max(1, parallel_builds)
    copy = bundle_bytes / copy_bytes_per_second / 60
    return {
        "content_to_rebuild": int(len(kind)),
        "content_to_rebuild_by_runtime": by_kind,
        "bundle_count": int(bundle_count),
        "bundle_bytes": int(bundle_bytes),
        "rebuild_minutes": round(rebuild, 1),
        "copy_minutes": round(copy, 1),
        "estimated_minutes": round(rebuild + copy, 1),
        "assumptions": {
            "rebuild_minutes_per_item": minutes,
            "parallel_builds": int(parallel_builds),
            "copy_bytes_per_second": int(copy_bytes_per_second),
            "note": ("every deployed item is rebuilt once in its new image, the heaviest runtime "
                     "it records deciding its time; bundle bytes are copied once to shared storage"),
        },
    }


def run_as_table(content: pd.DataFrame) -> pd.DataFrame:
    """Content with a custom run_as user or run_as_current_user, sorted by run_as then guid."""
    custom = content["run_as"].notna() & (content["run_as"].str.strip() != "")
    current = content["run_as_current_user"].fillna(False).astype(bool)
    df = content[(custom | current).to_numpy()]
    out = pd.DataFrame({
        "guid": df["guid"], "title": df["title"], "owner": df["owner_username"], "app_mode": df["app_mode"],
        "run_as": df["run_as"], "run_as_current_user": df["run_as_current_user"].fillna(False).astype(bool),
    })
    return out.sort_values(["run_as", "guid"], na_position="last", kind="stable").reset_index(drop=True)[RUN_AS_COLUMNS]


def run_as_summary(content: pd.DataFrame) -> dict:
    """{custom: {unix_user: content count}, current_user: content count}."""
    run_as = content["run_as"].dropna().str.strip()
    run_as = run_as[run_as != ""]
    return {
        "custom": {str(k): int(v) for k, v in sorted(run_as.value_counts().items())},
        "current_user": int(content["run_as_current_user"].fillna(False).astype(bool).sum()),
    }
