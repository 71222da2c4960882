"""What the notebooks show, built from the analysis: labelled facts and tables in the
report's one format (connect_analysis.tables), never a raw dict. Notebook cells stay one line.
"""

from __future__ import annotations

import html

import pandas as pd

from ..analysis.jobs import sampled
from ..tables import Table, day, hours, human_bytes, key_values, limit, number, table


def _versions(rt: dict) -> str:
    in_use = rt.get("in_use") or {}
    text = ", ".join(f"{v} ({number(n)})" for v, n in in_use.items()) or "none"
    missing = rt.get("missing_on_server") or []
    if missing:
        text += f" | missing on the server: {', '.join(map(str, missing))}"
    return text


def answers(summary: dict) -> Table:
    """The answers the overview opens with, one labelled line each (escaped)."""
    rows: list[tuple[str, object]] = []
    server = summary.get("server") or {}
    rows.append(("Server", f"{server.get('url') or 'unknown'} (Connect {server.get('version') or 'version unknown'})"))
    content = summary.get("content") or {}
    rows.append(("Content items", f"{number(content.get('total', 0))} ({number(content.get('deployed', 0))} "
                                  f"deployed, {number(content.get('never_deployed', 0))} never deployed)"))
    for language, name in (("r", "R"), ("python", "Python"), ("quarto", "Quarto")):
        rows.append((f"{name} versions in use (content items)",
                     _versions((summary.get("runtimes") or {}).get(language) or {})))
    images = summary.get("images") or {}
    if images:
        rows.append(("Images covering the content (smallest set, in order)",
                     ", ".join(map(str, images.get("minimal_set") or [])) or "none needed"))
        rows.append(("Content no image covers", number(images.get("content_not_covered", 0))))
    important = summary.get("important_content") or []
    rows.append(("Important content", f"{number(len(important))} items (listed in Important content)"))
    storage = summary.get("storage") or {}
    if storage:
        rows.append(("Shared storage: recommended capacity",
                     f"{human_bytes(storage.get('recommended_bytes') or 0)} (current use "
                     f"{human_bytes(storage.get('current_use_bytes') or 0)}; max(100 GB, 2 x current use))"))
        rows.append(("Bundles", f"{number(storage.get('bundle_count', 0))} bundles, "
                                f"{human_bytes(storage.get('bundle_bytes_total') or 0)}"))
    downtime = summary.get("downtime") or {}
    if downtime.get("answer"):  # from the readiness waves: blocked items are not rebuilt
        rows.append(("Migration time (estimate)", downtime["answer"][:1].upper() + downtime["answer"][1:]))
    elif downtime.get("estimated_minutes") is not None:
        rows.append(("Migration time (estimate)", f"{hours(downtime['estimated_minutes'])} for "
                     f"{number(downtime.get('content_to_rebuild', 0))} items to rebuild (assumptions in Storage and downtime)"))
    run_as = summary.get("run_as") or {}
    custom = run_as.get("custom") or {}
    rows.append(("Run-as (custom Unix users)",
                 ", ".join(f"{u} ({number(n)})" for u, n in custom.items()) or "none"))
    rows.append(("Run as the viewing user", number(run_as.get("current_user", 0))))
    rows.append(("Licence", _licence_line(summary.get("license"))))
    unavailable = summary.get("unavailable") or {}
    if unavailable:
        rows.append(("Not available from this server",
                     "; ".join(f"{k}: {v}" for k, v in unavailable.items())))
    return key_values(rows, caption="The answers")


def _licence_line(lic) -> str:
    if not lic:
        return "not available"
    parts = [f"status: {lic.get('status') or 'unknown'}"]
    if lic.get("tier"):
        parts.append(f"tier: {lic['tier']}")
    if lic.get("expiration"):
        parts.append(f"expires {day(lic['expiration'])} ({number(lic.get('days_left') or 0)} days left)")
    parts.append(f"user limit: {limit(lic.get('user_limit'))}")
    if lic.get("licensed_users") is not None:
        parts.append(f"licensed users: {number(lic['licensed_users'])}")
    return "; ".join(parts)


def facts(pairs: dict | None, *, caption: str | None = None) -> Table:
    """Labelled values (already in words: strings or numbers), escaped. Nested dicts and
    lists are not shown raw: use the specific functions below."""
    rows = [(str(k), v if not isinstance(v, list | tuple) else (", ".join(map(str, v)) or "none"))
            for k, v in (pairs or {}).items()]
    return key_values(rows or [("", "not available")], caption=caption)


