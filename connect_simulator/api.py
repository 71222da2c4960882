"""What every route shares: errors in Connect's shape, version gating, the per-request
context, offset paging and timestamp formatting; plus `ServerState`, the API-shaped
indexes built once from a Dataset when a server starts."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from .data import Dataset, per_usage_guid

# Connect's documented error codes and messages (see the reference's API error table).
ERRORS = {
    4: (404, "The requested object does not exist."),
    22: (403, "You don't have permission to perform this operation."),
    24: (401, "The requested operation requires authentication."),
    25: (400, "The parameter is invalid."),
    30: (401, "We couldn't log you in with the provided credentials."),
    136: (400, "Time values must be in RFC3339 format."),
    161: (400, "The include option specified is not valid"),
}


class ApiError(Exception):
    """An error answered as JSON {code, error, payload}."""

    def __init__(self, code: int, status: int | None = None, message: str | None = None):
        default_status, default_message = ERRORS.get(code, (400, "The request is invalid."))
        self.code, self.status = code, status or default_status
        self.message = message or default_message
        super().__init__(self.message)


class RouteNotFound(Exception):
    """An unknown route: answered as text/plain "404 page not found", like Go's mux."""


@dataclass
class Streamed:
    """A body produced in pieces (sent with chunked transfer encoding)."""

    chunks: Any  # an iterator of bytes
    content_type: str = "application/json"


def parse_version(text: str) -> tuple[int, ...]:
    """"2024.09.0" -> (2024, 9, 0); a dev suffix ("2023.11.0-dev+103") is dropped."""
    return tuple(int(p) for p in re.findall(r"\d+", text.split("-")[0])[:3])


