"""What an incremental refresh reuses of the previous snapshot, in one module.

    previous_snapshot(out, server)   the manifest of the snapshot in `out`, when it is this server's
    load_previous(out)               its REUSED tables and usage, loaded while the network works
    load_previous_content(out)       its content list with each item's digest
    Previous                         what each dataset may keep of it, and the merges

The datasets (fetch_datasets.py) read the server; each asks Previous what it may keep. What a
refresh reads again, and why the result equals a full fetch: docs/explanation/refresh.qmd.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import _snapdir
from .api import content as content_api
from .api import packages as packages_api
from .api import storage as storage_api
from .api import usage as usage_api
from .api._rows import frame
from .errors import ConfigError, SnapshotError
from .snapshot import (
    FORMAT,
    MANIFEST,
    Snapshot,
    SnapshotWriter,
    kit_files,
    load_snapshot,
    plain_schema,
    text_columns,
)
from .timestamps import utc_second

# How shiny_sessions.parquet was read (manifest["sources"]); a refresh reuses only such a file.
SESSIONS_RULE = "sessions overlapping the window: started <= end and (open or ended >= start)"
_EPOCH = datetime(1678, 1, 1, tzinfo=UTC)  # before any session (pandas timestamps start in 1677)

# What a refresh reuses of the previous snapshot besides usage; every other table is read anew.
REUSED = {"content": ["guid", "bundle_id", "last_deployed_time"], "content_storage": None}  # packages
# only when some item was deployed since


def previous_snapshot(out: Path, server: str) -> dict | None:
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


def load_previous(out: Path | None) -> tuple[Snapshot, dict[str, pa.Table]] | None:
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


def load_previous_content(out: Path | None) -> content_api.ContentList | None:
    """The previous content list with its items' digests, when they can be reused (its two
    files then are sound, and can be kept as they are)."""
    if out is None or not all(has_schema(out / f"{t}.parquet", t) for t in ("content", "content_tags")):
        return None
    try:
        snap = load_snapshot(out, tables=["content", "content_tags"], threads=False)
    except SnapshotError:
        return None
    return previous_content_list(snap.content, snap.content_tags, file_metadata(out / "content.parquet"))


def previous_content_list(content: pd.DataFrame, tags: pd.DataFrame, metadata: dict) -> content_api.ContentList | None:
    """A snapshot's content list with the digests from content.parquet's metadata (written by
    ContentList.metadata); None when they are missing, were written by other code, or do not
    match the rows."""
    salt, _, value = metadata.get(content_api.DIGESTS.encode(), b"").decode(errors="replace").partition("\n")
    if salt != content_api.SALT or not content["guid"].is_unique:
        return None
    try:
        packed = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    if len(packed) != 16 * len(content):
        return None
    return content_api.ContentList(content, tags, [packed[i:i + 16] for i in range(0, len(packed), 16)])


class Previous:
    """The snapshot in `out` that a fetch refreshes (manifest None: none, a full fetch), and
    what each dataset may reuse of it. Its tables load in the background (`loaded`, a Future
    of load_previous's answer)."""

    def __init__(self, out: Path, manifest: dict | None, loaded: Future):
        self.out, self.manifest, self._loaded = out, manifest, loaded
        self._lock = threading.Lock()
        self._changed: list[str] | None = None  # guids deployed or added since the previous snapshot

    @property
    def snapshot(self) -> Snapshot | None:
        """The previous snapshot's REUSED tables (None for a full fetch, or when unreadable)."""
        loaded = self._loaded.result()
        return loaded and loaded[0]

    def reusable(self, table: str, source: str, read_content: Callable[[], pd.DataFrame | None]):
        """(guids deployed or added since, content, whether no item was deployed, added or
        removed since) when `table` of the previous snapshot was read the same way and can be
        patched; else None. read_content() gives this fetch's content list (None: unreadable)."""
        prev = self.snapshot
        if prev is None or table in prev.unavailable or prev.manifest.get("sources", {}).get(table) != source:
            return None
        content = read_content()
        if content is None or "content" in prev.unavailable:
            return None
        with self._lock:
            if self._changed is None:
                self._changed = content["guid"][~pc.is_in(_deploys(content), value_set=_deploys(prev.content)
                                                          ).to_numpy(zero_copy_only=False)].tolist()
        return self._changed, content, not self._changed and len(content) == len(prev.content)

    def copy(self, table: str, writer: SnapshotWriter) -> bool:
        """Keep the previous snapshot's file of an unchanged table, when it is sound."""
        src = self.out / f"{table}.parquet"
        rows = same_table(src, table)
        if rows is None:
            return False
        writer.copy(table, src, rows)
        return True

    def table(self, table: str) -> pd.DataFrame | None:
        """One table of the previous snapshot that is not in REUSED (packages, jobs: read only
        when a refresh patches them); None when it cannot be read."""
        try:
            return getattr(load_snapshot(self.out, tables=[table]), table)
        except SnapshotError:
            return None

    def usage_seed(self, table: str, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        """(previous window start, time to re-read from) or None for a full read of usage
        `table` for the window [start, end]; from the previous manifest, so that reading newer
        usage need not wait for the old rows."""
        manifest = self.manifest
        if manifest is None or table in manifest.get("unavailable", {}):
            return None
        try:
            old_start, old_end = (utc_second(manifest["window"][k]) for k in ("start", "end"))
        except (KeyError, TypeError, ValueError, AttributeError):  # no window, or an odd one
            return None
        if old_end > end or old_end < start:
            return None  # no overlap to reuse
        resume = old_end
        if table == "shiny_sessions":
            if manifest.get("sources", {}).get(table) != SESSIONS_RULE:
                return None  # an older kit's snapshot kept only sessions started in its window
            try:
                old = pd.read_parquet(self.out / "shiny_sessions.parquet", columns=["started", "ended"])
            except Exception:  # noqa: BLE001 - pyarrow raises several types for a damaged file
                return None
            open_ = old.loc[old["ended"].isna(), "started"]
            if len(open_):  # sessions open last time have ended since: read them again
                resume = min(resume, pd.Timestamp(open_.min()).to_pydatetime())
        if max(resume, start) < old_start:
            return None  # a session open last time began before the old window: read all anew
        return old_start, resume

    def kept_usage(self, table: str, lo: datetime, hi: datetime, start: datetime, earlier: bool) -> pa.Table | None:
        """The previous rows of usage `table` with lo <= time < hi, in order; with `earlier`,
        Shiny sessions begun before `start` and running at it too. None when the previous
        snapshot could not be loaded after all."""
        loaded = self._loaded.result()
        if loaded is None:
            return None
        rows = loaded[1][table]
        if table == "shiny_sessions" and earlier:
            return _running_at(_between(rows, "started", _EPOCH, hi), start)
        return _between(rows, usage_api.TIME_FIELD[table], lo, hi)

    def record(self, usage_from: dict[str, datetime], start: datetime) -> dict:
        """manifest["refresh"]: a full read, or a refresh of the previous snapshot (the usage
        read from where it ended)."""
        if self.snapshot is None:  # none, or unreadable: all read anew
            return {"mode": "full", "usage_from": {t: usage_api.iso(start) for t in usage_from}}
        return {"mode": "incremental" if any(t > start for t in usage_from.values()) else "full",
                "usage_from": {t: usage_api.iso(v) for t, v in usage_from.items()}}


# --- patching a table: only the items deployed since read again ---------------------------


def worth_patching(changed: list[str], content: pd.DataFrame) -> bool:
    """Whether few enough items changed that reading them one by one beats the whole list."""
    return len(changed) <= max(50, len(content) // 20)


def patched_storage(old: pd.DataFrame, fresh: list[dict], changed: list[str], content: pd.DataFrame) -> pd.DataFrame:
    """content_storage: the previous rows of items still listed and not changed, and the
    `fresh` rows of the changed ones, in content_guid order."""
    df = pd.concat([old[~among(old["content_guid"], changed)], frame(fresh, "content_storage")],
                   ignore_index=True)
    return storage_api.sort_storage(df[among(df["content_guid"], content["guid"])])


def patched_packages(old: pd.DataFrame, fresh: pd.DataFrame, changed: list[str], deployed: set[str]) -> pd.DataFrame:
    """packages: the previous rows of deployed items not changed, and the `fresh` rows (packages
    belong to a bundle: only items deployed since need reading again)."""
    kept = old[among(old["content_guid"], deployed) & ~among(old["content_guid"], changed)]
    # the previous table was tidy, and so is every subset of it
    return packages_api.tidy(pd.concat([kept, fresh], ignore_index=True)) if len(fresh) else kept.reset_index(drop=True)


def among(column: pd.Series, values) -> np.ndarray:
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


# --- the previous snapshot's files, read as they are --------------------------------------


def read_encoded(path: Path, name: str) -> pa.Table:
    """The file `path` of table `name` as Arrow, its text columns dictionary-encoded (half
    the time and a tenth of the memory of decoding every string); for put_parts.
    SnapshotError when it is not table `name` as this kit writes it."""
    if not has_schema(path, name):
        raise SnapshotError(f"{path} is unreadable or does not hold today's {name} columns")
    try:
        return pq.ParquetFile(path, read_dictionary=text_columns(name)).read(use_threads=False)
    except Exception as e:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise SnapshotError(f"{path} is unreadable: {type(e).__name__}: {e}") from None


def same_table(path: Path, name: str) -> int | None:
    """The rows of the file `path` when it holds table `name` exactly as write_snapshot would
    write it (every page readable, the columns and types of today's schema); else None."""
    try:
        table = pq.read_table(path)
    except Exception:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        return None
    return table.num_rows if table.schema.equals(plain_schema(name), check_metadata=False) else None


def has_schema(path: Path, name: str) -> bool:
    """Whether the file `path` has table `name`'s columns and types as this kit writes them."""
    try:
        return pq.read_schema(path).equals(plain_schema(name), check_metadata=False)
    except Exception:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        return False


def file_metadata(path: Path) -> dict[bytes, bytes]:
    """The key-value metadata of a Parquet file (empty when it has none or is unreadable)."""
    try:
        return dict(pq.ParquetFile(path).metadata.metadata or {})
    except Exception:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        return {}
