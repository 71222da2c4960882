"""GET /v1/content/{guid}/jobs: each item's jobs, derived from its bundles.

Every bundle had a package restore when it was deployed (packrat_restore for R,
python_restore for Python) and, for rendered documents, a render (build_report or
build_jupyter); deployed interactive items have one running job. Durations are lognormal
around what Connect servers show (R restores ~4 min, Python ~1.5 min, renders ~1 min);
about 1 in 10 restores of an old bundle failed (a failed deploy) and about 1 in 12 renders
of an active bundle failed. A bundle's jobs depend only on the seed, the item and the bundle,
so redeploying one item leaves every other item's jobs as they were.
"""

from __future__ import annotations

import math
import random
import string
from datetime import datetime, timedelta

from .api import ApiError, Request, ts

V_JOBS = (2022, 10, 0)  # connectapi checks this version for the jobs API
RUN_TAGS = {"shiny": "run_app", "rmd-shiny": "render_shiny", "quarto-shiny": "render_shiny",
            "api": "run_api", "python-api": "run_python_api", "python-fastapi": "run_fastapi_app",
            "python-dash": "run_dash_app", "python-streamlit": "run_streamlit", "python-bokeh": "run_bokeh_app",
            "python-shiny": "run_pyshiny_app", "python-panel": "run_panel_app",
            "python-gradio": "run_gradio_app", "jupyter-voila": "run_voila_app",
            "tensorflow-saved-model": "run_tensorflow"}
RENDER_TAGS = {"rmd-static": "build_report", "quarto-static": "build_report", "jupyter-static": "build_jupyter"}
# (median minutes, lognormal sigma, lowest, highest)
DURATIONS = {"packrat_restore": (4.0, 0.7, 0.3, 45.0), "python_restore": (1.5, 0.6, 0.2, 20.0),
             "build_report": (0.8, 0.8, 0.1, 30.0), "build_jupyter": (0.6, 0.7, 0.1, 20.0)}


def content_jobs(req: Request, guid: str):
    st = req.state
    i = st.content_index.get(guid)
    if i is None or not st.can_see(req, i):
        raise ApiError(4)
    c = st.content[i]
    if req.role != "administrator" and c["owner_guid"] != req.user["guid"]:
        raise ApiError(22)  # owners, collaborators and administrators only
    jobs = [j for b in st.bundles.get(guid, []) for j in _bundle_jobs(st.ds.seed, c, b)]
    if c["bundle_id"] is not None and c["app_mode"] in RUN_TAGS:
        jobs.append(_running(st.ds.seed, c))
    now = ts(st.ds.now)
    jobs = [_as_of(j, now) for j in jobs if j["start_time"] <= now]
    return sorted(jobs, key=lambda j: (j["start_time"], j["key"]), reverse=True)


def _as_of(job: dict, now: str) -> dict:
    """The job as the server shows it at `now`: still running when it ends later."""
    if job["end_time"] is None or job["end_time"] <= now:
        return job
    return {**job, "end_time": None, "exit_code": None, "status": 0, "last_heartbeat_time": now}


def _bundle_jobs(seed: int, c: dict, b: dict) -> list[dict]:
    rng = random.Random(f"{seed}:{c['guid']}:{b['id']}")
    active = b["active"]
    tags = []
    if b.get("r_version"):
        tags.append("packrat_restore")
    elif b.get("py_version"):
        tags.append("python_restore")
    if c["app_mode"] in RENDER_TAGS:
        tags.append(RENDER_TAGS[c["app_mode"]])
    start = datetime.fromisoformat(b["created_time"]) + timedelta(seconds=rng.randint(2, 20))
    out = []
    for tag in tags:
        median, sigma, lo, hi = DURATIONS[tag]
        minutes = min(hi, max(lo, math.exp(math.log(median) + sigma * rng.gauss(0, 1))))
        restore = tag.endswith("_restore")
        failed = rng.random() < (0.10 if restore and not active else 0.08 if not restore and active else 0.0)
        if failed:
            minutes *= rng.uniform(0.1, 0.6)  # stops part way
        end = start + timedelta(seconds=round(minutes * 60))
        out.append(_job(rng, c, b["id"], tag, start, end, 1 if failed else 0))
        if failed:
            break  # a failed restore renders nothing
        start = end + timedelta(seconds=rng.randint(1, 5))
    return out


def _running(seed: int, c: dict) -> dict:
    rng = random.Random(f"{seed}:{c['guid']}:run")
    start = datetime.fromisoformat(c["last_deployed_time"]) + timedelta(minutes=rng.randint(5, 600))
    return _job(rng, c, c["bundle_id"], RUN_TAGS[c["app_mode"]], start, None, None)


def _job(rng: random.Random, c: dict, bundle_id: str, tag: str, start, end, exit_code) -> dict:
    key = "".join(rng.choices(string.ascii_letters + string.digits, k=16))
    return {
        "id": str(rng.randint(10_000, 9_999_999)), "ppid": None, "pid": str(rng.randint(1000, 60000)),
        "key": key, "remote_id": None, "app_id": c["id"], "content_id": c["id"], "content_guid": c["guid"],
        "variant_id": "0", "variant_key": "", "bundle_id": bundle_id, "start_time": _ts(start),
        "end_time": _ts(end) if end is not None else None,
        "last_heartbeat_time": _ts(end if end is not None else start), "queued_time": None, "queue_name": None,
        "tag": tag, "exit_code": exit_code, "error": None, "status": 0 if end is None else 2,
        "hostname": "connect-sim", "cluster": "Local", "image": "Local",
        "run_as": c.get("run_as") or "rstudio-connect", "skip_reason": None,
    }


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
