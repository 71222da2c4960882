"""Rebuild waves: the order to rebuild in after the move, and when content is back.

Rules (docs/reference/readiness-codes.qmd repeats them):
- Wave 1, the canary wave: per assigned image, up to CANARIES_PER_IMAGE ready items with no
  code at all (important first, then most used), as Posit advises a build or two per runtime
  before the rest.
- Then one wave of the important items, then one of the rest (empty waves are skipped, so
  waves are numbered 1, 2, 3 without gaps). Ready, conditional and unknown items are in exactly
  one wave; blocked and never-deployed items are in none. After the canary wave an important
  item is never in a later wave than a non-important one.
- A wave's time is the makespan of its items' rebuild minutes on `parallel_builds` builders
  (longest first, each to the least loaded builder); waves run one after the other, after the
  copy of the bundles.
- An item's rebuild minutes are its own build and restore jobs on the old server (the median
  over its bundles of each bundle's jobs added up), else the median of the measured items of its
  runtime, else the assumed REBUILD_MINUTES (downtime.py); readiness.csv's rebuild_source says
  which (jobs.py).
"""

from __future__ import annotations

import heapq

import pandas as pd

from .jobs import ASSUMED, ITEM, RUNTIME_MEDIAN
from .readiness import BLOCKED, CONDITIONAL, READY, UNKNOWN

CANARIES_PER_IMAGE = 2
IN_WAVES = (READY, CONDITIONAL, UNKNOWN)
CANARY, IMPORTANT, REST = "canary", "important", "rest"


def assign_waves(table: pd.DataFrame, canaries_per_image: int = CANARIES_PER_IMAGE) -> pd.DataFrame:
    """table (readiness rows) with wave, wave_kind and rebuild_order filled in; rows sorted by
    rebuild order, items in no wave last (blocked first, important first, most used first)."""
    t = table.copy()
    key = t.assign(_neg=-t["events"], _imp=~t["important"]).sort_values(
        ["_imp", "_neg", "guid"], kind="stable").index
    t = t.loc[key]
    eligible = t["verdict"].isin(IN_WAVES)
    clean = (t["verdict"] == READY) & (t["reasons"].fillna("") == "") & t["image"].notna()
    canary = (t[clean].groupby("image").cumcount() < canaries_per_image).reindex(t.index, fill_value=False)
    kind = pd.Series(pd.NA, index=t.index, dtype="string")
    kind[eligible & t["important"]] = IMPORTANT
    kind[eligible & ~t["important"]] = REST
    kind[canary] = CANARY
    numbers = {k: n for n, k in enumerate([k for k in (CANARY, IMPORTANT, REST) if (kind == k).any()], 1)}
    t["wave"] = kind.map(numbers).astype("Int64")
    t["wave_kind"] = kind
    rank = {BLOCKED: 0}
    t = t.assign(_w=t["wave"].fillna(10**6), _b=t["verdict"].map(rank).fillna(1)).sort_values(
        ["_w", "_b"], kind="stable").drop(columns=["_w", "_b"])
    t["rebuild_order"] = pd.Series(range(1, len(t) + 1), index=t.index).where(t["wave"].notna()).astype("Int64")
    return t.reset_index(drop=True)


def makespan(minutes, builders: int) -> float:
    """Minutes until `builders` parallel builders finish every job (longest job first)."""
    loads = [0.0] * max(1, int(builders))
    for m in sorted((float(x) for x in minutes), reverse=True):
        heapq.heapreplace(loads, loads[0] + m)
    return max(loads)


def wave_plan(table: pd.DataFrame, parallel_builds: int, copy_minutes: float = 0.0) -> list[dict]:
    """Per wave: items, how its time was found, minutes and when it starts and ends (minutes
    after the move starts; the copy of the bundles comes first). table: assign_waves's rows
    with rebuild_minutes and rebuild_source."""
    out, clock = [], float(copy_minutes)
    for wave, rows in table[table["wave"].notna()].groupby("wave", sort=True):
        minutes = makespan(rows["rebuild_minutes"], parallel_builds)
        source = rows["rebuild_source"]
        out.append({
            "wave": int(wave), "kind": str(rows["wave_kind"].iat[0]), "items": int(len(rows)),
            "important_items": int(rows["important"].sum()),
            "images": sorted({str(x) for x in rows["image"].dropna()}),
            "measured_items": int((source == ITEM).sum()),
            "runtime_median_items": int((source == RUNTIME_MEDIAN).sum()),
            "assumed_items": int((source == ASSUMED).sum()),
            "rebuild_minutes": round(minutes, 1),
            "starts_after_minutes": round(clock, 1), "ends_after_minutes": round(clock + minutes, 1),
            "guids": [str(g) for g in rows["guid"]],
        })
        clock += minutes
    return out


def back_after(table: pd.DataFrame, plan: list[dict], copy_minutes: float) -> dict:
    """When important content and everything else are back, in hours after the move starts."""
    important_end = max((w["ends_after_minutes"] for w in plan if w["important_items"]), default=None)
    all_end = max((w["ends_after_minutes"] for w in plan), default=float(copy_minutes))
    blocked = table["verdict"] == BLOCKED
    important_hours = None if important_end is None else round(important_end / 60, 2)
    all_hours = round(all_end / 60, 2)
    text = (f"important content back after {_hours(important_hours)}, everything after {_hours(all_hours)}"
            if important_hours is not None else f"no important content to rebuild; everything back after {_hours(all_hours)}")
    if blocked.any():
        text += (f"; {int(blocked.sum())} blocked items ({int((blocked & table['important']).sum())} important) "
                 "are not back until their blockers are fixed")
    return {"important_back_after_hours": important_hours, "everything_back_after_hours": all_hours,
            "blocked_items": int(blocked.sum()), "blocked_important_items": int((blocked & table["important"]).sum()),
            "text": text}


def _hours(h: float) -> str:
    return f"{h:.1f} hours" if h >= 0.05 else "under 0.1 hours"
