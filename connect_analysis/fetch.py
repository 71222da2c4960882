"""Fetch a Connect server into a snapshot directory (or refresh one incrementally).

    fetch_snapshot(server=None, out="snap", days=90) -> manifest dict

Every dataset is read concurrently; per-content calls and usage time slices share one
bounded pool of `workers` requests in flight. A dataset the key may not read, or the
server does not offer, is listed in manifest["unavailable"] with the reason; any other
failure stops the fetch and leaves a previous snapshot in `out` exactly as it was
(the snapshot is written to a temporary directory and renamed into place).

Refreshing: when `out` already holds a snapshot of the same server, only usage newer
than it holds is read (plus every other list, which is cheap), and the result is the
same as a fresh full fetch with the same window end.

This module is the order of a fetch (the window, the first requests, the manifest);
fetch_datasets.py reads each dataset, and refresh.py holds what a refresh reuses.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from . import __version__, _bounds
from ._process import fetch_tuning
from .api import content as content_api
from .api import usage as usage_api
from .api import users as users_api
from .client import Client, Version
from .errors import ConfigError, NotConnectError
from .fetch_datasets import Datasets
from .fetch_jobs import jobs_mode
from .limiter import AdaptiveLimit, FixedLimit
from .options import JOBS_DEFAULT
from .refresh import Previous, load_previous, load_previous_content, previous_snapshot
from .snapshot import MANIFEST, SnapshotWriter, recover
from .timestamps import utc_second

__all__ = ["fetch_snapshot"]


def fetch_snapshot(server: str | None = None, out: str | Path = "snap", days: int = 90,
                   since: str | datetime | None = None, quiet: bool = True, workers: int | None = None,
                   api_key: str | None = None, now: datetime | None = None,
                   bundle_history: bool | None = None, max_workers: int = 32, jobs: str = JOBS_DEFAULT) -> dict:
    """Fetch a server into the snapshot directory `out` and return its manifest.

    server / api_key default to CONNECT_SERVER / CONNECT_API_KEY. The usage window
    ends at `now` (default: the current time, to the second) and starts `days` days
    earlier, or at `since` (a date or timestamp; UTC when it has no offset).
    bundle_history: read every bundle of every item (bundles.parquet); None reads it
    only on servers without the storage endpoints, which need it for storage figures.
    workers: a fixed number of requests in flight; None (the default) adapts it to the
    server's response times (limiter.AdaptiveLimit), up to max_workers.
    jobs: whose build jobs to read, "sample" or "all" (fetch_jobs.py; manifest["jobs"] says).
    While it runs it holds connect_analysis._process.fetch_tuning() (Arrow allocating with
    malloc; CONNECT_ANALYSIS_TUNING=0 turns it off), restored when it returns or raises.
    """
    started = time.monotonic()
    for name, n in (("--workers", workers), ("--max-workers", max_workers)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ConfigError(f"{name} must be a whole number of at least 1, got {n!r}")
    jobs = jobs_mode(jobs)
    end = _window_end(now)
    start = _window_start(end, days, since)
    out = recover(out)  # absolute, a symlink followed; what a killed fetch left undone
    limit = FixedLimit(workers) if workers is not None else AdaptiveLimit(max_limit=max_workers)
    client = Client(server, api_key, limiter=limit)
    with (client, fetch_tuning(),
          ThreadPoolExecutor(max_workers=4, thread_name_prefix="start") as early, _bounds.aborting(client)):
        previous, content, settings, version, me = _begin(client, out, early)
        writer = SnapshotWriter(out)  # each table is written as soon as it is read
        try:
            # threads: limit.max_limit, the most requests that may ever be in flight
            run = Datasets(client, version, limit.max_limit, quiet, start, end, previous, bundle_history, writer,
                           content, jobs)
            run.all()
            writer.commit(_manifest(client, version, (start, end), me, run, started), settings)
        except BaseException:
            writer.abort()
            raise
    return json.loads((out / MANIFEST).read_text())


def _begin(client: Client, out: Path, early: ThreadPoolExecutor) -> tuple[Previous, Future, dict, Version | None, dict]:
    """Start the fetch: the content list (the longest request) and the previous snapshot's
    tables (read from disk while the network works) on `early`, then the server's settings and
    the key's user. Returns (previous, content list future, settings, version, user);
    NotConnectError when the server is not Connect."""
    seed = previous_snapshot(out, client.server)
    loaded, previous_content = (early.submit(load_previous, seed and out),
                                early.submit(load_previous_content, seed and out))
    me_ = early.submit(users_api.fetch_me, client)
    # the longest request, at once; a refresh knows the server's version from last time
    known = Version.parse((seed or {}).get("server_version"))
    content = early.submit(content_api.fetch_content, client, known, previous_content.result)
    settings = client.server_settings()  # first: its error is the clearest one
    version = Version.parse(settings.get("version"))
    if "vanity_url" in content_api.include(version) and "vanity_url" not in content_api.include(known):
        # upgraded since the previous snapshot: ask for what this version offers (an older
        # server's 400 to vanity_url already gets the list asked for again without it)
        content = early.submit(content_api.fetch_content, client, version, previous_content.result)
    me = me_.result()
    if not me.get("guid"):  # any JSON API answers 200 somewhere; only Connect knows the key's user
        raise NotConnectError(f"{client.server} answers, but not as a Posit Connect server "
                              "(GET /__api__/v1/user gave no user); check --server / CONNECT_SERVER")
    return Previous(out, seed, loaded), content, settings, version, me


def _manifest(client: Client, version: Version | None, window: tuple[datetime, datetime], me: dict,
              run: Datasets, started: float) -> dict:
    """The manifest of a fetch that read every dataset (SnapshotWriter.commit adds the rest)."""
    return {
        "server": client.server,
        "server_version": (str(version) if version else None),
        "window": {"start": usage_api.iso(window[0]), "end": usage_api.iso(window[1])},
        "fetched_at": usage_api.iso(datetime.now(UTC)),
        "kit_version": __version__,
        "key_role": me.get("user_role"),
        "scope": _scope(me.get("user_role")),
        "unavailable": dict(sorted(run.unavailable.items())),
        "refresh": run.refresh,
        "sources": run.sources,
        "jobs": run.jobs_read,
        "system_storage": run.system_storage,
        "requests": client.request_count,
        "concurrency": client.limiter.summary(),
        "retries": client.retry_count,
        "invalid_utf8_replaced": client.invalid_utf8,
        "seconds": round(time.monotonic() - started, 2),
    }


def _scope(role: str | None) -> str:
    """What the snapshot covers, in words, for the key's role."""
    if role == "administrator":
        return "the whole server"
    return (f"only what this {role or 'non-administrator'} key may see: the content it can view, and usage "
            "of the content it owns or collaborates on; use an administrator's key for the whole server")


def _window_end(now: datetime | None) -> datetime:
    return utc_second(now if now is not None else datetime.now(UTC))


MAX_DAYS = 36_500  # a hundred years: Connect's usage cannot be older


def _window_start(end: datetime, days, since) -> datetime:
    if since is not None:
        try:
            start = utc_second(pd.Timestamp(since).to_pydatetime())
        except (ValueError, TypeError, OverflowError):
            raise ConfigError(f"--since must be a date such as 2025-01-31, got {since!r}") from None
        if start.year < 1970:
            raise ConfigError(f"--since must be a date from 1970 on, got {since!r}")
        if start > end:
            raise ConfigError(f"--since {since} is in the future")
        return start
    if not isinstance(days, int | float) or not 0 < days <= MAX_DAYS:
        raise ConfigError(f"--days must be a number of days from 1 to {MAX_DAYS}, got {days!r}")
    return end - timedelta(days=days)
