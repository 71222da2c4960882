"""build_plan(): an Analysis (with its readiness table) in, every plan file as text out."""

from __future__ import annotations

import json
from dataclasses import dataclass

import msgspec
import pandas as pd

from .. import __version__
from ..analysis.versions import VERSION_MATCHING
from ..analysis.waves import makespan
from ..errors import AnalysisError, ConfigError
from . import caches, custom_images, environments, gating, preflight_sh, rebuild, values

FORMAT = 1  # plan.json's format version: bump when a key changes meaning or goes away


@dataclass
class Plan:
    """files: {path inside DIR/plan: text}; document: plan.json as a dict."""

    files: dict[str, str]
    document: dict


def build_plan(result, *, snapshot=None, target_version: str | None = None,
               parallelism: int = rebuild.DEFAULT_PARALLELISM, service_type: str | None = None,
               check_nodeports: bool = False) -> Plan:
    """The plan for an Analysis. snapshot: the loaded snapshot, for the old server's runtime
    caches (None: caches.sh says to list them); target_version: the analysis's (it must be the
    one the readiness was judged for), else the old server's version; parallelism: builds at
    once in rebuild.sh; service_type / check_nodeports: whether preflight.sh checks NodePorts."""
    table = _readiness(result)
    summary = result.summary
    target = _target(summary, target_version)
    entries = assigned_environments(table, result.images)
    rule = summary.get("version_matching") or VERSION_MATCHING
    blocked = table[_has_code(table, "no-image")]
    sysreq = result.extra_tables.get("system-requirements.csv")
    customs = custom_images.custom_images(blocked, result.images, sysreq, rule)
    rac = int(_has_code(table, "run-as-current-user").sum())
    found = gating.findings(target, rac)
    estimates = wave_estimates(table, parallelism)
    cache_list = caches.cache_rows(getattr(snapshot, "runtime_caches", None))
    cache_gap = None if snapshot is not None else "no snapshot was given to the plan"
    if snapshot is not None:
        cache_gap = snapshot.unavailable.get("runtime_caches")
    nodeports = preflight_sh.nodeports_wanted(service_type, check_nodeports)
    storage = summary["storage"]

    header = [f"Helm values for the rstudio/rstudio-connect chart (0.20 or later), made by connect-analysis {__version__}",
              f"from a snapshot of {summary['server']['url'] or 'the old server'} (Connect "
              f"{summary['server']['version'] or 'version unknown'}), for Connect {target.version} on the cluster.",
              "Merge it with your own values: helm upgrade --install connect rstudio/rstudio-connect -f values.yaml"]
    files = {
        "values.yaml": values.values_yaml(entries, storage, target, rac, header),
        "environments.json": json.dumps([environments.api_body(e) for e in entries], indent=2,
                                        ensure_ascii=False) + "\n",
        "environments.sh": environments.environments_sh(entries),
        "rebuild.sh": rebuild.rebuild_sh(table, estimates, parallelism),
        "caches.sh": caches.caches_sh(cache_list, cache_gap),
        "preflight.sh": preflight_sh.preflight_sh(storage["recommended_bytes"], nodeports),
    }
    for img in customs:
        files[f"custom-images/{img.directory}/Containerfile"] = img.containerfile
        files[f"custom-images/{img.directory}/environment.yaml"] = custom_environment_yaml(img)
    document = _document(result, table, target, found, entries, estimates, customs, cache_list,
                         nodeports, parallelism)
    served = {g for c in customs for g in c.guids}
    document["no_containerfile"] = [
        {"guid": g, "why": "its recorded versions are not plain version numbers"}
        for g in blocked["guid"].to_numpy(dtype=object).tolist() if g not in served]
    document["files"] = sorted(files) + ["plan.json"]
    files["plan.json"] = msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n"
    return Plan(files, document)


def _target(summary: dict, target_version: str | None) -> gating.Target:
    """The target: the one given, which must be the one the readiness was judged for; else
    the analysis's; else the old server's version."""
    analysed = (summary.get("readiness") or {}).get("target_version")
    old = summary["server"]["version"]
    if target_version and analysed and target_version != analysed:
        raise ConfigError(f"the analysis judged readiness for Connect {analysed}, not {target_version}: "
                          "analyse again with that target version")
    target = gating.target_for(target_version or analysed, old)
    if target_version:
        return target
    source = "analysis" if analysed and analysed != old else "old server"
    return gating.Target(target.version, source, target.features)


def _has_code(table: pd.DataFrame, code: str) -> pd.Series:
    return table["reasons"].fillna("").str.split(";").map(lambda codes: code in codes).astype(bool)


def _readiness(result) -> pd.DataFrame:
    table = getattr(result, "readiness", None)
    if table is None:
        raise AnalysisError("the analysis has no readiness table: run it with this version of the kit")
    return table


