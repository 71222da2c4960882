"""Shared storage: bundle bytes in use, by content, growth by month, and the capacity to provision.

The totals come from content_storage (one row per content item; filled from the storage
endpoints on 2026.06+ servers and summed from bundles on older ones), so every Connect
version gives the same answer. Per-bundle rows are only used for growth by month, which is
empty when the snapshot has no per-bundle history.

recommended = max(100 GB, 2 x current use), 1 GB = 10^9 bytes; current use defaults to the
total bundle bytes and can be replaced by a measured figure (e.g. `du -sb` of the data directory).
"""

from __future__ import annotations

import pandas as pd

GB = 10**9
MINIMUM_BYTES = 100 * GB
PROJECTION_MONTHS = 12

BY_CONTENT_COLUMNS = ["guid", "title", "owner", "app_mode", "bundle_count", "bytes_total",
                      "bytes_active", "bytes_inactive", "share_of_total"]
GROWTH_COLUMNS = ["month", "bundles_added", "bytes_added", "bytes_cumulative"]
PROJECTION_COLUMNS = ["month", "projected_bytes", "recommended_bytes", "monthly_growth_bytes",
                      "months_of_history"]


def recommended_capacity_bytes(current_use_bytes: int) -> int:
    """max(100 GB, 2 x current use), in bytes."""
    return max(MINIMUM_BYTES, 2 * int(current_use_bytes))


STORAGE_TABLES = ["content_storage", "bundles"]  # what storage_in_use_bytes reads


def storage_in_use_bytes(snapshot) -> int:
    """The bundle bytes a snapshot holds: the summary's current use when none is measured.
    Reads only STORAGE_TABLES of the snapshot."""
    table = content_storage_table(snapshot.content_storage, snapshot.bundles)
    return int(table["bytes_total"].fillna(0).astype("int64").sum()) if len(table) else 0


def content_storage_table(content_storage: pd.DataFrame, bundles: pd.DataFrame) -> pd.DataFrame:
    """Per content storage; summed from bundles when content_storage is empty but bundles are not."""
    if not content_storage.empty or bundles.empty:
        return content_storage
    size = bundles["size"].fillna(0).astype("int64")
    active = bundles["active"].fillna(False).astype(bool)
    g = pd.DataFrame({"content_guid": bundles["content_guid"], "size": size,
                      "active": size.where(active, 0), "inactive": size.where(~active, 0)})
    out = g.groupby("content_guid", sort=True).agg(bundle_count=("size", "size"), bytes_total=("size", "sum"),
                                                   bytes_active=("active", "sum"), bytes_inactive=("inactive", "sum"))
    return out.reset_index()


def storage_by_content(storage: pd.DataFrame, content: pd.DataFrame) -> pd.DataFrame:
    """One row per content item with bundles, largest first (ties by guid); bytes are bytes.

    share_of_total: bytes_total / all bundle bytes (0..1). Storage of content no longer in the
    content table is kept (title and owner empty).
    """
    info = content.drop_duplicates("guid").set_index("guid")[["title", "owner_username", "app_mode"]]
    df = pd.DataFrame({
        "guid": storage["content_guid"].astype("string"),
        "bundle_count": storage["bundle_count"].fillna(0).astype("int64"),
        "bytes_total": storage["bytes_total"].fillna(0).astype("int64"),
        "bytes_active": storage["bytes_active"].fillna(0).astype("int64"),
        "bytes_inactive": storage["bytes_inactive"].fillna(0).astype("int64"),
    })
    df = df.join(info, on="guid").rename(columns={"owner_username": "owner"})
    total = int(df["bytes_total"].sum())
    df["share_of_total"] = df["bytes_total"] / total if total else 0.0
    df = df.sort_values(["bytes_total", "guid"], ascending=[False, True], kind="stable")
    return df[BY_CONTENT_COLUMNS].reset_index(drop=True)


def storage_summary(by_content: pd.DataFrame, current_use_bytes: int | None, top: int = 10) -> dict:
    """The summary's storage block; all sizes in bytes."""
    total = int(by_content["bytes_total"].sum())
    current = total if current_use_bytes is None else int(current_use_bytes)
    return {
        "bundle_count": int(by_content["bundle_count"].sum()),
        "bundle_bytes_total": total,
        "bundle_bytes_active": int(by_content["bytes_active"].sum()),
        "bundle_bytes_inactive": int(by_content["bytes_inactive"].sum()),
        "current_use_bytes": current,
        "current_use_source": "bundles" if current_use_bytes is None else "measured",
        "recommended_bytes": recommended_capacity_bytes(current),
        "top_content": [{"guid": str(r.guid), "title": None if pd.isna(r.title) else str(r.title),
                         "bytes_total": int(r.bytes_total)}
                        for r in by_content.head(top).itertuples(index=False)],
    }


def storage_growth(bundles: pd.DataFrame) -> pd.DataFrame:
    """Bundle bytes added per calendar month (UTC) from the bundles still on the server.

    Empty when the snapshot has no per-bundle rows. Months with no new bundle are included
    (zeros) between the first and the last.
    """
    df = bundles.dropna(subset=["created_time"])
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             zip(GROWTH_COLUMNS, ["string", "int64", "int64", "int64"], strict=True)})
    month = df["created_time"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    g = pd.DataFrame({"month": month, "size": df["size"].fillna(0).astype("int64")}).groupby("month")
    out = g.agg(bundles_added=("size", "size"), bytes_added=("size", "sum"))
    full = pd.period_range(out.index.min(), out.index.max(), freq="M")
    out = out.reindex(full, fill_value=0)
    out["bytes_cumulative"] = out["bytes_added"].cumsum()
    out = out.reset_index(names="month")
    out["month"] = out["month"].astype(str).astype("string")
    return out[GROWTH_COLUMNS].astype({"bundles_added": "int64", "bytes_added": "int64",
                                       "bytes_cumulative": "int64"})


def storage_projection(current_use_bytes: int, growth: pd.DataFrame, start: pd.Timestamp,
                       months: int = PROJECTION_MONTHS) -> tuple[pd.DataFrame, dict]:
    """The next `months` months from `start` (UTC): projected use and recommended capacity.

    Monthly growth = mean bytes added per month over the last 12 months of bundle history
    (fewer when the history is shorter); 0 when there is none (months_of_history says 0).
    Returns (table, basis) where basis = {monthly_growth_bytes, months_of_history}, also in
    every row of the table.
    """
    recent = growth.tail(12)
    monthly = int(round(recent["bytes_added"].mean())) if len(recent) else 0
    basis = {"monthly_growth_bytes": monthly, "months_of_history": int(len(recent))}
    first = pd.Timestamp(start).tz_convert("UTC").tz_localize(None).to_period("M") + 1
    rows = []
    for k in range(months):
        projected = int(current_use_bytes) + monthly * (k + 1)
        rows.append({"month": str(first + k), "projected_bytes": projected,
                     "recommended_bytes": recommended_capacity_bytes(projected),
                     "monthly_growth_bytes": monthly, "months_of_history": int(len(recent))})
    return pd.DataFrame(rows, columns=PROJECTION_COLUMNS).astype(
        {"month": "string", "projected_bytes": "int64", "recommended_bytes": "int64",
         "monthly_growth_bytes": "int64", "months_of_history": "int64"}), basis