def usage_facts(summary: dict) -> Table:
    u, w = summary.get("usage") or {}, summary.get("window") or {}
    return facts({"Usage window": f"{day(w.get('start'))} to {day(w.get('end'))}",
                  "Visits": number(u.get("visits", 0)),
                  "Shiny sessions": number(u.get("shiny_sessions", 0)),
                  "Unique viewers": number(u.get("unique_viewers", 0)),
                  "Shiny session hours": number(u.get("shiny_session_hours", 0)),
                  "Shiny sessions still open": number(u.get("open_shiny_sessions", 0)),
                  "Events on deleted content": number(u.get("events_for_deleted_content", 0))},
                 caption="Usage in the window")


def users_facts(summary: dict) -> Table:
    users = summary.get("users") or {}
    roles = ", ".join(f"{r} {number(n)}" for r, n in (users.get("by_role") or {}).items())
    return facts({"Users": number(users.get("total", 0)), "By role": roles or "none"},
                 caption="Users")


def storage_facts(summary: dict) -> Table:
    st = summary.get("storage") or {}
    largest = (st.get("top_content") or [{}])[0]
    return facts({
        "Recommended capacity": f"{human_bytes(st.get('recommended_bytes') or 0)} (max(100 GB, 2 x current use))",
        "Current use": f"{human_bytes(st.get('current_use_bytes') or 0)} "
                       f"({'measured' if st.get('current_use_source') == 'measured' else 'bundle bytes'})",
        "Bundles kept": f"{number(st.get('bundle_count', 0))}: {human_bytes(st.get('bundle_bytes_total') or 0)} "
                   f"(active {human_bytes(st.get('bundle_bytes_active') or 0)}, older "
                   f"{human_bytes(st.get('bundle_bytes_inactive') or 0)})",
        "Largest item": (f"{largest.get('title') or largest.get('guid')} "
                         f"({human_bytes(largest.get('bytes_total') or 0)})" if largest else "none"),
    }, caption="Storage")


def storage_history(result, summary: dict):
    """The storage chart and projection when the snapshot has per-bundle history; without it
    a note saying so and how to get it (no projection is shown: unknown is not zero)."""
    from .. import charts

    growth = result.storage_growth
    if len(growth) == 0:
        return _Html('<p class="ca-note ca-no-history"><strong>No bundle history in this '
                     "snapshot</strong>: the server's storage endpoints give today's totals "
                     "(above), not when bundles were added, so storage growth and a projection "
                     "are unknown. Fetch with <code>connect-analysis fetch --bundle-history</code> "
                     "(one request per content item) to get them.</p>")
    return charts.storage_growth(growth, result.storage_projection,
                                 (summary.get("storage") or {}).get("recommended_bytes"))


def projection_table(result) -> Table | _Html:
    """The 12-month projection table, or a note when there is no history to project from."""
    if len(result.storage_growth) == 0:
        return _Html('<p class="ca-note">No projection: without bundle history the growth is unknown.</p>')
    return table(result.storage_projection, caption="Storage projection, next 12 months",
                 csv="storage-projection.csv")


def downtime_facts(summary: dict) -> Table:
    d = summary.get("downtime") or {}
    a = d.get("assumptions") or {}
    per = a.get("rebuild_minutes_per_item") or {}
    by = d.get("content_to_rebuild_by_runtime") or {}
    back = {"Back after (rebuild waves)": d["answer"]} if d.get("answer") else {}
    return facts(back | {
        "Every item rebuilt once": f"{hours(d.get('estimated_minutes') or 0)} (rebuilds "
                          f"{hours(d.get('rebuild_minutes') or 0)}, copying bundles {hours(d.get('copy_minutes') or 0)})",
        "Items to rebuild": f"{number(d.get('content_to_rebuild', 0))}: "
                            + ", ".join(f"{k} {number(v)}" for k, v in by.items()),
        "Minutes per rebuild": ", ".join(f"{k} {number(v)}" for k, v in per.items()) or "none",
        "Builds at once": number(a.get("parallel_builds", 0)),
        "Copy rate": f"{human_bytes(a.get('copy_bytes_per_second') or 0)}/s",
        "Assumption": a.get("note") or "none",
    }, caption="Migration time (estimate)")


def licence_facts(summary: dict) -> Table:
    lic = summary.get("license")
    if not lic:
        return facts({"Licence": "not available: the server sent no licence block"}, caption="Licence")
    return facts({
        "Status": lic.get("status") or "unknown", "Tier": lic.get("tier") or "unknown",
        "Type": lic.get("type") or "unknown",
        "Expires": f"{day(lic.get('expiration'))} ({number(lic.get('days_left') or 0)} days left)"
                   if lic.get("expiration") else "no expiration given",
        "User limit": limit(lic.get("user_limit")), "Shiny user limit": limit(lic.get("shiny_user_limit")),
        "Licensed users": f"{number(lic.get('licensed_users') or 0)} (not locked, active within "
                          f"{number(lic.get('user_activity_days') or 0)} days)",
        "Trial": "yes" if lic.get("has_trial") else "no",
    }, caption="Licence")


