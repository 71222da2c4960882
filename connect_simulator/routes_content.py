"""Content, bundles, tags, vanities, search, packages and storage routes."""

from __future__ import annotations

import json

from .api import RUNTIME_FIELDS, ApiError, Request, offset_page

V_LOCKED = (2024, 8, 0)  # `locked` fields appear
V_VANITY_INCLUDE = (2024, 6, 0)
V_ENV_GUID = (2025, 9, 0)  # environment_guid, default_environment_guid, public_content_status


def _includes(req: Request) -> set[str]:
    if req.quirks.ignore_include:
        return set()
    raw = req.query.get("include", "")
    wanted = {p.strip() for p in raw.split(",") if p.strip()}
    allowed = {"tags", "owner"}
    if req.version >= V_VANITY_INCLUDE:
        allowed |= {"vanity_url"}
    if wanted - allowed:
        raise ApiError(161)
    return wanted


def render_content(req: Request, i: int, includes: set[str]) -> dict:
    st = req.state
    c = dict(st.content[i])
    me = req.user["guid"]
    own = c["owner_guid"] == me
    shared = c["access_type"] in ("all", "logged_in")
    c["app_role"] = "owner" if own else "viewer" if shared else "none"
    if req.role == "viewer" or (req.role == "publisher" and not own):
        c.update(dict.fromkeys(RUNTIME_FIELDS))  # runtime fields are hidden from viewers
    if req.version < V_LOCKED:
        del c["locked"], c["locked_message"]
    if req.version < V_ENV_GUID:
        del c["environment_guid"], c["default_environment_guid"]
    else:
        c["public_content_status"] = "unrestricted" if c["access_type"] == "all" else "none"
    c["content_url"] = f"{req.base_url}/content/{c['guid']}/"
    c["dashboard_url"] = f"{req.base_url}/connect/#/apps/{c['guid']}"
    if "owner" in includes:
        o = st.users.get(c["owner_guid"])
        c["owner"] = None if o is None else {k: o[k] for k in ("guid", "username", "first_name", "last_name")}
    if "tags" in includes:
        c["tags"] = list(st.content_tags.get(c["guid"], []))
    if "vanity_url" in includes and c["guid"] in st.vanities:
        c["vanity_url"] = req.base_url + st.vanities[c["guid"]]["path"]
    return c


def _find(req: Request, guid: str) -> int:
    i = req.state.content_index.get(guid)
    if i is None or not req.state.can_see(req, i):
        raise ApiError(4)
    return i


def content_list(req: Request):
    includes = _includes(req)
    name, owner = req.query.get("name"), req.query.get("owner_guid")
    if not name and not owner:
        # The whole list (20,500 items on `large`) takes seconds to build and serialise; the
        # content never changes while a server runs, so keep the JSON per caller and include.
        key = (req.user["guid"], req.role, frozenset(includes))
        cached = req.state.content_lists.get(key)
        if cached is None:
            cached = json.dumps(_content_list(req, includes, None, None), ensure_ascii=False).encode()
            if len(req.state.content_lists) >= 4:  # bounded: ~35 MB each on `large`
                req.state.content_lists.clear()
            req.state.content_lists[key] = cached
        return 200, cached
    return _content_list(req, includes, name, owner)


def _content_list(req: Request, includes: set[str], name: str | None, owner: str | None) -> list[dict]:
    rows = req.state.visible_content(req)
    out = []
    for i in rows:
        c = req.state.content[i]
        if (name and c["name"] != name) or (owner and c["owner_guid"] != owner):
            continue
        out.append(render_content(req, i, includes))
    return out


def content_item(req: Request, guid: str):
    return render_content(req, _find(req, guid), _includes(req))


def content_bundles(req: Request, guid: str):
    i = _find(req, guid)
    bundles = sorted(req.state.bundles.get(guid, []), key=lambda b: int(b["id"]), reverse=True)
    if req.role == "viewer" or (req.role == "publisher" and req.state.content[i]["owner_guid"] != req.user["guid"]):
        bundles = [{**b, **dict.fromkeys(("cluster_name", "image_name", "r_version", "py_version",
                                          "quarto_version", "r_environment_management",
                                          "py_environment_management"))} for b in bundles]
    cap = req.quirks.bundles_page_size
    if cap is None and ("page_number" in req.query or "page_size" in req.query):  # slices when asked
        number, size = req.int_param("page_number", 1), req.int_param("page_size", 20)
        bundles = bundles[(number - 1) * size: number * size]
    elif cap:  # always pages, however large a page is asked for
        number, size = req.int_param("page_number", 1), min(cap, req.int_param("page_size", min(20, cap)))
        bundles = bundles[(number - 1) * size: number * size]
    return bundles


def content_bundle(req: Request, guid: str, bundle_id: str):
    whole = Request(req.path, {}, req.user, req.version, req.base_url, req.state)  # not paged
    for b in content_bundles(whole, guid):
        if b["id"] == bundle_id:
            return b
    raise ApiError(4)


def content_tags(req: Request, guid: str):
    _find(req, guid)
    return list(req.state.content_tags.get(guid, []))


def content_vanity(req: Request, guid: str):
    _find(req, guid)
    if guid not in req.state.vanities:
        raise ApiError(4)
    return req.state.vanities[guid]


def vanities(req: Request):
    req.require_role("administrator")
    return list(req.state.vanities.values())


