"""The datasets of one fetch (fetch.py starts it): each read from the server on its own thread,
their per-item and per-slice requests on one shared pool, each table written as soon as it
is read. A dataset the key may not read, or the server lacks, becomes "unavailable" with the
reason; on a refresh each keeps what refresh.Previous says it may.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import datetime

import pandas as pd

from . import schema
from .api import content as content_api
from .api import packages as packages_api
from .api import runtimes as runtimes_api
from .api import storage as storage_api
from .api import usage as usage_api
from .api import users as users_api
from .client import Client, Version
from .errors import ConnectError, NotFoundError, PermissionError_, UnsupportedError
from .fetch_jobs import fetch_jobs_dataset
from .progress import bar
from .refresh import (
    SESSIONS_RULE,
    Previous,
    among,
    patched_packages,
    patched_storage,
    worth_patching,
)
from .snapshot import SnapshotWriter

log = logging.getLogger(__name__)

# The first Connect version with each optional endpoint (for "unavailable" reasons).
NEEDS = {"environments": "2023.05.0", "packages": "2024.11.0", "content_storage": "2026.06.0",
         "jobs": "2022.10.0"}


def _reason(e: ConnectError, dataset: str, version: Version | None) -> str:
    if isinstance(e, UnsupportedError) and dataset in NEEDS:
        have = f"this server is {version}" if version else "this server hides its version"
        return f"needs Connect {NEEDS[dataset]} or later ({have}): {e}"
    return str(e)


class Datasets:
    """One fetch's datasets: reads every one, and collects unavailable reasons and sources."""

    SKIPPABLE = (PermissionError_, UnsupportedError, NotFoundError)

    def __init__(self, client: Client, version: Version | None, workers: int, quiet: bool,
                 start: datetime, end: datetime, previous: Previous,
                 bundle_history: bool | None, writer: SnapshotWriter, content: Future, jobs_mode: str):
        self.client, self.version, self.workers, self.quiet = client, version, workers, quiet
        self.start, self.end = start, end
        self.previous, self._out = previous, previous.out
        self.bundle_history, self.writer, self._content_read = bundle_history, writer, content
        self._content_table = schema.empty("content")  # the one table other datasets read
        self.jobs_mode, self.jobs_read = jobs_mode, None  # --jobs; manifest["jobs"]
        self.unavailable: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.usage_from: dict[str, datetime] = {}  # where each usage table was read from
        self.system_storage: dict | None = None
        self._lock = threading.Lock()
        self._content_ready = threading.Event()
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

    @property
    def refresh(self) -> dict:
        """manifest["refresh"] (refresh.Previous.record)."""
        return self.previous.record(self.usage_from, self.start)

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

    def _content(self) -> pd.DataFrame:
        self._content_ready.wait()
        return self._content_table

    def _reusable(self, table: str, source: str):
        """What of `table` a refresh may patch (refresh.Previous.reusable), or None."""
        def content():
            listed = self._content()
            return None if "content" in self.unavailable else listed
        return self.previous.reusable(table, source, content)

    def _copy(self, table: str) -> bool:
        """Keep the previous snapshot's file of an unchanged table, when it is sound."""
        return self.previous.copy(table, self.writer)

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
            old = self.previous.snapshot.content_storage
            if unchanged and storage_api.adds_up(old, self.system_storage) and self._copy("content_storage"):
                return None
            if worth_patching(changed, content):
                rows = self.pool.map(lambda g: storage_api.fetch_one_content_storage(self.client, g), changed)
                df = patched_storage(old, [r for r in rows if r], changed, content)
                if storage_api.adds_up(df, self.system_storage):
                    return df
        return storage_api.fetch_content_storage(self.client, self.pool)

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
        short = content_api.cut_short(frame, content[~among(content["guid"], unread)], incomplete)
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
        worth = reuse is not None and worth_patching(reuse[0], content)
        old = self.previous.table("packages") if worth else None
        if old is not None:
            changed = reuse[0]
            deployed = set(content.loc[content["bundle_id"].notna(), "guid"])
            fresh = packages_api.fetch_packages_per_content(self.client, [g for g in changed if g in deployed],
                                                            self.pool)
            self._put(packages=patched_packages(old, fresh, changed, deployed))
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

    def _usage(self, table: str, fetch) -> None:
        """Usage for the window; from a previous snapshot, only what is newer than it holds.
        Shiny sessions begun before the window and still running in it (the overlap rule)
        come with the first part of the window read, or from the previous snapshot."""
        progress = bar(table.replace("_", " "), None, self.quiet, unit="slice")
        kw = {"pool": self.pool, "workers": self.workers, "on_slice": progress.update}
        shiny = table == "shiny_sessions"

        def read(lo, hi, earlier, **more):
            return fetch(self.client, lo, hi, **kw, **more, **({"earlier": earlier} if shiny else {}))

        seed = self.previous.usage_seed(table, self.start, self.end)
        if shiny:
            self.sources[table] = SESSIONS_RULE
        with progress:
            if seed is None:
                self.usage_from[table] = self.start
                self._put(**{table: read(self.start, self.end, True)})
                return
            old_start, resume = seed
            resume = max(resume, self.start)
            older = (read(self.start, old_start, True, end_inclusive=False)
                     if self.start < old_start else None)  # a longer window than last time
            kept_earlier = older is None and resume > self.start  # else another part reads them

            def kept():  # the previous rows still in the window, loaded meanwhile
                lo = max(self.start, old_start)
                rows = self.previous.kept_usage(table, lo, resume, self.start, kept_earlier)
                # None: unreadable after all, so what it held is read from the server
                return read(lo, resume, kept_earlier, end_inclusive=False) if rows is None else rows

            newer = Future()
            self.usage_from[table] = resume
            # consecutive time ranges, each already in sort_usage's order: written in turn, no re-sort
            self.writer.put_parts(table, ([] if older is None else [lambda: older]) + [kept, newer.result])
            try:
                newer.set_result(read(resume, self.end, resume == self.start))
            except BaseException as e:
                newer.set_exception(e)
                raise
