"""The plan: the files the next steps of a move apply, written to DIR/plan/.

    build_plan(analysis, ...) -> Plan          every file as text, and plan.json as a dict
    write_plan(analysis, out_dir, ...) -> Path  writes out_dir/plan/ (what the report links)
    plan_snapshot(snapshot_dir, out_dir, ...)   load, analyse, write (`connect-analysis plan`)

Files: values.yaml (rstudio-connect chart values), environments.json (POST /v1/environments
bodies), environments.sh (rsconnect environment add), rebuild.sh (rsconnect content build, per
wave), caches.sh (rsconnect system caches delete), preflight.sh (kubectl/busybox nc checks),
custom-images/<combination>/{Containerfile,environment.yaml}, plan.json (all of it; `format`).
The kit sends none of it: it only reads from Connect.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..errors import AnalysisError
from ..snapshot import replace_dir
from .build import FORMAT, Plan, build_plan

PLAN_DIR = "plan"
EXECUTABLE = (".sh",)
# what each file of the plan holds, by its path under plan/ (custom-images/ is one entry for
# the files under it); the report's "Data files" list says it beside each link
PLAN_FILES = {
    "plan.json": "the plan: everything below as one document",
    "values.yaml": "values for the rstudio-connect Helm chart",
    "environments.json": "execution environments to create (POST /v1/environments bodies)",
    "environments.sh": "the same with `rsconnect environment add`",
    "rebuild.sh": "rebuild the content on the new cluster, wave by wave",
    "caches.sh": "runtime caches to clear",
    "preflight.sh": "checks to run inside the new cluster",
    "custom-images/": "a Containerfile and environment.yaml per runtime combination no image serves",
}


def write_plan(result, out_dir, **options) -> Path:
    """Write build_plan(result, **options) into out_dir/plan/ and return that directory.

    The files are written to a new directory beside it, which then replaces any previous
    plan/ whole, so a reader never sees half a plan. Shell files are made executable.
    """
    plan = build_plan(result, **options)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".plan-", dir=out))
    except OSError as e:
        raise AnalysisError(f"cannot create {out}: {e.strerror or e}") from None
    try:
        for name, text in plan.files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
            if name.endswith(EXECUTABLE):
                path.chmod(0o755)
        target = out / PLAN_DIR
        replace_dir(tmp, target)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AnalysisError(f"cannot write the plan into {out}: {e.strerror or e}") from None
    return target


def plan_snapshot(snapshot_dir, out_dir, *, target_version: str | None = None,
                  parallelism: int | None = None, service_type: str | None = None,
                  check_nodeports: bool = False, **analysis_options) -> Path:
    """Load and analyse the snapshot (analysis_options as for analyze()), write out_dir/plan/."""
    from ..analysis import analyze, load_for_analysis

    snapshot = load_for_analysis(snapshot_dir)
    result = analyze(snapshot, target_version=target_version, **analysis_options)
    options = {"parallelism": parallelism} if parallelism else {}
    return write_plan(result, out_dir, snapshot=snapshot, target_version=target_version,
                      service_type=service_type, check_nodeports=check_nodeports, **options)


__all__ = ["FORMAT", "PLAN_DIR", "PLAN_FILES", "Plan", "build_plan", "plan_snapshot", "write_plan"]
