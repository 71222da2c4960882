"""The jobs dataset of a fetch (fetch._Run.jobs): build and restore jobs of every deployed
item, or on a refresh only of the items api/jobs.py names, the rest kept from the previous
snapshot. Unavailable (old server, key without permission) is recorded with the reason."""

from __future__ import annotations

import pandas as pd

from .api import jobs as jobs_api
from .errors import SnapshotError
from .progress import bar
from .snapshot import load_snapshot


def fetch_jobs_dataset(run) -> None:
    """Read the jobs table for `run` (a fetch._Run) and put it in its snapshot."""
    content = run._content()
    if "content" in run.unavailable:
        run.unavailable["jobs"] = "needs the content list, which this key may not read"
        return
    deployed = [g for g, b in zip(content["guid"], content["bundle_id"], strict=True) if not pd.isna(b)]
    reuse = run._reusable("jobs", jobs_api.SOURCE)
    old = _previous_jobs(run) if reuse is not None else None
    read = deployed if old is None else jobs_api.to_read_again(deployed, old, reuse[0])
    progress = bar("jobs", len(read), run.quiet)

    def get():
        with progress:
            fresh, refused = jobs_api.fetch_jobs(run.client, read, run.pool, on_item=progress.update)
        if refused and len(refused) == len(read):
            raise refused[0]  # none readable: unavailable, with the server's reason
        run._put(jobs=fresh if old is None else jobs_api.merged(old, fresh, read, deployed))
        run.sources["jobs"] = jobs_api.SOURCE
        if refused:
            run.unavailable["jobs"] = (f"{len(refused)} of {len(read)} content items' jobs could not be read "
                                       f"with this key: {refused[0]}")
    run._guard(get, "jobs")


def _previous_jobs(run) -> pd.DataFrame | None:
    try:
        return load_snapshot(run._out, tables=["jobs"]).jobs
    except SnapshotError:
        return None
