"""The simulated server's data: small tables as pandas DataFrames, usage as numpy columns.

A `Dataset` is plain data. Tests may build or edit one before handing it to
`start_simulator(dataset=...)`; the server reads it when it starts. Edit the frames in
place (e.g. ``ds.content.loc[0, "title"] = "<script>alert(1)</script>"``), or use
`set_title`, `set_username`, `set_tag_name`. Don't change guids after generation.

Frames (timestamps are tz-aware UTC pandas Timestamps):
  users         guid, username, email, first_name, last_name, user_role, created_time,
                updated_time, active_time (null: never active), confirmed, locked
  groups        guid, name, owner_guid (null for provider-managed groups)
  group_members group_guid, user_guid
  content       id, guid, name, title, description, access_type, app_mode, content_category,
                parameterized, created_time, last_deployed_time, bundle_id (null: never
                deployed), cluster_name, image_name, r_version, py_version, quarto_version,
                r_environment_management, py_environment_management, run_as,
                run_as_current_user, owner_guid, locked, locked_message, variant_key,
                rendering_id
  bundles       id, content_guid, created_time, size (bytes; 0: no file on disk), active,
                cluster_name, image_name, r_version, py_version, quarto_version,
                r_environment_management, py_environment_management, source, archive_md5
  tags          id, name, parent_id (null: a category), created_time, updated_time
  content_tags  content_guid, tag_id
  vanities      content_guid, path, created_time
  packages      content_guid, language ("r" | "python"), name, version, hash (R only)
  server_runtimes    language ("r" | "python" | "quarto"), version, cluster_name, image_name
  environments       id, guid, title, description, name (the image), cluster_name,
                     environment_type, matching, supervisor, created_time, updated_time
  environment_runtimes  environment_guid, language, version, path
  runtime_caches     language ("R" | "Python"), version, image_name

Usage: `visits` and `shiny_sessions` are DataFrames built on demand (columns as in
connect_analysis.schema) from the numpy logs `visit_log` / `shiny_log` (see usage.py).
The logs index `usage_guids`, fixed at generation: every content guid, then
`deleted_content_guids`. Dropping content rows later turns their usage into usage of
deleted content, as on a real server.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .catalogue import API_PATHS, RENDERED_MODES, SHINY_MODES
from .usage import ANONYMOUS, OPEN, UsageLog, generate_log

DAY_S = 86400


@dataclass
class Dataset:
    scenario: str
    seed: int
    now: pd.Timestamp
    users: pd.DataFrame
    groups: pd.DataFrame
    group_members: pd.DataFrame
    content: pd.DataFrame
    bundles: pd.DataFrame
    tags: pd.DataFrame
    content_tags: pd.DataFrame
    vanities: pd.DataFrame
    packages: pd.DataFrame
    server_runtimes: pd.DataFrame
    environments: pd.DataFrame
    environment_runtimes: pd.DataFrame
    runtime_caches: pd.DataFrame
    deleted_content_guids: list[str]
    visit_log: UsageLog
    shiny_log: UsageLog
    usage_guids: np.ndarray  # what usage logs' `content` indexes: content guids, then deleted ones
    visits_per_day: float = 0.0
    sessions_per_day: float = 0.0
    paths: list[str] = field(default_factory=lambda: list(API_PATHS))

    # -- views -----------------------------------------------------------------------

    @property
    def visits(self) -> pd.DataFrame:
        """All visits as a DataFrame (content_guid, user_guid, time, variant_key,
        rendering_id, bundle_id, path, data_version), in time order."""
        log = self.visit_log
        per = self._per_usage_guid()
        return pd.DataFrame({
            "content_guid": self.usage_guids[log.content],
            "user_guid": _user_guids(self.users, log.user),
            "time": pd.to_datetime(log.time, unit="s", utc=True),
            "variant_key": per["variant_key"][log.content],
            "rendering_id": per["rendering_id"][log.content],
            "bundle_id": per["bundle_id"][log.content],
            "path": np.array(self.paths, dtype=object)[log.path],
            "data_version": np.full(len(log), 3, dtype=np.int64),
        })

    @property
    def shiny_sessions(self) -> pd.DataFrame:
        """All Shiny sessions (content_guid, user_guid, started, ended (NaT: open),
        data_version), in start order."""
        log = self.shiny_log
        ended = pd.to_datetime(np.where(log.end == OPEN, 0, log.end), unit="s", utc=True)
        return pd.DataFrame({
            "content_guid": self.usage_guids[log.content],
            "user_guid": _user_guids(self.users, log.user),
            "started": pd.to_datetime(log.time, unit="s", utc=True),
            "ended": ended.where(log.end != OPEN),
            "data_version": np.ones(len(log), dtype=np.int64),
        })

    def _per_usage_guid(self) -> dict[str, np.ndarray]:
        return {k: np.array(per_usage_guid(self, k), dtype=object)
                for k in ("variant_key", "rendering_id", "bundle_id")}

    # -- edits -----------------------------------------------------------------------

    def set_title(self, guid: str, title: str | None) -> None:
        self.content.loc[self.content["guid"] == guid, "title"] = title

    def set_username(self, guid: str, username: str) -> None:
        self.users.loc[self.users["guid"] == guid, "username"] = username

    def set_tag_name(self, tag_id: str, name: str) -> None:
        self.tags.loc[self.tags["id"] == tag_id, "name"] = name

    def first(self, n: int) -> None:
        """Keep only the first n content items, with their bundles, tags, vanities, packages
        and usage (a smaller server of the same scenario: the bench's --scale, the tests)."""
        keep = self.content.iloc[:max(1, n)]
        guids = set(keep["guid"])
        self.content = keep.reset_index(drop=True)
        for name in ("bundles", "content_tags", "vanities", "packages"):
            df = getattr(self, name)
            setattr(self, name, df[df["content_guid"].isin(guids)].reset_index(drop=True))
        kept = np.flatnonzero(np.isin(self.usage_guids, list(guids)))
        for name in ("visit_log", "shiny_log"):
            log = getattr(self, name)
            m = np.isin(log.content, kept)
            setattr(self, name, UsageLog(time=log.time[m], content=log.content[m], user=log.user[m],
                                         path=log.path[m], end=None if log.end is None else log.end[m],
                                         n_guids=log.n_guids))

    # -- time ------------------------------------------------------------------------

    def advance(self, days: float = 1.0) -> None:
        """Move `now` forward and add the usage of the new period (deterministic for the
        seed and the period). Sessions open at the old `now` get an end time."""
        old = int(self.now.timestamp())
        new = old + int(days * DAY_S)
        rng = np.random.default_rng([self.seed, old, new])
        model = usage_model(self)
        vis = generate_log(rng, int(self.visits_per_day * days), old, new,
                           content_weights=model["visit_weights"], shiny=False, now=new,
                           **model["common"])
        shi = generate_log(rng, int(self.sessions_per_day * days), old, new,
                           content_weights=model["shiny_weights"], shiny=True, now=new,
                           **model["common"])
        self.visit_log = self.visit_log.extended(vis)
        self.shiny_log = self.shiny_log.extended(shi, close_open_at=old, rng=rng)
        self.now = pd.Timestamp(new, unit="s", tz="UTC")


def _user_guids(users: pd.DataFrame, idx: np.ndarray) -> np.ndarray:
    table = np.array(list(users["guid"]) + [None], dtype=object)
    return table[np.where(idx == ANONYMOUS, len(users), idx)]


def per_usage_guid(ds: Dataset, column: str, missing=None) -> list:
    """A content column's value for each usage guid (`missing` for deleted content).
    Matching by guid lets tests drop or reorder content rows."""
    values = dict(zip(ds.content["guid"].tolist(), ds.content[column].tolist(), strict=True))
    out = [values.get(g, missing) for g in ds.usage_guids]
    return [None if isinstance(v, float) and v != v else v for v in out]


def epoch_seconds(times: pd.Series) -> pd.Series:
    """Whole seconds since the epoch, whatever the datetime unit (pandas 3 defaults to us)."""
    return (times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)


def usage_model(ds: Dataset) -> dict:
    """Per usage guid popularity and traits, derived from the dataset and its seed alone
    (so `advance` continues the same popularity)."""
    rng = np.random.default_rng([ds.seed, 99])
    n = len(ds.usage_guids)
    # Zipf-like popularity over a seeded ranking of all usage guids.
    rank = rng.permutation(n)
    popularity = 1.0 / (rank + 1.0) ** 1.05
    modes = np.array(per_usage_guid(ds, "app_mode", "deleted"), dtype=object)
    deployed = np.array([m == "deleted" or b is not None
                         for m, b in zip(modes, per_usage_guid(ds, "bundle_id"), strict=True)])
    shiny = np.isin(modes, list(SHINY_MODES))
    shiny |= (modes == "deleted") & (np.arange(n) % 4 == 0)  # some deleted items were Shiny apps
    visit_w = np.where(deployed & ~shiny, popularity, 0.0)
    shiny_w = np.where(deployed & shiny, popularity, 0.0)
    year_ago = int(ds.now.timestamp()) - 365 * DAY_S
    created = dict(zip(ds.content["guid"].tolist(),
                       epoch_seconds(ds.content["created_time"]).tolist(), strict=True))
    born = np.array([created.get(g, year_ago - 400 * DAY_S) for g in ds.usage_guids], dtype=np.int64)
    access = np.array(per_usage_guid(ds, "access_type", "acl"), dtype=object)
    api_like = np.isin(modes, ["api", "python-api", "python-fastapi", "tensorflow-saved-model"])
    user_rank = rng.permutation(max(len(ds.users), 1))
    user_w = 1.0 / (user_rank + 1.0) ** 0.7
    return {
        "visit_weights": visit_w,
        "shiny_weights": shiny_w,
        "common": {"content_born": born, "anon_allowed": access == "all",
                   "user_weights": user_w[:len(ds.users)] if len(ds.users) else np.ones(1),
                   "n_paths": len(ds.paths), "api_like": api_like},
    }


def rendered(app_mode: str) -> bool:
    return app_mode in RENDERED_MODES