def tags(req: Request):
    name, parent = req.query.get("name"), req.query.get("parent_id")
    return [t for t in req.state.tags
            if (not name or t["name"] == name) and (not parent or t["parent_id"] == parent)]


def tag(req: Request, tag_id: str):
    for t in req.state.tags:
        if t["id"] == tag_id:
            return t
    raise ApiError(4)


def tag_content(req: Request, tag_id: str):
    tag(req, tag_id)
    return [render_content(req, i, set()) for i in req.state.visible_content(req)
            if any(t["id"] == tag_id for t in req.state.content_tags.get(req.state.content[i]["guid"], []))]


# -- search: a documented subset of the query language ----------------------------------
# Supported terms: owner:<username|@me>, type:<mode,...>, tag:<name>, r:<version prefix>,
# python:<version prefix>, is:/not: r|python|published, and free words matched against
# name, title and description. A leading "-" negates a term.

def _term_matches(req: Request, c: dict, term: str) -> bool:
    key, _, value = term.partition(":") if ":" in term else ("", "", term)
    if key == "owner":
        owner = req.state.users.get(c["owner_guid"], {})
        return value == "@me" and c["owner_guid"] == req.user["guid"] or owner.get("username") == value
    if key == "type":
        return c["app_mode"] in value.split(",")
    if key == "tag":
        return any(t["name"] == value for t in req.state.content_tags.get(c["guid"], []))
    if key in ("r", "python"):
        v = c["r_version" if key == "r" else "py_version"]
        return v is not None and (v == value or v.startswith(value + "."))
    if key in ("is", "not"):
        flag = {"r": c["r_version"] is not None, "python": c["py_version"] is not None,
                "published": c["bundle_id"] is not None}.get(value, False)
        return flag if key == "is" else not flag
    words = " ".join(str(c[k] or "") for k in ("name", "title", "description")).lower()
    return value.lower() in words


def search_content(req: Request):
    includes = _includes(req)
    terms = req.query.get("q", "").split()
    hits = []
    for i in req.state.visible_content(req):
        c = req.state.content[i]
        if all(_term_matches(req, c, t[1:]) is False if t.startswith("-") else _term_matches(req, c, t)
               for t in terms):
            hits.append(i)
    sort = req.query.get("sort", "last_deployed")
    key = {"name": "name", "title": "title", "created": "created_time"}.get(sort, "last_deployed_time")
    hits.sort(key=lambda i: req.state.content[i][key] or "", reverse=req.query.get("order", "desc") != "asc")
    page = offset_page(req, hits)
    page["results"] = [render_content(req, i, includes) for i in page["results"]]
    return {"total": page["total"], "current_page": page["current_page"], "results": page["results"]}


# -- packages (2024.11+) ----------------------------------------------------------------

def content_packages(req: Request, guid: str):
    i = _find(req, guid)
    if req.state.content[i]["bundle_id"] is None:
        return 204, None  # nothing deployed, nothing restored
    return [dict(p) for p in req.state.packages.get(guid, [])]


def packages(req: Request):
    st = req.state
    name = req.query.get("name")
    out = []
    for i in st.visible_content(req):
        c = st.content[i]
        for p in st.packages.get(c["guid"], []):
            if name and p["name"] != name:
                continue
            out.append({"language": p["language"],
                        "language_version": c["r_version"] if p["language"] == "r" else c["py_version"],
                        "name": p["name"], "version": p["version"], "hash": p["hash"],
                        "bundle_id": c["bundle_id"], "content_id": c["id"], "content_guid": c["guid"],
                        "app_id": c["id"], "app_guid": c["guid"]})
    if not req.bool_param("asc_order", True):
        out.reverse()
    return offset_page(req, out, max_size=None)  # clients ask for 100000+ per page


# -- storage (2026.06+) -----------------------------------------------------------------

def system_storage(req: Request):
    req.require_role("administrator")
    return {"bundles": dict(req.state.storage_totals)}


def content_storage(req: Request):
    req.require_role("administrator")
    st = req.state
    rows = []
    for i, c in enumerate(st.content):
        owner = st.users.get(c["owner_guid"])
        rows.append({"content_guid": c["guid"], "content_name": c["name"], "content_title": c["title"],
                     "owner_guid": c["owner_guid"], "owner_username": owner["username"] if owner else None,
                     "app_mode": c["app_mode"], "bundles": dict(st.storage[i])})
    sort = req.query.get("sort", "total")
    key = {"active": "bytes_active", "inactive": "bytes_inactive", "count": "count"}.get(sort, "bytes_total")
    rows.sort(key=lambda r: r["bundles"][key], reverse=req.query.get("order", "desc") != "asc")
    return offset_page(req, rows, total_pages=True)


def content_item_storage(req: Request, guid: str):
    req.require_role("administrator")
    i = _find(req, guid)
    c, s = req.state.content[i], req.state.storage[i]
    owner = req.state.users.get(c["owner_guid"])
    bundles = sorted(req.state.bundles.get(guid, []), key=lambda b: int(b["id"]), reverse=True)
    return {"content_guid": guid, "content_name": c["name"], "owner_guid": c["owner_guid"],
            "owner_username": owner["username"] if owner else None, "bundle_count": s["count"],
            "bundle_bytes_total": s["bytes_total"], "bundle_bytes_active": s["bytes_active"],
            "bundle_bytes_inactive": s["bytes_inactive"],
            "bundles": [{"id": b["id"], "created_time": b["created_time"], "size_bytes": b["size"],
                         "is_active": b["active"]} for b in bundles]}
