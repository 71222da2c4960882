"""Important content: the most used content in the window, plus what the user names as must-keep.

Ranking rule: events = visits + Shiny sessions in the window; highest first; ties by unique
viewers (highest first), then guid (ascending). Only content in the content table with at
least one event is ranked; usage of deleted content counts in totals and is never ranked.
The top_n ranked items are picked, then every must-keep item (by GUID or by tag name or id)
not already picked, in ranking order. must-keep GUIDs not on the server are reported.
"""

from __future__ import annotations

import pandas as pd

from .runtimes import runtimes_label

IMPORTANT_COLUMNS = ["position", "usage_rank", "guid", "title", "owner", "app_mode", "content_url",
                     "vanity_url", "runtimes", "r_version", "py_version", "quarto_version",
                     "visits", "shiny_sessions", "events", "unique_viewers", "shiny_session_hours",
                     "last_visit", "last_deployed", "image", "reason"]


def usage_ranking(content: pd.DataFrame, per: pd.DataFrame) -> pd.Series:
    """usage_rank per content row (1 = most used), <NA> for content with no events."""
    order = pd.DataFrame({"guid": content["guid"].to_numpy(dtype=object, na_value=""),
                          "events": per["events"].to_numpy(),
                          "unique_viewers": per["unique_viewers"].to_numpy()})
    used = order[order["events"] > 0].sort_values(["events", "unique_viewers", "guid"],
                                                  ascending=[False, False, True], kind="stable")
    rank = pd.Series(pd.NA, index=order.index, dtype="Int64")
    rank[used.index] = range(1, len(used) + 1)
    return rank


def important_content(content: pd.DataFrame, per: pd.DataFrame, content_tags: pd.DataFrame,
                      vanity_urls: pd.Series, *, top_n: int = 20, must_keep_guids=(),
                      must_keep_tags=()) -> tuple[pd.DataFrame, list[str]]:
    """(the picked content, ranked, columns IMPORTANT_COLUMNS; must-keep GUIDs not found).

    position: 1.. in the list; usage_rank: rank among all used content (<NA>: no usage);
    shiny_session_hours: hours; last_visit/last_deployed: UTC; image is filled in later.
    """
    rank = usage_ranking(content, per)
    guids = content["guid"].to_numpy(dtype=object, na_value="")
    reasons: dict[int, list[str]] = {}
    for pos in rank.index[rank.notna() & (rank <= top_n)]:
        reasons.setdefault(pos, []).append(f"top {top_n} by usage (rank {int(rank[pos])})")
    position_of = {g: i for i, g in enumerate(guids)}
    not_found = []
    for g in dict.fromkeys(str(x).strip() for x in must_keep_guids):
        if g in position_of:
            reasons.setdefault(position_of[g], []).append("must-keep GUID")
        else:
            not_found.append(g)
    if len(must_keep_tags):
        wanted = {str(t).strip() for t in must_keep_tags}
        hit = content_tags[content_tags["tag_name"].isin(wanted) | content_tags["tag_id"].isin(wanted)]
        for g, tag in zip(hit["content_guid"], hit["tag_name"].fillna(hit["tag_id"]), strict=True):
            if g in position_of:
                reasons.setdefault(position_of[g], []).append(f"must-keep tag {tag}")

    picked = list(reasons)
    big = len(content) + 1  # unranked must-keep items sort after ranked ones, then by guid
    picked.sort(key=lambda p: (int(rank[p]) if pd.notna(rank[p]) else big, guids[p]))
    rows = []
    for n, p in enumerate(picked, 1):
        c = content.iloc[p]
        rows.append({
            "position": n, "usage_rank": rank[p], "guid": guids[p], "title": c["title"],
            "owner": c["owner_username"], "app_mode": c["app_mode"], "content_url": c["content_url"],
            "vanity_url": vanity_urls.iloc[p], "runtimes": runtimes_label(c),
            "r_version": c["r_version"], "py_version": c["py_version"], "quarto_version": c["quarto_version"],
            "visits": int(per["visits"].iat[p]), "shiny_sessions": int(per["shiny_sessions"].iat[p]),
            "events": int(per["events"].iat[p]), "unique_viewers": int(per["unique_viewers"].iat[p]),
            "shiny_session_hours": float(per["shiny_session_hours"].iat[p]),
            "last_visit": per["last_visit"].iat[p], "last_deployed": c["last_deployed_time"],
            "image": None, "reason": "; ".join(dict.fromkeys(reasons[p])),
        })
    out = pd.DataFrame(rows, columns=IMPORTANT_COLUMNS)
    for c in ("last_visit", "last_deployed"):  # all null: a naive column, which astype cannot localise
        out[c] = pd.to_datetime(out[c], utc=True)
    text = ["guid", "title", "owner", "app_mode", "content_url", "vanity_url", "runtimes", "r_version",
            "py_version", "quarto_version", "image", "reason"]
    return out.astype({c: "string" for c in text} | {"position": "int64", "usage_rank": "Int64", "visits": "int64",
                       "shiny_sessions": "int64", "events": "int64", "unique_viewers": "int64",
                       "shiny_session_hours": "float64", "last_visit": "datetime64[ns, UTC]",
                       "last_deployed": "datetime64[ns, UTC]"}), not_found


def vanity_urls(content: pd.DataFrame, vanities: pd.DataFrame, server_url: str | None) -> pd.Series:
    """The vanity URL per content row: from the content record when the server gave it
    (2024.06+), else built from the vanities table and the server URL; null when none."""
    out = content["vanity_url"].astype("string").reset_index(drop=True)
    if not vanities.empty and server_url:
        base = server_url.rstrip("/")
        paths = vanities.dropna(subset=["content_guid", "path"]).drop_duplicates("content_guid")
        built = content["guid"].map(dict(zip(paths["content_guid"], paths["path"], strict=True)))
        built = built.map(lambda p: base + (p if p.startswith("/") else "/" + p), na_action="ignore")
        out = out.fillna(built.reset_index(drop=True).astype("string"))
    return out