def ts(value) -> str | None:
    """RFC 3339 with second precision and Z, as real servers send most timestamps."""
    if value is None or isinstance(value, str):  # already formatted by `records`
        return value
    if pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def ts_array(seconds: np.ndarray) -> np.ndarray:
    """Vectorised `ts` for int64 seconds since the epoch."""
    return np.char.add(np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s"), "Z")


def clean(value):
    """NaN/NA/NaT from pandas -> None, numpy scalars -> Python."""
    if value is None or type(value) in (str, bool, int):
        return value
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if not isinstance(value, (str, bool, int, float, list, dict)) and pd.isna(value):
        return None
    return value


def records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values: timestamps as RFC 3339 strings, nulls as None.
    Column-wise conversion: iterating Arrow-backed frames row by row is far slower."""
    cols = {}
    for name in df.columns:
        col = df[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            col = col.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        values = col.to_numpy(dtype=object)
        cols[name] = [None if v is None or (type(v) is float and v != v) or v is pd.NA or v is pd.NaT
                      else v for v in values]
    return [dict(zip(cols, row, strict=True)) for row in zip(*cols.values(), strict=True)]


@dataclass(frozen=True)
class Quirks:
    """Ways real servers differ from the reference: bundles_page_size None slices bundle lists
    only when asked (page_number/page_size), 0 never pages them, N always pages them at most N
    per page (default min(20, N), as the OpenAPI reference documents); ignore_include answers
    the content list without owner and tags whatever `include` asks (the 2023.09 reference
    does not list it)."""

    bundles_page_size: int | None = None
    ignore_include: bool = False


@dataclass
class Request:
    path: str
    query: dict[str, str]
    user: dict | None  # the caller's user row (API shape); None when unauthenticated
    version: tuple[int, ...]
    base_url: str
    state: ServerState
    quirks: Quirks = Quirks()

    @property
    def role(self) -> str:
        return self.user["user_role"] if self.user else "anonymous"

    def require_role(self, *roles: str) -> None:
        if self.role not in roles:
            raise ApiError(22)

    def int_param(self, name: str, default: int, lo: int = 1, hi: int | None = None) -> int:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(25, message=f"The parameter {name} is invalid.") from None
        if value < lo or (hi is not None and value > hi):
            raise ApiError(25, message=f"The parameter {name} must be between {lo} and {hi}.")
        return value

    def bool_param(self, name: str, default: bool) -> bool:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        return raw.strip().lower() in ("true", "1", "yes")

    def url(self, path: str, params: dict[str, str]) -> str:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.base_url}/__api__{path}" + (f"?{query}" if query else "")


def offset_page(req: Request, items: list, default_size: int = 20, max_size: int | None = 500,
                total_pages: bool = False) -> dict:
    """{results, current_page, total} for page_number/page_size paging."""
    number = req.int_param("page_number", 1)
    size = req.int_param("page_size", default_size, hi=max_size)
    start = (number - 1) * size
    body = {"results": items[start:start + size], "current_page": number, "total": len(items)}
    if total_pages:
        body["total_pages"] = max(1, math.ceil(len(items) / size))
    return body


@dataclass
class ServerState:
    """API-shaped views of a Dataset, built once when the server starts."""

    ds: Dataset
    users: dict[str, dict] = field(default_factory=dict)  # guid -> API user
    user_order: list[str] = field(default_factory=list)
    content: list[dict] = field(default_factory=list)  # API content without role fields
    content_index: dict[str, int] = field(default_factory=dict)
    owned: dict[str, list[int]] = field(default_factory=dict)  # owner guid -> content rows
    tags: list[dict] = field(default_factory=list)
    content_tags: dict[str, list[dict]] = field(default_factory=dict)
    vanities: dict[str, dict] = field(default_factory=dict)
    bundles: dict[str, list[dict]] = field(default_factory=dict)
    packages: dict[str, list[dict]] = field(default_factory=dict)
    storage: list[dict] = field(default_factory=list)  # per content row: its bundles' count and bytes
    storage_totals: dict = field(default_factory=dict)  # the whole server's (GET /v1/system/storage)
    usage_index: dict[str, int] = field(default_factory=dict)
    # Lookup arrays indexed by a usage log's `content` / `user` / `path` columns.
    usage_guids: np.ndarray = None  # type: ignore[assignment]
    user_guids: np.ndarray = None  # type: ignore[assignment]  (last entry: None, anonymous)
    paths: np.ndarray = None  # type: ignore[assignment]
    variant_keys: list = field(default_factory=list)
    rendering_ids: list = field(default_factory=list)
    bundle_ids: list = field(default_factory=list)
    # serialised unfiltered content lists, by (user guid, role, includes); see content_list
    content_lists: dict[tuple, bytes] = field(default_factory=dict)

    @classmethod
    def build(cls, ds: Dataset) -> ServerState:
        st = cls(ds=ds)
        for row in records(ds.users):
            u = {k: clean(row.get(k)) for k in ("email", "username", "first_name", "last_name",
                                                 "user_role")}
            u.update({k: ts(row.get(k)) for k in ("created_time", "updated_time", "active_time")})
            u.update(confirmed=bool(row["confirmed"]), locked=bool(row["locked"]), guid=row["guid"])
            st.users[row["guid"]] = u
        st.user_order = sorted(st.users, key=lambda g: (st.users[g]["first_name"] or "",
                                                        st.users[g]["last_name"] or "",
                                                        st.users[g]["username"] or ""))
        for row in records(ds.tags):
            st.tags.append({"id": str(row["id"]), "name": clean(row["name"]),
                            "parent_id": clean(row["parent_id"]),
                            "created_time": ts(row["created_time"]), "updated_time": ts(row["updated_time"])})
        tag_by_id = {t["id"]: t for t in st.tags}
        for g, tid in zip(ds.content_tags["content_guid"].tolist(), ds.content_tags["tag_id"].tolist(), strict=True):
            if str(tid) in tag_by_id:
                st.content_tags.setdefault(g, []).append(tag_by_id[str(tid)])
        for v in records(ds.vanities[["content_guid", "path", "created_time"]]):
            st.vanities[v["content_guid"]] = v
        for i, row in enumerate(records(ds.content)):
            st.content.append(_content_base(row))
            st.content_index[row["guid"]] = i
            st.owned.setdefault(row["owner_guid"], []).append(i)
        for row in records(ds.bundles):
            st.bundles.setdefault(row["content_guid"], []).append(_bundle(row))
        st.storage = [_storage(st.bundles.get(c["guid"], [])) for c in st.content]
        st.storage_totals = {k: sum(s[k] for s in st.storage) for k in ("bytes_total", "bytes_active",
                                                                         "bytes_inactive", "count")}
        st.storage_totals["content_count"] = sum(1 for s in st.storage if s["count"])
        for p in records(ds.packages[["content_guid", "language", "name", "version", "hash"]]):
            st.packages.setdefault(p.pop("content_guid"), []).append(p)
        st.usage_guids = ds.usage_guids
        st.usage_index = {g: i for i, g in enumerate(st.usage_guids)}
        st.user_guids = np.array(ds.users["guid"].tolist() + [None], dtype=object)
        st.paths = np.array(ds.paths, dtype=object)
        st.variant_keys = per_usage_guid(ds, "variant_key")
        st.rendering_ids = per_usage_guid(ds, "rendering_id")
        st.bundle_ids = per_usage_guid(ds, "bundle_id")
        return st

    def visible_content(self, req: Request) -> list[int]:
        """Rows of the content the caller may see: all for administrators; their own
        plus content shared with all or all logged-in users for everyone else."""
        if req.role == "administrator":
            return list(range(len(self.content)))
        return [i for i in range(len(self.content)) if self.can_see(req, i)]

    def can_see(self, req: Request, i: int) -> bool:
        c = self.content[i]
        return (req.role == "administrator" or c["owner_guid"] == req.user["guid"]
                or c["access_type"] in ("all", "logged_in"))


def _storage(bundles: list[dict]) -> dict:
    active = sum(b["size"] for b in bundles if b["active"])
    total = sum(b["size"] for b in bundles)
    return {"count": len(bundles), "bytes_total": total, "bytes_active": active, "bytes_inactive": total - active}


_CONTENT_NULLS = ("connection_timeout", "read_timeout", "init_timeout", "idle_timeout",
                  "max_processes", "min_processes", "max_conns_per_process", "load_factor",
                  "memory_request", "memory_limit", "cpu_request", "cpu_limit", "amd_gpu_limit",
                  "nvidia_gpu_limit", "service_account_name", "default_image_name")
RUNTIME_FIELDS = ("cluster_name", "image_name", "r_version", "py_version", "quarto_version",
                  "r_environment_management", "default_r_environment_management",
                  "py_environment_management", "default_py_environment_management")


def _content_base(row: dict) -> dict:
    c = {k: clean(row.get(k)) for k in ("guid", "name", "title", "description", "access_type")}
    c["locked"] = bool(row.get("locked") or False)
    c["locked_message"] = clean(row.get("locked_message")) or ""
    c.update(dict.fromkeys(_CONTENT_NULLS))
    c["default_environment_guid"] = None
    c["created_time"] = ts(row["created_time"])
    c["last_deployed_time"] = ts(row["last_deployed_time"])
    for k in ("bundle_id", "app_mode", "content_category"):
        c[k] = clean(row.get(k))
    c["content_category"] = c["content_category"] or ""
    c["parameterized"] = bool(row.get("parameterized") or False)
    c["environment_guid"] = None
    for k in RUNTIME_FIELDS:
        c[k] = clean(row.get(k))
    c["run_as"] = clean(row.get("run_as"))
    c["run_as_current_user"] = bool(row.get("run_as_current_user") or False)
    c["owner_guid"] = row["owner_guid"]
    c["id"] = str(row["id"])
    return c


def _bundle(row: dict) -> dict:
    return {
        "id": str(row["id"]), "content_guid": row["content_guid"],
        "created_time": ts(row["created_time"]),
        "cluster_name": clean(row.get("cluster_name")), "image_name": clean(row.get("image_name")),
        "r_version": clean(row.get("r_version")),
        "r_environment_management": clean(row.get("r_environment_management")),
        "py_version": clean(row.get("py_version")),
        "py_environment_management": clean(row.get("py_environment_management")),
        "quarto_version": clean(row.get("quarto_version")),
        "active": bool(row["active"]), "size": int(row["size"]),
        "metadata": {"source": clean(row.get("source")), "source_repo": None, "source_branch": None,
                     "source_commit": None, "archive_md5": clean(row.get("archive_md5")),
                     "archive_sha1": None},
    }
