"""Instrumentation routes: visits and Shiny usage (cursor paging) and hits (unpaged)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .api import ApiError, Request, Streamed, ts_array
from .catalogue import USER_AGENTS
from .usage import ANONYMOUS, OPEN, UsageLog

CURSOR_BASE = 23_948_900_000  # cursors look like real ones: opaque numeric strings
V_HITS_FILTER = (2026, 1, 0)  # hits accept content_guid from here on
_KEEP = ("content_guid", "from", "to", "limit", "asc_order", "min_data_version")


def _time_param(req: Request, name: str) -> int | None:
    raw = req.query.get(name)
    if not raw:
        return None
    try:
        t = pd.Timestamp(raw)
    except ValueError:
        raise ApiError(136) from None
    if t.tzinfo is None:
        raise ApiError(136)
    return int(t.timestamp())


def _contents(req: Request) -> list[int] | None:
    """Usage indices the query is limited to (None: no limit). Publishers see the usage
    of their own content only; viewers none at all."""
    if req.role not in ("administrator", "publisher"):
        raise ApiError(22)
    st = req.state
    wanted = None
    raw = req.query.get("content_guid")
    if raw:
        wanted = [st.usage_index[g] for g in raw.split("|") if g in st.usage_index]
    if req.role == "publisher":
        own = [st.usage_index[st.content[i]["guid"]] for i in st.owned.get(req.user["guid"], [])
               if st.content[i]["guid"] in st.usage_index]
        wanted = own if wanted is None else [w for w in wanted if w in set(own)]
    return None if wanted is None else sorted(set(wanted))


def _records(req: Request, log: UsageLog, pos: np.ndarray, shiny: bool) -> list[dict]:
    st = req.state
    guids = st.usage_guids[log.content[pos]]
    users = st.user_guids[np.where(log.user[pos] == ANONYMOUS, len(st.user_guids) - 1, log.user[pos])]
    times = ts_array(log.time[pos])
    if shiny:
        ends = log.end[pos]
        ended = np.where(ends == OPEN, None, ts_array(np.where(ends == OPEN, 0, ends)).astype(object))
        return [{"content_guid": g, "user_guid": u, "started": s, "ended": e, "data_version": 1}
                for g, u, s, e in zip(guids, users, times, ended, strict=True)]
    ci = log.content[pos]
    paths = st.paths[log.path[pos]]
    return [{"content_guid": g, "user_guid": u, "variant_key": st.variant_keys[c],
             "rendering_id": st.rendering_ids[c], "bundle_id": st.bundle_ids[c], "time": t,
             "data_version": 3, "path": p}
            for g, u, c, t, p in zip(guids, users, ci, times, paths, strict=True)]


def _page(req: Request, path: str, log: UsageLog, shiny: bool) -> dict:
    contents = _contents(req)
    t_from, t_to = _time_param(req, "from"), _time_param(req, "to")
    limit = min(req.int_param("limit", 20, 1), 500)  # "best effort": larger asks get 500
    asc = req.bool_param("asc_order", True)
    min_version = req.int_param("min_data_version", 0, lo=0)
    if min_version > (1 if shiny else 3):
        log = log.__class__(time=log.time[:0], content=log.content[:0], user=log.user[:0],
                            path=log.path[:0], end=None if log.end is None else log.end[:0],
                            n_guids=log.n_guids)
    n = len(log)
    start = -1 if asc else n  # "before the first record" in display order
    nxt, prv = req.query.get("next"), req.query.get("previous")
    backwards = False
    try:
        if nxt:
            after, forward = int(nxt) - CURSOR_BASE, asc
        elif prv:
            after, forward, backwards = int(prv) - CURSOR_BASE, not asc, True
        elif req.bool_param("last", False):
            after, forward, backwards = (n if asc else -1), not asc, True
        else:
            after, forward = start, asc
    except ValueError:
        raise ApiError(25, message="The cursor is invalid.") from None
    query = {"contents": contents, "t_from": t_from, "t_to": t_to}
    pos, more = log.page(after=after, forward=forward, limit=limit, **query)
    if backwards:
        pos = pos[::-1]
        more = bool(len(pos)) and len(log.page(after=int(pos[-1]), forward=asc, limit=1, **query)[0]) > 0
    keep = {k: req.query[k] for k in _KEEP if k in req.query}
    cursors: dict = {"previous": str(int(pos[0]) + CURSOR_BASE) if len(pos) else (nxt or prv)}
    paging: dict = {"cursors": cursors, "first": req.url(path, keep)}
    if cursors["previous"]:
        paging["previous"] = req.url(path, {**keep, "previous": cursors["previous"]})
    else:
        paging["previous"] = None
    if more:  # on the last page these keys are absent, as real servers send them
        cursors["next"] = str(int(pos[-1]) + CURSOR_BASE)
        paging["next"] = req.url(path, {**keep, "next": cursors["next"]})
        paging["last"] = req.url(path, {**keep, "last": "true"})
    return {"paging": paging, "results": _records(req, log, pos, shiny)}


def visits(req: Request):
    return _page(req, "/v1/instrumentation/content/visits", req.state.ds.visit_log, shiny=False)


def shiny_usage(req: Request):
    return _page(req, "/v1/instrumentation/shiny/usage", req.state.ds.shiny_log, shiny=True)


def hits(req: Request):
    """All visits and Shiny session starts in [from, to], oldest first, as one array."""
    contents = _contents(req)
    if req.version < V_HITS_FILTER and req.query.get("content_guid") and req.role == "administrator":
        contents = None  # older servers ignore the filter
    t_from, t_to = _time_param(req, "from"), _time_param(req, "to")
    st = req.state
    parts = []
    for kind, log in ((1, st.ds.visit_log), (2, st.ds.shiny_log)):
        pos = log.window(t_from, t_to)
        if contents is not None:
            pos = pos[np.isin(log.content[pos], contents)]
        parts.append((kind, log, pos))
    (_, vlog, vpos), (_, slog, spos) = parts
    # Both kinds side by side, then in time order; ids are odd for visits, even for sessions.
    cols = {
        "time": np.concatenate([vlog.time[vpos], slog.time[spos]]),
        "content": np.concatenate([vlog.content[vpos], slog.content[spos]]),
        "user": np.concatenate([vlog.user[vpos], slog.user[spos]]),
        "path": np.concatenate([st.paths[vlog.path[vpos]], np.full(len(spos), "/", dtype=object)]),
        "id": np.concatenate([2 * vpos + 1, 2 * spos + 2]),
    }
    order = np.argsort(cols["time"], kind="stable")
    return Streamed(_hits_chunks(req, {k: v[order] for k, v in cols.items()}))


def _hits_chunks(req: Request, cols: dict, chunk: int = 20_000):
    st = req.state
    yield b"["
    for k in range(0, len(cols["id"]), chunk):
        part = {name: v[k:k + chunk] for name, v in cols.items()}
        users = st.user_guids[np.where(part["user"] == ANONYMOUS, len(st.user_guids) - 1, part["user"])]
        stamps = np.char.replace(ts_array(part["time"]), "Z", ".000000Z")
        items = [{"id": int(i), "user_guid": u, "content_guid": g, "timestamp": str(t),
                  "data": {"path": p, "user_agent": USER_AGENTS[int(i) % len(USER_AGENTS)]}}
                 for i, u, g, t, p in zip(part["id"], users, st.usage_guids[part["content"]], stamps,
                                          part["path"], strict=True)]
        yield (b"," if k else b"") + json.dumps(items, ensure_ascii=False)[1:-1].encode()
    yield b"]"
