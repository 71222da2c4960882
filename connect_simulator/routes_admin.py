"""Server settings, users and groups, runtimes, runtime caches and environments."""

from __future__ import annotations

from .api import ApiError, Request, offset_page, ts

V_NUMERIC_LICENSE = (2024, 1, 0)  # older servers send many licence values as strings


def server_settings(req: Request, version_text: str):
    numeric = req.version >= V_NUMERIC_LICENSE
    now_ms = int(req.state.ds.now.timestamp() * 1000)
    expiry_ms = now_ms + 200 * 86_400_000

    def n(value):
        return value if numeric else str(value)

    def b(value):
        return value if numeric else ("1" if value else "0")

    license_block = {
        "ts": now_ms, "status": "activated", "expiration": expiry_ms, "days-left": 200,
        "has-key": True, "has-trial": False, "tier": "enterprise", "sku-year": "2023", "edition": "",
        "cores": n(0), "connections": n(0), "type": "local", "users": n(250),
        "user-activity-days": n(365), "users-grace": "true", "shiny-users": n(0),
        "allow-apis": b(True), "custom-branding": b(True), "current-user-execution": b(True),
        "anonymous-servers": b(True), "unrestricted-servers": b(True), "anonymous-branding": b(False),
        "oauth-integrations": b(True), "enable-launcher": b(False),
    }
    return {
        "hostname": "connect-sim", "version": version_text, "about": f"Posit Connect v{version_text}",
        "authentication": {
            "handles_credentials": True, "handles_login": True, "challenge_response_enabled": False,
            "external_user_data": False, "external_user_search": False, "external_user_id": False,
            "groups_enabled": True, "external_group_search": False, "external_group_members": False,
            "external_group_id": False, "external_group_owner": False, "unique_usernames": True,
            "name_editable_by": "adminandself", "email_editable_by": "adminandself",
            "username_editable_by": "adminandself", "role_editable_by": "admin", "name": "password",
            "notice": "", "warning_delay": 10, "API_key_auth": True},
        "license": license_block,
        "license_expiration_ui_warning": True, "end_of_support_ui_warning": True,
        "deprecated_settings": False, "deprecated_settings_ui_warning": True,
        "viewers_can_request_privileges": True, "mail_all": False, "mail_configured": True,
        "public_warning": "", "logged_in_warning": "", "logout_url": "__logout__",
        "metrics_rrd_enabled": True, "metrics_instrumentation": True, "customized_landing": False,
        "self_registration": False, "prohibited_usernames": ["connect", "apps", "users", "groups"],
        "username_validator": "default", "viewers_can_only_see_themselves": False, "http_warning": False,
        "runtimes": ["R", "Python", "Quarto", "TensorFlow"], "default_content_list_view": "compact",
        "maximum_app_image_size": 10000000, "server_settings_toggler": True, "git_enabled": True,
        "git_available": True, "dashboard_path": "/connect", "system_display_name": "Posit Connect",
        "hide_viewer_documentation": False, "jump_start_enabled": True, "permission_request": True,
        "tableau_integration_enabled": True, "self_test_enabled": True, "execution_type": "native",
        "enable_runtime_cache_management": True, "default_image_selection_enabled": True,
        "default_environment_management_selection": True, "default_r_environment_management": True,
        "default_py_environment_management": True, "new_parameterization_enabled": False,
        "use_window_location": False, "locked_content_enabled": req.version >= (2024, 8, 0),
        "oauth_integrations_enabled": req.version >= (2024, 8, 0), "labs_enabled": False,
        "whats_new_enabled": True,
    }


def ping(req: Request):
    return {}


# -- users and groups -------------------------------------------------------------------

def current_user(req: Request):
    return dict(req.user)