def assigned_environments(table: pd.DataFrame, images: list[dict]) -> list[dict]:
    """One chart entry per image of the table that at least one item is assigned to, in the
    order of the image table."""
    counts = table["image"].dropna().astype(str).value_counts().to_dict()
    return [environments.environment_entry(img, int(counts[img["name"]]))
            for img in images if img["name"] in counts]


def wave_estimates(table: pd.DataFrame, parallelism: int) -> dict[int, dict]:
    """{wave: {minutes, basis}} for the ready and conditional items rebuild.sh builds: the
    makespan of their rebuild minutes on `parallelism` builders (waves.makespan)."""
    out = {}
    for wave, rows in rebuild.wave_items(table).items():
        if "rebuild_minutes" not in rows.columns:
            continue
        minutes = rows["rebuild_minutes"].dropna()
        source = rows.get("rebuild_source", pd.Series(dtype="string")).fillna("unknown")
        basis = ", ".join(f"{n} {s}" for s, n in source.value_counts().sort_index().items())
        out[wave] = {"minutes": round(makespan(minutes, parallelism), 1), "basis": basis}
    return out


def custom_environment_yaml(img) -> str:
    """environment.yaml beside a Containerfile: the entry to add under executionEnvironments."""
    lines = ["# The execution environment that serves this image's items: add it under",
             "# executionEnvironments in values.yaml, with the name of the image you pushed."]
    lines += values.environment_lines([img.environment], indent="")
    lines += ["", "# Or, for Connect older than 2026.03.0 (CONNECT_SERVER and CONNECT_API_KEY set):"]
    lines += ["# " + line for line in environments.rsconnect_add(img.environment)]
    return "\n".join(lines) + "\n"


def _document(result, table, target, found, entries, estimates, customs, cache_list, nodeports,
              parallelism) -> dict:
    summary = result.summary
    storage = summary["storage"]
    waves = []
    for wave, rows in rebuild.wave_items(table).items():
        unknown = table[(table["wave"] == wave) & (table["verdict"] == "unknown")]
        kind = rows["wave_kind"].iat[0] if "wave_kind" in rows.columns else None
        waves.append({"wave": wave, "kind": None if pd.isna(kind) else str(kind),
                      "guids": rows["guid"].to_numpy(dtype=object).tolist(),
                      "unknown_guids": unknown["guid"].to_numpy(dtype=object).tolist(),
                      "parallelism": int(parallelism), **(estimates.get(wave) or {})})
    return {
        "format": FORMAT,
        "generated_by": f"connect-analysis {__version__}",
        "server": summary["server"],
        "target": {"version": target.version, "source": target.source,
                   "features": {name: {"available": target.has(name), "since": since}
                                for name, (since, _) in gating.FEATURES.items()}},
        "findings": found,
        "storage": {"recommended_bytes": int(storage["recommended_bytes"]),
                    "requests_storage": values.storage_quantity(storage["recommended_bytes"]),
                    "current_use_bytes": int(storage["current_use_bytes"]),
                    "current_use_source": storage.get("current_use_source")},
        "recommended_images": list(summary["images"]["minimal_set"]),
        "images": [{"name": e["name"], "items": int((table["image"] == e["name"]).sum())} for e in entries],
        "environments": entries,
        "waves": waves,
        "items": plan_items(table),
        "latest_builds": (summary.get("readiness") or {}).get("latest_builds"),  # for how many already-failing was checked
        "custom_images": [{"directory": f"custom-images/{c.directory}", "needs": c.needs, "guids": c.guids,
                           "base": c.base, "os": c.os_id, "installs": c.installs, "reused": c.reused,
                           "os_packages": c.os_packages, "environment": c.environment} for c in customs],
        "runtime_caches": cache_list,
        "preflight": {"nodeport_check": nodeports,
                      "nodeport_skipped": None if nodeports else preflight_sh.NODEPORT_SKIPPED},
    }


def plan_items(table: pd.DataFrame) -> list[dict]:
    """plan.json's items: one per readiness row, nulls as None, reasons as a list."""
    def col(name):
        if name not in table.columns:
            return [None] * len(table)
        return table[name].to_numpy(dtype=object, na_value=None).tolist()
    keys = ("guid", "title", "app_mode", "owner", "verdict", "image", "remediation")
    cols = {k: col(k) for k in keys}
    reasons = [[c for c in (r or "").split(";") if c] for r in col("reasons")]
    important = [bool(x) for x in col("important")]
    waves = [None if w is None else int(w) for w in col("wave")]
    out = []
    for i in range(len(table)):
        item = {k: (None if cols[k][i] is None else str(cols[k][i])) for k in keys}
        item.update(reasons=reasons[i], important=important[i], wave=waves[i])
        out.append(item)
    return out
