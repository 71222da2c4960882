"""A snapshot on disk: manifest.json, server_settings.json and one Parquet file per table.

A snapshot is written to a temporary sibling directory and renamed into place, so a
failed write never leaves a half snapshot and never harms the previous one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schema
from .errors import SnapshotError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SERVER_SETTINGS = "server_settings.json"
FORMAT = "connect-analysis-snapshot/1"


@dataclass
class Snapshot:
    """A loaded snapshot: every table as a DataFrame (empty when the server did not give it)."""

    manifest: dict
    server_settings: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    path: Path | None = None

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        if name in schema.TABLES:
            return schema.empty(name)
        raise AttributeError(name)

    @property
    def unavailable(self) -> dict[str, str]:
        """{dataset: reason} for every dataset the fetch could not read."""
        return dict(self.manifest.get("unavailable", {}))


def write_snapshot(path: str | os.PathLike, tables: dict[str, pd.DataFrame], manifest: dict,
                   server_settings: dict | None = None) -> Path:
    """Write a snapshot atomically to path (replacing what was there only on success).

    Every table in schema.TABLES is written, conformed to its columns and dtypes;
    tables not given are written empty. Returns the path.
    """
    writer = SnapshotWriter(path)
    try:
        for name, df in tables.items():
            writer.put(name, df)
        return writer.commit(manifest, server_settings)
    except BaseException:
        writer.abort()
        raise


class SnapshotWriter:
    """Writes a snapshot table by table as each is ready (Parquet encodes in background
    threads, without the GIL), into a temporary sibling directory that commit() renames
    into place. Until then, and after abort(), `path` is exactly as it was."""

    def __init__(self, path: str | os.PathLike):
        self.dest = Path(path)
        if self.dest.exists() and not self.dest.is_dir():
            raise SnapshotError(f"{self.dest} exists and is not a directory")
        parent = self.dest.parent if str(self.dest.parent) else Path(".")
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.dest.name}.", suffix=".tmp", dir=parent))
        except OSError as e:
            raise SnapshotError(f"cannot write a snapshot in {parent}: {e.strerror or e}") from None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="write")
        self._rows: dict[str, Future] = {}
        self._lock = threading.Lock()

    def put(self, name: str, df: pd.DataFrame, metadata: dict[str, str] | None = None) -> None:
        """Write table `name` (in the background), with `metadata` added to the file's
        key-value metadata; a table put again replaces the first."""
        self._submit(name, self._write, name, df, metadata)

    def put_parts(self, name: str, parts: list[Callable[[], pd.DataFrame]]) -> None:
        """Write table `name` from consecutive parts, each a callable that may block until its
        rows are ready: the first part is encoded while the next is still being read."""
        self._submit(name, self._write_parts, name, parts)

    def copy(self, name: str, src: Path, rows: int) -> None:
        """Table `name` as a copy of the file `src` of `rows` rows: an unchanged table of the
        snapshot being refreshed (see same_table)."""
        self._submit(name, self._copy, name, src, rows)

    def _submit(self, name: str, write, *args) -> None:
        if name not in schema.TABLES:
            return
        with self._lock:
            earlier = self._rows.get(name)
        if earlier is not None:
            earlier.result()  # one file, one writer at a time
        with self._lock:
            self._rows[name] = self._pool.submit(write, *args)

    def _copy(self, name: str, src: Path, rows: int) -> int:
        shutil.copyfile(src, self.tmp / f"{name}.parquet")
        return rows

    def _write_parts(self, name: str, parts: list[Callable[[], pd.DataFrame]]) -> int:
        t0, rows, writer = time.monotonic(), 0, None
        try:
            for part in parts:
                table = pa.Table.from_pandas(schema.conform(part(), name), preserve_index=False)
                writer = writer or pq.ParquetWriter(self.tmp / f"{name}.parquet", table.schema,
                                                    write_statistics=_with_statistics(name))
                if table.num_rows:
                    writer.write_table(table)
                    rows += table.num_rows
        finally:
            if writer is not None:
                writer.close()
        log.debug("%s.parquet written in %d parts: %d rows, %.2f s", name, len(parts), rows, time.monotonic() - t0)
        return rows

    def _write(self, name: str, df: pd.DataFrame | None, metadata: dict[str, str] | None = None) -> int:
        t0 = time.monotonic()
        df = schema.empty(name) if df is None else schema.conform(df, name)
        table = pa.Table.from_pandas(df, preserve_index=False)  # as df.to_parquet(index=False) writes it
        with pq.ParquetWriter(self.tmp / f"{name}.parquet", table.schema,
                              write_statistics=_with_statistics(name)) as writer:
            writer.write_table(table)
            if metadata:
                writer.add_key_value_metadata(metadata)
        log.debug("%s.parquet written: %d rows, %.2f s", name, len(df), time.monotonic() - t0)
        return int(len(df))

    def commit(self, manifest: dict, server_settings: dict | None = None) -> Path:
        """Wait for every table (writing the missing ones empty), then the manifest, and
        rename the directory into place. Returns the path."""
        for name in schema.TABLES:
            if name not in self._rows:
                self.put(name, None)
        try:
            manifest = dict(manifest)
            manifest["format"] = FORMAT
            manifest["row_counts"] = {name: self._rows[name].result() for name in schema.TABLES}
            self._pool.shutdown()
            (self.tmp / SERVER_SETTINGS).write_text(json.dumps(server_settings or {}, indent=2, sort_keys=True))
            (self.tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
            replace_dir(self.tmp, self.dest)
        except OSError as e:
            self.abort()
            raise SnapshotError(f"cannot write snapshot {self.dest}: {e.strerror or e}") from None
        return self.dest

    def abort(self) -> None:
        """Drop everything written so far; `path` stays as it was."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _with_statistics(name: str) -> list[str]:
    """Columns worth min/max statistics: times and numbers, which readers use to skip row
    groups; not ids and names (a quarter of the cost of writing a usage table)."""
    return [c for c, dtype in schema.TABLES[name].items() if dtype != schema.STR]