def users(req: Request):
    st = req.state
    order = list(st.user_order)
    if not req.bool_param("asc_order", True):
        order.reverse()
    found = [st.users[g] for g in order]
    prefix = req.query.get("prefix", "").lower()
    if prefix:
        found = [u for u in found if any((u[k] or "").lower().startswith(prefix)
                                         for k in ("username", "first_name", "last_name", "email"))]
    if req.query.get("user_role"):
        roles = set(req.query["user_role"].split("|"))
        found = [u for u in found if u["user_role"] in roles]
    if req.query.get("account_status"):
        req.require_role("administrator")
        statuses = set(req.query["account_status"].split("|"))
        found = [u for u in found if _status(u) in statuses]
    if prefix and req.int_param("page_number", 1) > 1:
        found = []  # prefix searches return only the first page
    return offset_page(req, found)


def _status(user: dict) -> str:
    if user["locked"]:
        return "locked"
    return "licensed" if user["active_time"] else "inactive"


def user(req: Request, guid: str):
    if guid not in req.state.users:
        raise ApiError(4)
    return dict(req.state.users[guid])


def _groups(req: Request) -> list[dict]:
    groups = [{"guid": g, "name": name, "owner_guid": owner if isinstance(owner, str) else None}
              for g, name, owner in req.state.ds.groups[["guid", "name", "owner_guid"]].itertuples(index=False)]
    return sorted(groups, key=lambda g: g["name"], reverse=not req.bool_param("asc_order", True))


def groups(req: Request):
    found = _groups(req)
    prefix = req.query.get("prefix", "").lower()
    if prefix:
        found = [g for g in found if g["name"].lower().startswith(prefix)]
    return offset_page(req, found)


def group(req: Request, guid: str):
    for g in _groups(req):
        if g["guid"] == guid:
            return g
    raise ApiError(4)


def group_members(req: Request, guid: str):
    group(req, guid)
    members = req.state.ds.group_members
    guids = members.loc[members["group_guid"] == guid, "user_guid"]
    return offset_page(req, [req.state.users[g] for g in guids if g in req.state.users], default_size=10)


# -- runtimes, caches, environments -----------------------------------------------------

def installations(req: Request, language: str):
    req.require_role("administrator", "publisher")
    rt = req.state.ds.server_runtimes
    rows = rt[rt["language"] == language]
    body = {"installations": [{"version": v, "cluster_name": c, "image_name": i}
                              for v, c, i in rows[["version", "cluster_name", "image_name"]].itertuples(index=False)]}
    if language == "python":
        body["api_enabled"] = True
    return body


def runtime_caches(req: Request):
    req.require_role("administrator")
    caches = req.state.ds.runtime_caches
    return {"caches": [{"language": lang, "version": v, "image_name": i}
                       for lang, v, i in caches[["language", "version", "image_name"]].itertuples(index=False)]}


def _environment(req: Request, row: dict) -> dict:
    rt = req.state.ds.environment_runtimes
    mine = rt[rt["environment_guid"] == row["guid"]]
    env = {"id": str(row["id"]), "guid": row["guid"], "created_time": ts(row["created_time"]),
           "updated_time": ts(row["updated_time"]), "title": row["title"],
           "description": row["description"], "cluster_name": row["cluster_name"], "name": row["name"],
           "environment_type": row["environment_type"], "matching": row["matching"],
           "supervisor": row["supervisor"] if isinstance(row["supervisor"], str) else None}
    if req.version >= (2026, 1, 0):  # fields of the newest API only
        env["managed_by"] = None
        env["volume_mounts"] = []
    for lang in ("python", "quarto", "r", "tensorflow"):
        rows = mine[mine["language"] == lang]
        env[lang] = {"installations": [{"version": v, "path": p} for v, p in
                                       rows[["version", "path"]].itertuples(index=False)]}
    return env


def environments(req: Request):
    req.require_role("administrator", "publisher")
    return [_environment(req, r) for r in req.state.ds.environments.to_dict("records")]


def environment(req: Request, guid: str):
    req.require_role("administrator", "publisher")
    for r in req.state.ds.environments.to_dict("records"):
        if r["guid"] == guid:
            return _environment(req, r)
    raise ApiError(4)
