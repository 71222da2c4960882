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
Usage guids are `usage_guids`: every content guid, then `deleted_content_guids` (usage of
content since deleted).
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
    visits_per_day: float = 0.0
    sessions_per_day: float = 0.0
    paths: list[str] = field(default_factory=lambda: list(API_PATHS))

    # -- views -----------------------------------------------------------------------

    @property
    def usage_guids(self) -> np.ndarray:
        return np.array(self.content["guid"].tolist() + list(self.deleted_content_guids), dtype=object)

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
        pad = [None] * len(self.deleted_content_guids)
        return {k: np.array(self.content[k].tolist() + pad, dtype=object)
                for k in ("variant_key", "rendering_id", "bundle_id")}

    # -- edits -----------------------------------------------------------------------

    def set_title(self, guid: str, title: str | None) -> None:
        self.content.loc[self.content["guid"] == guid, "title"] = title

    def set_username(self, guid: str, username: str) -> None:
        self.users.loc[self.users["guid"] == guid, "username"] = username

    def set_tag_name(self, tag_id: str, name: str) -> None:
        self.tags.loc[self.tags["id"] == tag_id, "name"] = name

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


def usage_model(ds: Dataset) -> dict:
    """Per usage guid popularity and traits, derived from the dataset and its seed alone
    (so `advance` continues the same popularity)."""
    rng = np.random.default_rng([ds.seed, 99])
    n_content = len(ds.content)
    n = n_content + len(ds.deleted_content_guids)
    # Zipf-like popularity over a seeded ranking of all usage guids.
    rank = rng.permutation(n)
    popularity = 1.0 / (rank + 1.0) ** 1.05
    modes = np.array(ds.content["app_mode"].tolist() + ["deleted"] * (n - n_content), dtype=object)
    deployed = np.array(ds.content["bundle_id"].notna().tolist() + [True] * (n - n_content))
    shiny = np.isin(modes, list(SHINY_MODES))
    deleted_shiny = np.zeros(n, dtype=bool)
    deleted_shiny[n_content:] = np.arange(n - n_content) % 4 == 0  # some deleted were Shiny
    shiny |= deleted_shiny
    visit_w = np.where(deployed & ~shiny, popularity, 0.0)
    shiny_w = np.where(deployed & shiny, popularity, 0.0)
    year_ago = int(ds.now.timestamp()) - 365 * DAY_S
    created = ds.content["created_time"].map(lambda t: int(t.timestamp())).to_numpy(dtype=np.int64)
    born = np.concatenate([created, np.full(n - n_content, year_ago - 400 * DAY_S)])
    access = np.array(ds.content["access_type"].tolist() + ["acl"] * (n - n_content), dtype=object)
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