def same_table(path: Path, name: str) -> int | None:
    """The rows of the file `path` when it holds table `name` exactly as write_snapshot would
    write it (every page readable, the columns and types of today's schema); else None."""
    try:
        table = pq.read_table(path)
    except Exception:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        return None
    expected = pa.Schema.from_pandas(schema.empty(name), preserve_index=False)
    return table.num_rows if table.schema.equals(expected, check_metadata=False) else None


def file_metadata(path: Path) -> dict[bytes, bytes]:
    """The key-value metadata of a Parquet file (empty when it has none or is unreadable)."""
    try:
        return dict(pq.ParquetFile(path).metadata.metadata or {})
    except Exception:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        return {}


def replace_dir(tmp: Path, dest: Path) -> None:
    """Rename directory tmp to dest; an existing dest is moved aside first and removed only
    after, and put back if the rename fails."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    except OSError:
        if old is not None:
            os.rename(old, dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def load_snapshot(path: str | os.PathLike, columns: dict[str, list[str]] | None = None,
                  tables: list[str] | None = None, threads: bool = True) -> Snapshot:
    """Load a snapshot directory into DataFrames. Raises SnapshotError when it is not one.

    columns: {table: [column, ...]} reads only those columns of a table (a large usage
    table costs far less memory without the columns nobody reads).
    tables: read only these tables (the others are left out of Snapshot.tables).
    threads: decode columns in parallel (False where other work already keeps the cores busy).
    """
    columns = columns or {}
    src = Path(path)
    if not src.is_dir():
        raise SnapshotError(f"{src} is not a snapshot directory (run `connect-analysis fetch` first)")
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except FileNotFoundError:
        raise SnapshotError(f"{src} has no {MANIFEST}: not a connect-analysis snapshot") from None
    except (OSError, ValueError) as e:
        raise SnapshotError(f"{src / MANIFEST} is unreadable: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SnapshotError(f"{src} is not a connect-analysis snapshot (unknown format)")
    try:
        settings_file = src / SERVER_SETTINGS
        settings = json.loads(settings_file.read_text()) if settings_file.exists() else {}
        loaded = {}
        for name in (schema.TABLES if tables is None else tables):
            f = src / f"{name}.parquet"
            only = columns.get(name)
            loaded[name] = (schema.conform(pd.read_parquet(f, columns=only, use_threads=threads), name, only) if f.exists()
                            else schema.conform(schema.empty(name), name, only))
    except Exception as e:  # pyarrow raises several types for a corrupt file
        raise SnapshotError(f"{src} is corrupt: {type(e).__name__}: {e}") from None
    return Snapshot(manifest=manifest, server_settings=settings, tables=loaded, path=src)
