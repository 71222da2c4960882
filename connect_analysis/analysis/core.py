"""analyze(): one snapshot in, every migration answer out (pure: no network, no files)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..errors import AnalysisError
from ..timestamps import iso
from .downtime import counts_by_app_mode, downtime_estimate, run_as_summary, run_as_table
from .images import image_coverage, load_images, uncovered_versions, warm_list
from .important import important_content, vanity_urls
from .license import license_summary, users_summary
from .readiness import options_from_settings
from .rebuild import rebuild_plan
from .runtimes import no_runtime_by_app_mode, runtime_inventory, runtimes_summary
from .storage import (
    content_storage_table,
    storage_by_content,
    storage_growth,
    storage_projection,
    storage_summary,
)
from .summary import default_now, plain, server_info, snapshot_window
from .sysreqs import packages_analysis
from .usage import usage_by_content
from .versions import RULES, VERSION_MATCHING, parse_version

# The only columns of the big usage tables the analysis reads; loading just these keeps a
# 10-million-event snapshot well inside 2 GB.
ANALYSIS_COLUMNS = {"visits": ["content_guid", "user_guid", "time"]}


def load_for_analysis(snapshot_dir):
    """The snapshot in snapshot_dir with only the columns the analysis reads (a Snapshot)."""
    from ..snapshot import load_snapshot

    return load_snapshot(snapshot_dir, columns=ANALYSIS_COLUMNS)

@dataclass
class Analysis:
    """Everything analyze() computes. DataFrames map to the CSVs write_analysis() writes."""

    summary: dict
    runtimes: pd.DataFrame
    image_coverage: pd.DataFrame
    content_images: pd.DataFrame
    important_content: pd.DataFrame
    storage_by_content: pd.DataFrame
    run_as: pd.DataFrame
    storage_growth: pd.DataFrame
    storage_projection: pd.DataFrame
    downtime: dict  # {"by_app_mode": DataFrame, "estimate": dict}
    license: dict | None
    warm_list: pd.DataFrame
    usage_by_content: pd.DataFrame
    readiness: pd.DataFrame | None = None  # readiness.csv: verdict, reasons, wave per item
    images: list[dict] = field(default_factory=list)  # the image table used (images.load_images)
    # More tables by file name (e.g. "packages.csv"), written as they are by write_analysis.
    extra_tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def analyze(snapshot, *, images=None, must_keep_guids=(), must_keep_tags=(), top_n: int = 20,
            current_use_bytes: int | None = None, now=None,
            version_matching: str = VERSION_MATCHING, target_version: str | None = None) -> Analysis:
    """Analyse a loaded snapshot (connect_analysis.snapshot.Snapshot).

    images: None/"posit" (Posit's public content images), "server" (the snapshot's execution
    environments) or a YAML file path. top_n: how many of the most used items to pick.
    current_use_bytes: a measured figure replacing the bundle bytes as current use. now: the
    moment for days-left and projections (default: the usage window's end, else fetched-at).
    version_matching: "major-minor" (default) or "exact". target_version: the new cluster's
    Connect version for the readiness verdicts (default: the old server's version).
    """
    _check_arguments(top_n, current_use_bytes, version_matching, target_version)
    manifest = snapshot.manifest
    server = server_info(manifest, snapshot.server_settings)
    window = snapshot_window(manifest)
    now = pd.Timestamp(now).tz_convert("UTC") if now is not None else default_now(manifest, window)
    content = snapshot.content.reset_index(drop=True)

    per, usage_totals = usage_by_content(content["guid"], snapshot.visits, snapshot.shiny_sessions, window)
    parts = _runtimes_and_images(snapshot, content, per["events"], images, version_matching)
    parts |= _important(snapshot, content, per, parts, server["url"], top_n, must_keep_guids,
                        must_keep_tags, version_matching)
    parts |= _storage(snapshot, content, current_use_bytes, now)
    parts |= _readiness(snapshot, content, parts, target_version or server["version"])
    licence = license_summary(snapshot.server_settings, snapshot.users, now)
    summary = _summary(snapshot, content, server, window, usage_totals, parts, licence, version_matching)
    return Analysis(
        summary=plain(summary), runtimes=parts["inventory"], image_coverage=parts["per_image"],
        content_images=parts["content_images"], important_content=parts["important"],
        storage_by_content=parts["by_content"], run_as=run_as_table(content),
        storage_growth=parts["growth"], storage_projection=parts["projection"],
        downtime={"by_app_mode": parts["by_app_mode"], "estimate": parts["estimate"]},
        license=licence, warm_list=parts["warm"], extra_tables=parts["package_tables"],
        readiness=parts["readiness_table"], images=parts["image_list"],
        usage_by_content=pd.concat([content[["guid"]], per], axis=1),
    )


def _check_arguments(top_n, current_use_bytes, version_matching, target_version) -> None:
    """AnalysisError for an option analyze() cannot use."""
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 0:
        raise AnalysisError(f"top N must be a whole number >= 0, not {top_n!r}")
    if current_use_bytes is not None and (not isinstance(current_use_bytes, int) or current_use_bytes < 0):
        raise AnalysisError(f"current use must be a whole number of bytes >= 0, not {current_use_bytes!r}")
    if version_matching not in RULES:
        raise AnalysisError(f"version matching must be one of {', '.join(RULES)}")
    if target_version is not None and parse_version(target_version) is None:
        raise AnalysisError(f"target version must be a Connect version like 2026.01.0, not {target_version!r}")


def _runtimes_and_images(snapshot, content, events, images, version_matching) -> dict:
    """The runtime inventory, the image table used and which image covers each item."""
    runtimes_known = "server_runtimes" not in snapshot.unavailable
    inventory = runtime_inventory(content, events, snapshot.server_runtimes, runtimes_known, version_matching)
    image_list, image_source = load_images(images, snapshot.environments, snapshot.environment_runtimes)
    per_image, content_images = image_coverage(content, events, image_list, version_matching)
    return {"runtimes_known": runtimes_known, "inventory": inventory, "image_list": image_list,
            "image_source": image_source, "per_image": per_image, "content_images": content_images,
            "minimal_set": [str(x) for x in per_image.loc[per_image["in_minimal_set"], "image"]]}


def _important(snapshot, content, per, parts, server_url, top_n, must_keep_guids, must_keep_tags,
               version_matching) -> dict:
    """The important content (with each item's image) and the warm list of its runtimes."""
    important, not_found = important_content(
        content, per, snapshot.content_tags, vanity_urls(content, snapshot.vanities, server_url),
        top_n=top_n, must_keep_guids=must_keep_guids, must_keep_tags=must_keep_tags)
    content_images = parts["content_images"]
    assigned = dict(zip(content_images["guid"], content_images["assigned_image"], strict=True))
    important["image"] = important["guid"].map(assigned).astype("string")
    warm = warm_list(important, content, content_images, parts["image_list"], version_matching)
    return {"important": important, "not_found": not_found, "warm": warm}


def _storage(snapshot, content, current_use_bytes, now) -> dict:
    """Storage per item and in all, its growth and projection, and the downtime estimate."""
    by_content = storage_by_content(content_storage_table(snapshot.content_storage, snapshot.bundles), content)
    storage = storage_summary(by_content, current_use_bytes)
    growth = storage_growth(snapshot.bundles)
    # Growth needs per-bundle history, which 2026.06+ fetches may lack: kept out of the summary
    # so every Connect version gives the same summary.
    projection, _ = storage_projection(storage["current_use_bytes"], growth, now)
    estimate = downtime_estimate(content, storage["bundle_count"], storage["bundle_bytes_total"])
    return {"by_content": by_content, "storage": storage, "growth": growth, "projection": projection,
            "estimate": estimate, "by_app_mode": counts_by_app_mode(content, by_content)}


def _readiness(snapshot, content, parts, target_version) -> dict:
    """Packages, the readiness verdicts, and the downtime estimate with the back-after hours."""
    package_summary, package_tables = packages_analysis(snapshot, parts["important"]["guid"])
    readiness_table, readiness_summary = rebuild_plan(
        content, parts["content_images"], parts["minimal_set"], parts["image_list"],
        parts["important"]["guid"], snapshot.jobs, copy_minutes=parts["estimate"]["copy_minutes"],
        options=options_from_settings(snapshot.server_settings, target_version),
        jobs_known="jobs" not in snapshot.unavailable, manifest=snapshot.manifest)
    back_after = readiness_summary["back_after"]
    estimate = parts["estimate"] | {k: back_after[k] for k in
                                    ("important_back_after_hours", "everything_back_after_hours")} | {
        "answer": back_after["text"]}
    return {"package_summary": package_summary, "package_tables": package_tables,
            "readiness_table": readiness_table, "readiness_summary": readiness_summary,
            "estimate": estimate}


def _summary(snapshot, content, server, window, usage_totals, parts, licence, version_matching) -> dict:
    """summary.json's dict (before plain()), its keys in their published order."""
    content_images = parts["content_images"]
    is_deployed = content["bundle_id"].notna()
    return {
        "server": server,
        "window": {"start": iso(window.start), "end": iso(window.end)},
        "content": {
            "total": int(len(content)),
            "deployed": int(is_deployed.sum()),
            "never_deployed": int((~is_deployed).sum()),
            "by_app_mode": {str(k): int(v) for k, v in
                            sorted(content["app_mode"].fillna("unknown").value_counts().items())},
            "no_runtime_by_app_mode": no_runtime_by_app_mode(content),
        },
        "runtimes": runtimes_summary(parts["inventory"], parts["runtimes_known"]),
        "version_matching": version_matching,
        "images": {
            "source": parts["image_source"],
            "image_count": len(parts["image_list"]),
            "minimal_set": parts["minimal_set"],
            "content_covered": int((content_images["status"] == "covered").sum()),
            "content_not_covered": int((content_images["status"] == "not covered").sum()),
            "content_needing_no_runtime": int((content_images["status"] == "no runtime").sum()),
            "not_covered_versions": uncovered_versions(content_images),
        },
        "usage": {k: usage_totals[k] for k in ("visits", "shiny_sessions", "unique_viewers",
                                               "events_for_deleted_content", "open_shiny_sessions")}
        | {"shiny_session_hours": round(usage_totals["shiny_session_hours"], 3)},
        "important_content": [
            {"guid": r.guid, "title": r.title, "content_url": r.content_url, "vanity_url": r.vanity_url,
             "visits": r.visits, "shiny_sessions": r.shiny_sessions, "unique_viewers": r.unique_viewers,
             "usage_rank": r.usage_rank, "image": r.image, "reason": r.reason}
            for r in parts["important"].itertuples(index=False)],
        "must_keep_not_found": parts["not_found"],
        "warm_list": [{"language": r.language, "version": r.version, "image": r.image,
                       "content_count": r.content_count} for r in parts["warm"].itertuples(index=False)],
        "storage": parts["storage"],
        "run_as": run_as_summary(content),
        "downtime": parts["estimate"],
        "readiness": parts["readiness_summary"],
        "users": users_summary(snapshot.users),
        "license": licence,
        **parts["package_summary"],  # packages, system_requirements, package_gaps (sysreqs.py)
        "unavailable": dict(snapshot.unavailable),
    }
