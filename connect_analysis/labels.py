"""Words the report shows for the analysis' column names, in one place.

LABELS: the column header for each analysis column (a column not listed shows its name with
underscores as spaces). EMPTY: what an empty cell of that column means, said in words.
The other sets say how a column's values are shown: as links, shortened GUIDs, percentages
or versions (sorted as versions). KEY_COLUMNS: the columns a printed table keeps when it
drops the others (they are all in the CSVs).
"""

from __future__ import annotations

LABELS = {
    "position": "#", "usage_rank": "usage rank", "guid": "GUID", "content_guid": "content GUID",
    "owner_guid": "owner GUID", "user_guid": "user GUID", "title": "title",
    "content_title": "title", "owner": "owner", "app_mode": "type", "content_url": "content URL",
    "dashboard_url": "dashboard URL", "vanity_url": "vanity URL", "runtimes": "runtimes",
    "r_version": "R", "py_version": "Python", "quarto_version": "Quarto", "r": "R",
    "python": "Python", "quarto": "Quarto", "visits": "visits",
    "shiny_sessions": "Shiny sessions", "events": "events", "unique_viewers": "unique viewers",
    "shiny_session_hours": "Shiny hours", "last_visit": "last visit",
    "last_deployed": "last deployed", "image": "image", "reason": "why it is important",
    "language": "language", "version": "version", "content_count": "content items",
    "usage_share": "share of usage", "installed": "installed", "served_by": "served by",
    "missing_on_server": "missing on the server", "matching": "matching",
    "in_minimal_set": "in the smallest set", "minimal_set_order": "pick order",
    "adds_content": "adds items", "adds_events": "adds events", "note": "note",
    "status": "status", "image_count": "images that run it", "images": "images",
    "assigned_image": "assigned image", "bundle_count": "bundles", "bytes_total": "bundle bytes",
    "bytes_active": "active bundle", "bytes_inactive": "older bundles",
    "share_of_total": "share of storage", "run_as": "runs as",
    "run_as_current_user": "runs as the viewer", "month": "month",
    "bundles_added": "bundles added", "bytes_added": "bytes added",
    "bytes_cumulative": "bundle bytes (cumulative)", "projected_bytes": "projected",
    "recommended_bytes": "recommended", "monthly_growth_bytes": "growth per month",
    "months_of_history": "months of history", "deployed_count": "deployed",
    "never_deployed_count": "never deployed", "os": "image OS", "os_package": "OS package",
    "important_content_count": "important items", "packages": "packages", "rules": "rules",
    "package": "package", "package_version": "package version", "rule": "rule",
    "requirement": "requirement", "pre_install": "before install", "post_install": "after install",
    "package_count": "packages", "os_packages": "OS packages", "name": "name",
    "version_count": "versions", "versions": "versions",
    "system_requirements": "system requirements", "catalogue_status": "catalogue",
    "target": "target", "ok": "passed", "detail": "detail", "fix": "fix",
    "verdict": "verdict", "reasons": "reasons", "wave": "wave", "important": "important",
    "remediation": "what to do", "wave_kind": "wave kind", "rebuild_order": "rebuild order",
    "rebuild_minutes": "rebuild minutes", "rebuild_source": "rebuild time from",
    "runtime": "runtime",
}

EMPTY = {
    "image": "not covered", "assigned_image": "not covered", "served_by": "not on the server",
    "vanity_url": "none", "dashboard_url": "none", "content_url": "unknown",
    "r_version": "not used", "py_version": "not used", "quarto_version": "not used",
    "r": "none", "python": "none", "quarto": "none", "runtimes": "none recorded",
    "usage_rank": "not ranked (must-keep)", "last_visit": "no visit in the window",
    "last_deployed": "never deployed", "title": "untitled", "content_title": "untitled",
    "owner": "unknown", "app_mode": "deleted content", "run_as": "server default",
    "minimal_set_order": "not picked", "note": "none", "images": "none",
    "missing_on_server": "unknown", "installed": "unknown", "fix": "none needed",
    "pre_install": "none needed", "post_install": "none needed", "os_package": "none",
    "rule": "no rule", "requirement": "none declared", "system_requirements": "none declared",
    "reasons": "none", "remediation": "nothing to do", "wave": "in no wave",
}
EMPTY_DEFAULT = "unknown"

URL_COLUMNS = {"content_url", "dashboard_url", "vanity_url"}
GUID_COLUMNS = {"guid", "content_guid", "owner_guid", "user_guid"}
SHARE_COLUMNS = {"usage_share", "share_of_total"}  # fractions 0..1, shown as percentages
VERSION_COLUMNS = {"version", "r_version", "py_version", "quarto_version", "r", "python",
                   "quarto", "package_version", "served_by"}
KEY_COLUMNS = {"position", "title", "content_title", "language", "version", "image", "status",
               "content_count", "events", "bytes_total", "month", "os", "os_package", "package",
               "name", "app_mode", "run_as", "verdict", "ok", "target", "detail", "wave",
               "projected_bytes", "r_version", "py_version", "quarto_version", "reason", "r",
               "python", "quarto"}


def label(column: str) -> str:
    """The header the report shows for an analysis column."""
    return LABELS.get(column, column.replace("_", " "))


def empty_text(column: str) -> str:
    """What an empty cell of column means, in words."""
    return EMPTY.get(column, EMPTY_DEFAULT)
