"""The jobs dataset of a fetch (fetch_datasets.Datasets.jobs): build and restore jobs of the items `--jobs`
names (sample: analysis.jobs.jobs_sample; all: every deployed item), or on a refresh only of
those api/jobs.py names, the rest kept from the previous snapshot. Unavailable (old server,
key without permission) is recorded with the reason.

The manifest's `jobs` says how they were read: {mode, per_runtime, items (whose jobs the table
holds), of (deployed items), read (requested by this fetch), guids (the items, when not all)}.
"""

from __future__ import annotations

from .api import jobs as jobs_api
from .errors import ConfigError
from .options import JOBS_MODES, JOBS_PER_RUNTIME
from .progress import bar


def jobs_mode(mode) -> str:
    """mode when it is one of JOBS_MODES, else ConfigError."""
    if mode not in JOBS_MODES:
        raise ConfigError(f"--jobs must be one of {', '.join(JOBS_MODES)}, got {mode!r}")
    return mode


def fetch_jobs_dataset(run, mode: str) -> dict | None:
    """Read the jobs table for `run` (a fetch_datasets.Datasets) and put it in its snapshot; returns the
    manifest's `jobs` record (None when the jobs could not be read)."""
    # imported here: the analysis package loads while the content list is read
    from .analysis.jobs import jobs_sample

    content = run._content()
    if "content" in run.unavailable:
        run.unavailable["jobs"] = "needs the content list, which this key may not read"
        return None
    deployed = content.loc[content["bundle_id"].notna(), "guid"].tolist()
    wanted = deployed if mode == "all" else jobs_sample(content)
    reuse = run._reusable("jobs", jobs_api.SOURCE)
    covered = _covered_before(run) if reuse is not None else None
    old = run.previous.table("jobs") if covered is not None else None
    read = wanted if old is None else jobs_api.to_read_again(wanted, old, reuse[0], covered)
    progress = bar("jobs", len(read), run.quiet)
    record = {"mode": mode, "per_runtime": JOBS_PER_RUNTIME, "items": len(wanted), "of": len(deployed),
              "read": len(read), **({"guids": wanted} if len(wanted) < len(deployed) else {})}

    def get():
        with progress:
            fresh, refused = jobs_api.fetch_jobs(run.client, read, run.pool, on_item=progress.update)
        if refused and len(refused) == len(read):
            raise refused[0]  # none readable: unavailable, with the server's reason
        run._put(jobs=fresh if old is None else jobs_api.merged(old, fresh, read, wanted))
        run.sources["jobs"] = jobs_api.SOURCE
        if refused:
            run.unavailable["jobs"] = (f"{len(refused)} of {len(read)} content items' jobs could not be read "
                                       f"with this key: {refused[0]}")
    return record if run._guard(get, "jobs") else None


def _covered_before(run) -> set[str] | None:
    """The items whose jobs the previous snapshot holds: its sample, else (all, or an earlier
    kit's snapshot without the record) every item deployed then; None when its record is unreadable."""
    prev = run.previous.snapshot
    record = prev.manifest.get("jobs")
    if record is None or (isinstance(record, dict) and "guids" not in record and record.get("mode") in JOBS_MODES):
        previous = prev.content
        return set(previous.loc[previous["bundle_id"].notna(), "guid"])
    guids = record.get("guids") if isinstance(record, dict) else None
    if isinstance(guids, list) and all(isinstance(g, str) for g in guids):
        return set(guids)
    return None