def important_table(result) -> Table:
    """The important content, once: an empty image says why (not covered, none needed)."""
    df = result.important_content.copy()
    status = dict(zip(result.content_images["guid"], result.content_images["status"], strict=True))
    why = {"not covered": "not covered", "no runtime": "none needed", "never deployed": "never deployed"}
    fill = df["guid"].map(lambda g: why.get(status.get(g), "unknown")).astype("string")
    df["image"] = df["image"].astype("string").fillna(fill)
    return table(df, caption="Important content", csv="important-content.csv",
                 columns=["position", "title", "guid", "owner", "app_mode", "content_url",
                          "vanity_url", "runtimes", "events", "visits", "shiny_sessions",
                          "unique_viewers", "last_visit", "image", "reason"],
                 key_columns={"position", "title", "runtimes", "events", "image"})


def counts(mapping: dict | None, key: str, value: str = "content_count") -> pd.DataFrame:
    """{name: count} as a two-column DataFrame, largest first."""
    items = sorted((mapping or {}).items(), key=lambda kv: (-kv[1], str(kv[0])))
    return pd.DataFrame(items, columns=[key, value])


def frame(records: list[dict] | None) -> pd.DataFrame:
    """A list of summary records (e.g. not-covered versions) as a DataFrame."""
    return pd.DataFrame(records or [])


def preflight_results(path: str) -> pd.DataFrame:
    """The results of `connect-analysis preflight --json` in path ("" : none), one row each."""
    if not path:
        return pd.DataFrame(columns=["name", "target", "ok", "detail", "fix"])
    from ..preflight_results import read_results

    return pd.DataFrame([r.to_dict() for r in read_results(path)],
                        columns=["name", "target", "ok", "detail", "fix"])


class _Html:
    """Markup made here (no server text) that Jupyter and the report show as it is."""

    def __init__(self, markup: str):
        self.html = markup

    def _repr_html_(self) -> str:
        return self.html


def growth_table(result) -> Table | _Html:
    """Bundle bytes added per month, or a note when the snapshot has no bundle history."""
    if len(result.storage_growth) == 0:
        return _Html('<p class="ca-note">No growth by month: this snapshot has no bundle history.</p>')
    return table(result.storage_growth, caption="Bundle storage by month", csv="storage-growth.csv")


def package_facts(summary: dict) -> Table:
    packages = summary.get("packages") or {}
    gaps = summary.get("package_gaps") or {}
    missing = gaps.get("not_in_catalogue") or {}
    no_os = gaps.get("no_os_package") or {}
    return facts({
        "Distinct packages": ", ".join(f"{k} {number(v)}" for k, v in packages.items()) or "none",
        "Content whose packages are unknown": number(gaps.get("unknown_content") or 0),
        "Package data": gaps.get("packages_unavailable") or "read from the server",
        "Requirements no rule matches": ", ".join(gaps.get("no_rule") or []) or "none",
        "Rules with no OS package": "; ".join(f"{k}: {', '.join(v) or 'none'}" for k, v in no_os.items()) or "none",
        "Not in the catalogue": ", ".join(f"{k} {number(v)}" for k, v in missing.items()) or "none",
    }, caption="Packages")


def readiness_table(result) -> Table | _Html:
    """The items that are not simply ready on the new cluster (blocked, unknown, conditional
    first, important ones first within each), with why and what to do."""
    df = getattr(result, "readiness", None)
    if df is None or len(df) == 0:
        return _Html('<p class="ca-note">No readiness verdicts in this analysis.</p>')
    order = {"blocked": 0, "unknown": 1, "conditional": 2, "ready": 3, "nothing-to-move": 4}
    df = df.assign(_o=df["verdict"].map(order).fillna(5), _i=~df["important"].fillna(False).astype(bool))
    df = df[df["verdict"].isin(["blocked", "unknown", "conditional"])]
    df = df.sort_values(["_o", "_i", "events"], ascending=[True, True, False], kind="stable")
    shown = table(df, caption="Items not ready as they are", csv="readiness.csv",
                  columns=["title", "guid", "verdict", "important", "reasons", "remediation",
                           "r_version", "py_version", "quarto_version", "events"],
                  key_columns={"title", "verdict", "important", "remediation"})
    builds = ((getattr(result, "summary", None) or {}).get("readiness") or {}).get("latest_builds") or {}
    if sampled(builds):  # say so by the table
        note = html.escape(builds["text"][:1].upper() + builds["text"][1:])
        shown = Table(f'{shown.html}<p class="ca-note">The code already-failing: {note}.</p>', shown.rows,
                      shown.total)
    return shown
