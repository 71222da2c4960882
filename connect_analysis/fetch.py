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
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import __version__, _bounds, _snapdir, schema
from ._process import fetch_tuning
from .api import content as content_api
from .api import packages as packages_api
from .api import runtimes as runtimes_api
from .api import storage as storage_api
from .api import usage as usage_api
from .api import users as users_api
from .api._rows import frame
from .client import Client, Version
from .errors import (
    ConfigError,
    ConnectError,
    NotConnectError,
    NotFoundError,
    PermissionError_,
    SnapshotError,
    UnsupportedError,
)
from .fetch_jobs import fetch_jobs_dataset, jobs_mode
from .limiter import AdaptiveLimit, FixedLimit
from .options import JOBS_DEFAULT
from .progress import bar
from .snapshot import (
    FORMAT,
    MANIFEST,
    Snapshot,
    SnapshotWriter,
    file_metadata,
    has_schema,
    kit_files,
    load_snapshot,
    read_encoded,
    recover,
    same_table,
)

__all__ = ["fetch_snapshot"]

log = logging.getLogger(__name__)

# The first Connect version with each optional endpoint (for "unavailable" reasons).
NEEDS = {"environments": "2023.05.0", "packages": "2024.11.0", "content_storage": "2026.06.0",
         "jobs": "2022.10.0"}


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
    workers = limit.max_limit  # threads: the most requests that may ever be in flight
    client = Client(server, api_key, limiter=limit)
    with (client, fetch_tuning(),
          ThreadPoolExecutor(max_workers=4, thread_name_prefix="start") as early, _bounds.aborting(client)):
        seed = _previous_snapshot(out, client.server)
        # read from disk while the network works
        previous, previous_content = (early.submit(_load_previous, seed and out),
                                      early.submit(_load_previous_content, seed and out))
        me_ = early.submit(users_api.fetch_me, client)
        # the longest request, at once; a refresh knows the server's version from last time
        known = Version.parse((seed or {}).get("server_version"))
        content_ = early.submit(content_api.fetch_content, client, known, previous_content.result)
        settings = client.server_settings()  # first: its error is the clearest one
        version = Version.parse(settings.get("version"))
        if "vanity_url" in content_api.include(version) and "vanity_url" not in content_api.include(known):
            # upgraded since the previous snapshot: ask for what this version offers (an older
            # server's 400 to vanity_url already gets the list asked for again without it)
            content_ = early.submit(content_api.fetch_content, client, version, previous_content.result)
        me = me_.result()
        if not me.get("guid"):  # any JSON API answers 200 somewhere; only Connect knows the key's user
            raise NotConnectError(f"{client.server} answers, but not as a Posit Connect server "
                                  "(GET /__api__/v1/user gave no user); check --server / CONNECT_SERVER")
        writer = SnapshotWriter(out)  # each table is written as soon as it is read
        try:
            run = _Run(client, version, workers, quiet, start, end, (out, seed, previous), bundle_history, writer,
                       content_, jobs)
            run.all()
            manifest = {
                "server": client.server,
                "server_version": (str(version) if version else None),
                "window": {"start": usage_api.iso(start), "end": usage_api.iso(end)},
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
            writer.commit(manifest, settings)
        except BaseException:
            writer.abort()
            raise
    return json.loads((out / MANIFEST).read_text())


def _scope(role: str | None) -> str:
    """What the snapshot covers, in words, for the key's role."""
    if role == "administrator":
        return "the whole server"
    return (f"only what this {role or 'non-administrator'} key may see: the content it can view, and usage "
            "of the content it owns or collaborates on; use an administrator's key for the whole server")


def _window_end(now: datetime | None) -> datetime:
    end = now if now is not None else datetime.now(UTC)
    if isinstance(end, str):
        end = pd.Timestamp(end).to_pydatetime()
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    return end.astimezone(UTC).replace(microsecond=0)


MAX_DAYS = 36_500  # a hundred years: Connect's usage cannot be older


def _window_start(end: datetime, days, since) -> datetime:
    if since is not None:
        try:
            ts = pd.Timestamp(since)
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            start = ts.to_pydatetime().replace(microsecond=0)
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


def _previous_snapshot(out: Path, server: str) -> dict | None:
    """The manifest of the snapshot in `out` when it is one of this server's, which can
    seed an incremental refresh.

    Refuses (ConfigError) to replace a directory that holds anything else.
    """
    if not out.exists():
        return None
    if not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a directory")
    if not any(out.iterdir()):
        return None
    try:
        manifest = json.loads((out / MANIFEST).read_text())
        ours = isinstance(manifest, dict) and manifest.get("format") == FORMAT
    except (OSError, ValueError):
        ours = False
    if not ours:
        raise ConfigError(f"--out {out} holds files that are not a connect-analysis snapshot; "
                          "choose a new or empty directory")
    _snapdir.check_manifest(manifest, out / MANIFEST)
    theirs = _snapdir.foreign(out, manifest.get("files") or kit_files())
    if theirs:
        raise ConfigError(f"--out {out} holds files the kit did not write ({', '.join(theirs[:4])}"
                          f"{', ...' if len(theirs) > 4 else ''}); a fetch replaces the whole directory: "
                          "move them out or choose another --out")
    if manifest.get("server") != server:
        return None  # another server's snapshot: replaced by a full fetch
    return manifest


# How shiny_sessions.parquet was read (manifest["sources"]); a refresh reuses only such a file.
SESSIONS_RULE = "sessions overlapping the window: started <= end and (open or ended >= start)"
_EPOCH = datetime(1678, 1, 1, tzinfo=UTC)  # before any session (pandas timestamps start in 1677)

# What a refresh reuses of the previous snapshot besides usage; every other table is read anew.
REUSED = {"content": ["guid", "bundle_id", "last_deployed_time"], "content_storage": None}  # packages
# only when some item was deployed since


def _load_previous(out: Path | None) -> tuple[Snapshot, dict[str, pa.Table]] | None:
    """The previous snapshot's REUSED tables and its usage (text dictionary-encoded, for
    put_parts); None when it cannot be read (a full fetch replaces it)."""
    if out is None:
        return None
    try:  # usage first: the largest table to write, and ready for it as soon as the newer usage is read
        usage = {t: read_encoded(out / f"{t}.parquet", t) for t in usage_api.TIME_FIELD}
        return load_snapshot(out, columns={t: c for t, c in REUSED.items() if c}, tables=list(REUSED),
                             threads=False), usage
    except SnapshotError:
        return None


def _load_previous_content(out: Path | None) -> content_api.ContentList | None:
    """The previous content list with its items' digests, when they can be reused (its two
    files then are sound, and can be kept as they are)."""
    if out is None or not all(has_schema(out / f"{t}.parquet", t) for t in ("content", "content_tags")):
        return None
    try:
        snap = load_snapshot(out, tables=["content", "content_tags"], threads=False)
    except SnapshotError:
        return None
    return content_api.ContentList.previous(snap.content, snap.content_tags, file_metadata(out / "content.parquet"))


def _among(column: pd.Series, values) -> np.ndarray:
    """column.isin(values) for a column of strings, in Arrow: pandas converts every value
    of `values` one at a time (~0.3 s for 20,000 of them)."""
    array = pa.array(column)
    wanted = pa.array([v for v in values if isinstance(v, str)], type=array.type)
    return pc.is_in(array, value_set=wanted).to_numpy(zero_copy_only=False)


def _between(table: pa.Table, column: str, lo: datetime, hi: datetime) -> pa.Table:
    """Rows with lo <= table[column] < hi: a slice, not a copy, when the column is sorted (usage is)."""
    t = table[column]
    edges = pa.scalar(pd.Timestamp(lo), t.type), pa.scalar(pd.Timestamp(hi), t.type)
    if t.null_count == 0:
        ns = t.combine_chunks().cast(pa.int64()).to_numpy()
        if len(ns) < 2 or bool((ns[1:] >= ns[:-1]).all()):
            first, last = np.searchsorted(ns, [e.cast(pa.int64()).as_py() for e in edges])
            return table.slice(first, last - first)
    return table.filter(pc.and_(pc.greater_equal(t, edges[0]), pc.less(t, edges[1])))


def _running_at(table: pa.Table, at: datetime) -> pa.Table:
    """Sessions that started at or after `at`, or before it and ended at or after it (not
    those still open then: open sessions are always read again)."""
    t = pa.scalar(pd.Timestamp(at), table["started"].type)
    keep = pc.or_kleene(pc.greater_equal(table["started"], t), pc.greater_equal(table["ended"], t))
    return table.filter(pc.fill_null(keep, False))


def _deploys(content: pd.DataFrame) -> pa.Array:
    """One "guid bundle-id deploy-time" text per item, to tell which were deployed since."""
    parts = [pa.array(content["guid"]), pa.array(content["bundle_id"]),
             pc.cast(pa.array(content["last_deployed_time"]).cast(pa.int64()), pa.large_string())]
    return pc.binary_join_element_wise(*[pc.fill_null(p, "") for p in parts], pa.scalar(" ", pa.large_string()))


def _reason(e: ConnectError, dataset: str, version: Version | None) -> str:
    if isinstance(e, UnsupportedError) and dataset in NEEDS:
        have = f"this server is {version}" if version else "this server hides its version"
        return f"needs Connect {NEEDS[dataset]} or later ({have}): {e}"
    return str(e)


class _Run:
    """One fetch: runs every dataset, collects tables, unavailable reasons and sources."""

    SKIPPABLE = (PermissionError_, UnsupportedError, NotFoundError)

    def __init__(self, client: Client, version: Version | None, workers: int, quiet: bool,
                 start: datetime, end: datetime, previous: tuple[Path, dict | None, Future],
                 bundle_history: bool | None, writer: SnapshotWriter, content: Future, jobs_mode: str):
        self.client, self.version, self.workers, self.quiet = client, version, workers, quiet
        self.start, self.end = start, end
        self._out, self._seed_manifest, self._previous = previous
        self.bundle_history, self.writer, self._content_read = bundle_history, writer, content
        self._content_table = schema.empty("content")  # the one table other datasets read
        self.jobs_mode, self.jobs_read = jobs_mode, None  # --jobs; manifest["jobs"]
        self.unavailable: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self._usage_from: dict[str, datetime] = {}  # where each usage table was read from
        self.system_storage: dict | None = None
        self._lock = threading.Lock()
        self._content_ready = threading.Event()
        self._changed: list[str] | None = None  # guids deployed or added since the previous snapshot
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")

    def all(self) -> None:
        # the long ones first: the shared pool serves their requests first
        steps = [self.content, self.visits, self.shiny_sessions, self.users, self.groups, self.tags, self.vanities,
                 self.server_runtimes, self.environments, self.runtime_caches, self.storage_and_bundles,
                 self.packages, self.jobs]
        with ThreadPoolExecutor(max_workers=len(steps), thread_name_prefix="dataset") as datasets:
            futures = [datasets.submit(self._timed, step) for step in steps]
            try:
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            except BaseException:  # Ctrl-C, SIGTERM: stop every request now, then the threads
                self.client.cancel("the fetch was interrupted")
                self._content_ready.set()
                self.pool.shutdown(wait=False, cancel_futures=True)
                raise
            failed = next((f for f in done if f.exception() is not None), None)
            if failed is not None:
                self.client.cancel("the fetch stopped after an earlier error")
                self._content_ready.set()
                self.pool.shutdown(wait=True, cancel_futures=True)
                wait(futures)
                raise failed.exception()
        self.pool.shutdown(wait=True)

    # --- helpers --------------------------------------------------------------------

    def _timed(self, step) -> None:
        t0 = time.monotonic()
        try:
            step()
        finally:
            log.debug("%s: %.2f s", step.__name__, time.monotonic() - t0)

    def _put(self, **tables: pd.DataFrame) -> None:
        """Write tables (in the background); none is kept in memory."""
        for name, df in tables.items():
            self.writer.put(name, df)

    def _skip(self, e: ConnectError, *datasets: str) -> None:
        with self._lock:
            for d in datasets:
                self.unavailable[d] = _reason(e, d, self.version)

    def _guard(self, fn, *datasets: str) -> bool:
        """Run fn; a dataset the key may not read or the server lacks becomes "unavailable"."""
        try:
            fn()
            return True
        except self.SKIPPABLE as e:
            self._skip(e, *datasets)
        except ConnectError as e:
            if e.status not in (400, 402, 409):  # e.g. groups turned off on this server
                raise
            self._skip(e, *datasets)
        return False

    @property
    def refresh(self) -> dict:
        """How the fetch went: a full read, or a refresh of the previous snapshot (the usage
        read from where it ended)."""
        if self.previous is None:  # none, or unreadable: all read anew
            return {"mode": "full", "usage_from": {t: usage_api.iso(self.start) for t in self._usage_from}}
        return {"mode": "incremental" if any(t > self.start for t in self._usage_from.values()) else "full",
                "usage_from": {t: usage_api.iso(v) for t, v in self._usage_from.items()}}

    @property
    def previous(self) -> Snapshot | None:
        """The snapshot being refreshed (None for a full fetch); loaded in the background."""
        loaded = self._previous.result()
        return loaded and loaded[0]

    def _content(self) -> pd.DataFrame:
        self._content_ready.wait()
        return self._content_table

    # --- datasets -------------------------------------------------------------------

    def content(self):
        try:
            def get():
                listed = self._content_read.result()  # started before the server's version was known
                if listed.missing:  # the server ignored include=: owners and tags another way
                    listed, how = content_api.fill_missing(self.client, listed, self.pool)
                    self.sources.update(how)
                self._content_table = listed.content
                if listed.unchanged:  # the previous files, read through as they were loaded
                    self.writer.copy("content", self._out / "content.parquet", len(listed.content))
                    self.writer.copy("content_tags", self._out / "content_tags.parquet", len(listed.tags))
                else:
                    self.writer.put("content", listed.content, listed.metadata())
                    self.writer.put("content_tags", listed.tags)
            self._guard(get, "content", "content_tags")
        finally:
            self._content_ready.set()

    def users(self):
        self._guard(lambda: self._put(users=users_api.fetch_users(self.client, self.pool)), "users")

    def groups(self):
        self._guard(lambda: self._put(groups=users_api.fetch_groups(self.client, self.pool)), "groups")

    def tags(self):
        self._guard(lambda: self._put(tags=content_api.fetch_tags(self.client)), "tags")

    def vanities(self):
        self._guard(lambda: self._put(vanities=content_api.fetch_vanities(self.client)), "vanities")

    def server_runtimes(self):
        def get():
            rows, missing = runtimes_api.fetch_server_runtimes(self.client)
            self._put(server_runtimes=rows)
            if missing:
                self.sources["server_runtimes"] = f"no endpoint on this server for: {', '.join(missing)}"
        self._guard(get, "server_runtimes")

    def environments(self):
        def get():
            envs, runtimes = runtimes_api.fetch_environments(self.client)
            self._put(environments=envs, environment_runtimes=runtimes)
        self._guard(get, "environments", "environment_runtimes")

    def runtime_caches(self):
        self._guard(lambda: self._put(runtime_caches=runtimes_api.fetch_runtime_caches(self.client)),
                    "runtime_caches")

    def visits(self):
        self._guard(lambda: self._usage("visits", usage_api.fetch_visits), "visits")

    def shiny_sessions(self):
        self._guard(lambda: self._usage("shiny_sessions", usage_api.fetch_shiny_sessions), "shiny_sessions")

    def storage_and_bundles(self):
        """content_storage from the storage endpoints where they exist, else summed from
        per-item bundle lists; bundles.parquet per `bundle_history`."""
        def probe():
            self.system_storage = storage_api.fetch_system_storage(self.client)
            storage = self._content_storage()
            if storage is not None:  # None: the previous file was kept
                self._put(content_storage=storage)
            self.sources["content_storage"] = "storage endpoints"
        has_storage = self._guard(probe, "content_storage")
        if has_storage:
            if not self.bundle_history:
                self.unavailable["bundles"] = (
                    "not read: this server has the storage endpoints, so per-bundle history was skipped "
                    "(content_storage holds the bytes); fetch with --bundle-history to read it")
                return
        elif self.bundle_history is False:
            self.unavailable["bundles"] = "not read: --no-bundle-history"
            return
        content = self._content()
        if "content" in self.unavailable:
            self.unavailable["bundles"] = "needs the content list, which this key may not read"
            return
        bundles = self._bundles(list(content["guid"]))
        self._put(bundles=bundles)
        if not has_storage:
            self.unavailable.pop("content_storage", None)
            self._put(content_storage=content_api.storage_from_bundles(bundles, content["guid"]))
            self.sources["content_storage"] = "summed from per-item bundle lists"

    def _content_storage(self) -> pd.DataFrame | None:
        """/v1/content/storage; on a refresh, only the items deployed since, when the
        server's totals then still add up (else the whole list again); None when nothing
        was deployed since and the previous file is kept."""
        reuse = self._reusable("content_storage", "storage endpoints")
        if reuse is not None:
            changed, content, unchanged = reuse
            old = self.previous.content_storage
            if unchanged and storage_api.adds_up(old, self.system_storage) and self._copy("content_storage"):
                return None
            if len(changed) <= max(50, len(content) // 20):
                rows = self.pool.map(lambda g: storage_api.fetch_one_content_storage(self.client, g), changed)
                df = pd.concat([old[~_among(old["content_guid"], changed)],
                                frame([r for r in rows if r], "content_storage")], ignore_index=True)
                df = df[_among(df["content_guid"], content["guid"])]
                if storage_api.adds_up(df, self.system_storage):
                    return storage_api.sort_storage(df)
        return storage_api.fetch_content_storage(self.client, self.pool)

    def _reusable(self, table: str, source: str):
        """(guids deployed or added since, content, whether no item was deployed, added or
        removed since) when `table` of the previous snapshot was read the same way and
        can be patched; else None."""
        prev = self.previous
        if prev is None or table in prev.unavailable or prev.manifest.get("sources", {}).get(table) != source:
            return None
        content = self._content()
        if "content" in self.unavailable or "content" in prev.unavailable:
            return None
        with self._lock:
            if self._changed is None:
                new = _deploys(content)
                self._changed = content["guid"][~pc.is_in(new, value_set=_deploys(prev.content)).to_numpy(
                    zero_copy_only=False)].tolist()
        return self._changed, content, not self._changed and len(content) == len(prev.content)

    def _copy(self, table: str) -> bool:
        """Keep the previous snapshot's file of an unchanged table, when it is sound."""
        src = self._out / f"{table}.parquet"
        rows = same_table(src, table)
        if rows is None:
            return False
        self.writer.copy(table, src, rows)
        return True

    def _previous_packages(self) -> pd.DataFrame | None:
        """The previous snapshot's packages (not in REUSED: read only when some item changed)."""
        try:
            return load_snapshot(self._out, tables=["packages"]).packages
        except SnapshotError:
            return None

    def _bundles(self, guids: list[str]) -> pd.DataFrame:
        progress = bar("bundles", len(guids), self.quiet)
        refused: list[PermissionError_] = []
        unread: set[str] = set()  # refused, or gone since the content list

        def one(guid):
            try:
                rows = content_api.fetch_bundles(self.client, guid)
                if rows is None:
                    unread.add(guid)
                return rows or []
            except PermissionError_ as e:
                refused.append(e)
                unread.add(guid)
                return []
            finally:
                progress.update()

        with progress:
            rows = [r for part in self.pool.map(one, guids) for r in part]
        if refused:
            self.unavailable["bundles"] = (f"{len(refused)} of {len(guids)} content items' bundles could not "
                                           f"be read with this key: {refused[0]}")
        frame = content_api.bundle_frame(rows)
        self._check_bundles(frame, {r["content_guid"] for r in rows if not r["complete"]}, unread)
        return frame.sort_values(["content_guid", "bundle_id"], kind="stable").reset_index(drop=True)

    def _check_bundles(self, frame: pd.DataFrame, incomplete: set[str], unread: set[str]) -> None:
        """Say in the manifest how bundle lists were read, and which look cut short."""
        content = self._content()
        short = content_api.cut_short(frame, content[~_among(content["guid"], unread)], incomplete)
        self.sources["bundles"] = "/v1/content/{guid}/bundles, every page (page_size=500, page_number)"
        if short:
            self.sources["bundles"] += (f"; {len(short)} item(s) look cut short (a page missing, or the active "
                                        f"bundle not listed), so their storage may be undercounted: "
                                        f"{', '.join(short[:5])}{' ...' if len(short) > 5 else ''}")
            log.warning("bundle lists of %d content items look cut short", len(short))

    def packages(self):
        content = self._content()
        if "content" in self.unavailable:
            self.unavailable["packages"] = "needs the content list, which this key may not read"
            return
        reuse = self._reusable("packages", "/v1/packages")
        if reuse is not None and reuse[2] and self._copy("packages"):
            self.sources["packages"] = "/v1/packages"
            return
        old = self._previous_packages() if reuse is not None else None
        if old is not None and len(reuse[0]) <= max(50, len(content) // 20):
            # packages belong to a bundle: only items deployed since need reading again
            changed = reuse[0]
            deployed = set(content.loc[content["bundle_id"].notna(), "guid"])
            fresh = packages_api.fetch_packages_per_content(self.client, [g for g in changed if g in deployed],
                                                            self.pool)
            kept = old[_among(old["content_guid"], deployed) & ~_among(old["content_guid"], changed)]
            # the previous table was tidy, and so is every subset of it
            self._put(packages=packages_api.tidy(pd.concat([kept, fresh], ignore_index=True)) if len(fresh)
                      else kept.reset_index(drop=True))
            self.sources["packages"] = "/v1/packages"
            return
        try:
            self._put(packages=packages_api.fetch_all_packages(self.client, content, self.pool))
            self.sources["packages"] = "/v1/packages"
            return
        except UnsupportedError as e:
            if self.version is not None and not self.version.at_least(NEEDS["packages"]):
                self._skip(e, "packages")
                return
        except PermissionError_:
            pass  # non-administrators: ask item by item for what they may see
        deployed = [g for g, b in zip(content["guid"], content["bundle_id"], strict=True) if not pd.isna(b)]
        progress = bar("packages", len(deployed), self.quiet)

        def get():
            with progress:
                self._put(packages=packages_api.fetch_packages_per_content(
                    self.client, deployed, self.pool, on_item=progress.update))
            self.sources["packages"] = "/v1/content/{guid}/packages"
        self._guard(get, "packages")

    def jobs(self):
        self.jobs_read = fetch_jobs_dataset(self, self.jobs_mode)

    # --- usage ----------------------------------------------------------------------

    def _usage(self, table: str, fetch) -> None:
        """Usage for the window; from a previous snapshot, only what is newer than it holds.
        Shiny sessions begun before the window and still running in it (the overlap rule)
        come with the first part of the window read, or from the previous snapshot."""
        progress = bar(table.replace("_", " "), None, self.quiet, unit="slice")
        kw = {"pool": self.pool, "workers": self.workers, "on_slice": progress.update}
        shiny = table == "shiny_sessions"

        def read(lo, hi, earlier, **more):
            return fetch(self.client, lo, hi, **kw, **more, **({"earlier": earlier} if shiny else {}))

        seed = self._seed(table)
        if seed is not None and max(seed[1], self.start) < seed[0]:
            seed = None  # a session open last time began before the old window: read all anew
        if shiny:
            self.sources[table] = SESSIONS_RULE
        with progress:
            if seed is None:
                self._usage_from[table] = self.start
                self._put(**{table: read(self.start, self.end, True)})
                return
            old_start, resume = seed
            resume = max(resume, self.start)
            older = (read(self.start, old_start, True, end_inclusive=False)
                     if self.start < old_start else None)  # a longer window than last time
            kept_earlier = older is None and resume > self.start  # else another part reads them

            def kept():  # the previous rows still in the window, loaded meanwhile
                loaded = self._previous.result()
                lo = max(self.start, old_start)
                if loaded is None:  # unreadable after all: read what it held from the server
                    return read(lo, resume, kept_earlier, end_inclusive=False)
                rows = loaded[1][table]
                if shiny and kept_earlier:
                    return _running_at(_between(rows, "started", _EPOCH, resume), self.start)
                return _between(rows, usage_api.TIME_FIELD[table], lo, resume)

            newer = Future()
            self._usage_from[table] = resume
            # consecutive time ranges, each already in sort_usage's order: written in turn, no re-sort
            self.writer.put_parts(table, ([] if older is None else [lambda: older]) + [kept, newer.result])
            try:
                newer.set_result(read(resume, self.end, resume == self.start))
            except BaseException as e:
                newer.set_exception(e)
                raise

    def _seed(self, table: str):
        """(previous window start, time to re-read from) or None for a full read; from the
        previous manifest, so that reading newer usage need not wait for the old rows."""
        manifest = self._seed_manifest
        if manifest is None or table in manifest.get("unavailable", {}):
            return None
        try:
            old_start = _window_end(manifest["window"]["start"])
            old_end = _window_end(manifest["window"]["end"])
        except (KeyError, TypeError, ValueError):
            return None
        if old_end > self.end or old_end < self.start:
            return None  # no overlap to reuse
        resume = old_end
        if table == "shiny_sessions":
            if manifest.get("sources", {}).get(table) != SESSIONS_RULE:
                return None  # an older kit's snapshot kept only sessions started in its window
            try:
                old = pd.read_parquet(self._out / "shiny_sessions.parquet", columns=["started", "ended"])
            except Exception:  # noqa: BLE001 - pyarrow raises several types for a damaged file
                return None
            open_ = old.loc[old["ended"].isna(), "started"]
            if len(open_):  # sessions open last time have ended since: read them again
                resume = min(resume, pd.Timestamp(open_.min()).to_pydatetime())
        return old_start, resume
