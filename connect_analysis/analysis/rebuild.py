"""The readiness table with its rebuild waves and times, and its part of summary.json."""

from __future__ import annotations

import pandas as pd

from .downtime import PARALLEL_BUILDS
from .jobs import jobs_coverage, latest_failures, rebuild_minutes, runtime_medians
from .readiness import COLUMNS, ReadinessOptions, counts, readiness
from .waves import CANARIES_PER_IMAGE, assign_waves, back_after, wave_plan

TABLE_COLUMNS = list(COLUMNS)  # readiness.csv


def rebuild_plan(content: pd.DataFrame, content_images: pd.DataFrame, minimal_set: list[str],
                 images: list[dict], important_guids, jobs: pd.DataFrame, *,
                 options: ReadinessOptions | None = None, parallel_builds: int = PARALLEL_BUILDS,
                 copy_minutes: float = 0.0, jobs_known: bool = True,
                 manifest: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """(readiness rows in rebuild order, columns TABLE_COLUMNS; the summary.json part).

    rebuild_minutes: minutes to rebuild the item (rebuild_source says measured or assumed);
    jobs_known: False when the server gave no jobs (every time is then assumed); manifest: the
    snapshot's, whose `jobs` record says for how many items the jobs were read."""
    options = options or ReadinessOptions()
    failing = latest_failures(jobs)
    table = readiness(content, content_images, minimal_set, images, important_guids, failing, options)
    times = rebuild_minutes(content, jobs)
    table = pd.concat([table, times.drop(columns=["guid"])], axis=1)
    gone = table["verdict"] == "nothing-to-move"  # no bundle: nothing to rebuild
    table["rebuild_minutes"] = table["rebuild_minutes"].mask(gone)
    table["rebuild_source"] = table["rebuild_source"].mask(gone)
    table = assign_waves(table, CANARIES_PER_IMAGE)[TABLE_COLUMNS]
    plan = wave_plan(table, parallel_builds, copy_minutes)
    summary = {
        "target_version": options.target_version,
        "counts": counts(table),
        "recommended_images": list(minimal_set),
        "waves": plan,
        "not_in_a_wave": [{"guid": r.guid, "title": r.title, "verdict": r.verdict, "reasons": r.reasons,
                           "important": r.important, "remediation": r.remediation}
                          for r in table[table["wave"].isna() & (table["verdict"] != "nothing-to-move")]
                          .itertuples(index=False)],
        "rebuild": {
            "parallel_builds": int(parallel_builds),
            "jobs_recorded": bool(jobs_known),
            "per_item_minutes_by_runtime": runtime_medians(table),
            "note": ("an item's rebuild time is its own measured build and restore jobs (median over its "
                     "bundles), else the median of measured items of its runtime, else the assumption; "
                     "each wave runs on parallel_builds builders after the bundles are copied"),
        },
        "latest_builds": jobs_coverage(manifest or {}, content, jobs_known, len(failing)),
        "back_after": back_after(table, plan, copy_minutes),
        "rows": table.to_dict("records"),
    }
    return table, summary
