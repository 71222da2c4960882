"""Build and restore jobs: GET /v1/content/{guid}/jobs, one call per item asked for (every
deployed item, or a sample of them: fetch_jobs.py).

Only the jobs a rebuild repeats are kept (schema.BUILD_JOB_TAGS). On a refresh the items
to read again are those wanted now that the previous snapshot did not read (not in its
sample), those deployed or added since, and those whose latest job there was unfinished or
failed; every other wanted item keeps its previous rows, and items no longer wanted lose theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

import pandas as pd

from .. import schema
from .._keyguard import segment
from ..client import Client
from ..errors import NotFoundError, PermissionError_
from ._rows import frame

SOURCE = "/v1/content/{guid}/jobs"
FIELDS = tuple(schema.TABLES["jobs"])


def fetch_content_jobs(client: Client, content_guid: str) -> list[dict] | None:
    """One item's build and restore jobs as rows; None when the item is gone."""
    try:
        items = client.get_json(f"v1/content/{segment(content_guid)}/jobs")
    except NotFoundError:
        return None
    return [{**{k: j.get(k) for k in FIELDS}, "content_guid": content_guid}
            for j in (items or []) if isinstance(j, dict) and j.get("tag") in schema.BUILD_JOB_TAGS]


def fetch_jobs(client: Client, guids: list[str], pool: Executor,
               on_item: Callable[[], None] | None = None) -> tuple[pd.DataFrame, list[PermissionError_]]:
    """(jobs of the items, the refusals of items this key may not read). The first item is
    read alone, so a server without the endpoint (UnsupportedError) costs one request."""
    refused: list[PermissionError_] = []

    def one(guid):
        try:
            return fetch_content_jobs(client, guid) or []
        except PermissionError_ as e:
            refused.append(e)
            return []
        finally:
            if on_item:
                on_item()

    first = one(guids[0]) if guids else []
    rows = first + [r for part in pool.map(one, guids[1:]) for r in part]
    return tidy(frame(rows, "jobs")), refused


def to_read_again(wanted: list[str], previous: pd.DataFrame, changed: list[str], covered: set[str]) -> list[str]:
    """The wanted items whose jobs a refresh reads again (module docstring), in wanted order.
    covered: the items whose jobs the previous snapshot read."""
    latest = previous.sort_values(["start_time", "key"], kind="stable").groupby("content_guid").tail(1)
    open_or_failed = latest["end_time"].isna() | latest["exit_code"].fillna(0).ne(0) | latest["error"].notna()
    again = set(changed) | set(latest.loc[open_or_failed, "content_guid"])
    return [g for g in wanted if g in again or g not in covered]


def merged(previous: pd.DataFrame, fresh: pd.DataFrame, read: list[str], wanted: list[str]) -> pd.DataFrame:
    """The previous rows of wanted items not read again, and the fresh rows."""
    keep = previous["content_guid"].isin(set(wanted) - set(read))
    return tidy(pd.concat([previous[keep], fresh], ignore_index=True))


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (item, job key), sorted by item, start time and key."""
    df = df.drop_duplicates(["content_guid", "key"], keep="last")
    return df.sort_values(["content_guid", "start_time", "key"], kind="stable").reset_index(drop=True)
