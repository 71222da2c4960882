"""A snapshot on disk: manifest.json, server_settings.json and one Parquet file per table.

A snapshot is written to a temporary sibling directory and renamed into place, so a
failed write never leaves a half snapshot and never harms the previous one.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import _snapdir, schema
from .errors import ConfigError, SnapshotError, TableNotLoaded

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SERVER_SETTINGS = "server_settings.json"
FORMAT = "connect-analysis-snapshot/1"


def _empty_tables() -> dict[str, pd.DataFrame]:
    return {name: schema.empty(name) for name in schema.TABLES}


@dataclass
class Snapshot:
    """A loaded snapshot: each loaded table as a DataFrame (empty when the server had none).

    A table that was not loaded (load_snapshot(tables=...)) raises TableNotLoaded, a
    SnapshotError and KeyError naming it. Built without tables, every table is empty."""

    manifest: dict
    server_settings: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=_empty_tables)
    path: Path | None = None

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        if name in schema.TABLES:
            raise TableNotLoaded(name, tables)
        raise AttributeError(name)

    @property
    def unavailable(self) -> dict[str, str]:
        """{dataset: reason} for every dataset the fetch could not read."""
        return dict(self.manifest.get("unavailable", {}))


def refuse_output_inside_snapshot(out: str | os.PathLike, option: str = "--out") -> None:
    """ConfigError when out is (in) a snapshot directory: the next fetch would replace it."""
    _snapdir.check_path(out, option)
    snap = _snapdir.inside_snapshot(out, MANIFEST, FORMAT)
    if snap is not None:
        raise ConfigError(f"{option} {_snapdir.show(out)} is inside the snapshot {_snapdir.show(snap)}, which the "
                          "next fetch replaces whole; choose a directory outside it")


def recover(path: str | os.PathLike) -> Path:
    """Undo what a killed write of the snapshot at path left (see _snapdir.recover); each
    thing done is logged as a warning. Returns the directory written to (see _snapdir.target)."""
    dest = _snapdir.target(path)
    try:
        for done in _snapdir.recover(dest, MANIFEST):
            log.warning("%s", done)
    except OSError as e:
        raise SnapshotError(f"cannot recover {_snapdir.show(dest)}: {e.strerror or e}") from None
    return dest


def kit_files() -> list[str]:
    """The files a snapshot of this kit holds (for one whose manifest does not list them)."""
    return [MANIFEST, SERVER_SETTINGS, *(f"{name}.parquet" for name in schema.TABLES)]


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
        self.dest = _snapdir.target(path)  # a symlinked --out: its target is replaced, the link kept
        if self.dest.exists() and not self.dest.is_dir():
            raise SnapshotError(f"{self.dest} exists and is not a directory")
        parent = self.dest.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            recover(self.dest)
            self.tmp = _snapdir.new_temporary(self.dest)
        except OSError as e:
            raise SnapshotError(f"cannot write a snapshot in {parent}: {e.strerror or e}") from None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="write")
        self._rows: dict[str, Future] = {}
        self._lock = threading.Lock()

    def put(self, name: str, df: pd.DataFrame, metadata: dict[str, str] | None = None) -> None:
        """Write table `name` (in the background), with `metadata` added to the file's
        key-value metadata; a table put again replaces the first."""
        self._submit(name, self._write, name, df, metadata)

    def put_parts(self, name: str, parts: list[Callable[[], pd.DataFrame | pa.Table]]) -> None:
        """Write table `name` from consecutive parts, each a callable that may block until its
        rows are ready: the first part is encoded while the next is still being read. A part
        may be a DataFrame or an Arrow table from refresh.read_encoded (its text stays encoded)."""
        self._submit(name, self._write_parts, name, parts)

    def copy(self, name: str, src: Path, rows: int) -> None:
        """Table `name` as a copy of the file `src` of `rows` rows: an unchanged table of the
        snapshot being refreshed (see refresh.same_table)."""
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

    def _write_parts(self, name: str, parts: list[Callable[[], pd.DataFrame | pa.Table]]) -> int:
        # Text columns go to the writer dictionary-encoded, as Parquet stores them: rows read
        # with refresh.read_encoded are written without hashing each string again. The file's metadata
        # is a plain write's, so it reads back exactly as one.
        t0, rows = time.monotonic(), 0
        with pq.ParquetWriter(self.tmp / f"{name}.parquet", _encoded_schema(name), store_schema=False,
                              **_options(name)) as writer:
            for part in parts:
                table = _encoded(part(), name)
                if table.num_rows:
                    writer.write_table(table)
                    rows += table.num_rows
            writer.add_key_value_metadata(_plain_metadata(name))
        log.debug("%s.parquet written in %d parts: %d rows, %.2f s", name, len(parts), rows, time.monotonic() - t0)
        return rows

    def _write(self, name: str, df: pd.DataFrame | None, metadata: dict[str, str] | None = None) -> int:
        t0 = time.monotonic()
        df = schema.empty(name) if df is None else schema.conform(df, name)
        table = pa.Table.from_pandas(df, preserve_index=False)  # as df.to_parquet(index=False) writes it
        with pq.ParquetWriter(self.tmp / f"{name}.parquet", table.schema,
                              **_options(name)) as writer:
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
            manifest["files"] = sorted([*os.listdir(self.tmp), MANIFEST])  # what a refresh may replace
            (self.tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
            _snapdir.swap(self.tmp, self.dest)
        except OSError as e:
            self.abort()
            raise SnapshotError(f"cannot write snapshot {self.dest}: {e.strerror or e}") from None
        return self.dest

    def abort(self) -> None:
        """Drop everything written so far; `path` stays as it was."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _options(name: str) -> dict:
    """How table `name` is written: min/max statistics only for times and numbers, which
    readers use to skip row groups (not ids and names: a quarter of the cost of writing a
    usage table); no dictionary for times, nearly all distinct."""
    columns = schema.TABLES[name]
    return {"write_statistics": [c for c, dtype in columns.items() if dtype != schema.STR],
            "use_dictionary": [c for c, dtype in columns.items() if dtype != schema.TS]}


@cache
def text_columns(name: str) -> list[str]:
    """Table `name`'s text columns."""
    return [c for c, dtype in schema.TABLES[name].items() if dtype == schema.STR]


@cache
def plain_schema(name: str) -> pa.Schema:
    """Table `name`'s Arrow schema, as write_snapshot writes it."""
    return pa.Schema.from_pandas(schema.empty(name), preserve_index=False)


@cache
def _encoded_schema(name: str) -> pa.Schema:
    """Table `name`'s Arrow schema with its text columns dictionary-encoded."""
    return pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string())) if f.name in text_columns(name) else f
                      for f in plain_schema(name).remove_metadata()])


@cache
def _plain_metadata(name: str) -> dict[bytes, bytes]:
    """The key-value metadata (Arrow schema, pandas columns) of table `name` as
    DataFrame.to_parquet writes it."""
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(schema.empty(name), preserve_index=False), buf)
    return dict(pq.ParquetFile(io.BytesIO(buf.getvalue())).metadata.metadata)


def _encoded(part: pd.DataFrame | pa.Table, name: str) -> pa.Table:
    """A part of table `name` with the columns and types of _encoded_schema; an Arrow table's
    dictionaries unified and holding only the values its rows use (rows dropped since they
    were read leave none behind)."""
    if isinstance(part, pd.DataFrame):
        return pa.Table.from_pandas(schema.conform(part, name), preserve_index=False).cast(_encoded_schema(name))
    part = part.unify_dictionaries()
    return pa.table({c: _compacted(part[c]) if c in text_columns(name) else part[c] for c in part.column_names}
                    ).cast(_encoded_schema(name))


def _compacted(column: pa.ChunkedArray) -> pa.Array:
    """A dictionary column (one dictionary) as one array whose dictionary has only used values."""
    array = column.combine_chunks()
    used = np.flatnonzero(np.bincount(array.indices.drop_null().to_numpy(), minlength=len(array.dictionary)))
    if len(used) == len(array.dictionary):
        return array
    position = np.zeros(len(array.dictionary), dtype=np.int32)
    position[used] = np.arange(len(used), dtype=np.int32)
    return pa.DictionaryArray.from_arrays(pc.take(pa.array(position), array.indices),
                                          array.dictionary.take(pa.array(used)))


replace_dir = _snapdir.rename_over  # rename directory tmp to dest, an existing dest moved aside first


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
    try:
        _snapdir.check_path(src, "--snapshot")
    except ConfigError as e:
        raise SnapshotError(str(e)) from None
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
    _snapdir.check_manifest(manifest, src / MANIFEST)
    try:
        settings_file = src / SERVER_SETTINGS
        settings = json.loads(settings_file.read_text()) if settings_file.exists() else {}
        loaded = _load_tables(src, columns, tables, threads)
    except SnapshotError:
        raise
    except Exception as e:  # pyarrow raises several types for a corrupt file
        raise SnapshotError(f"{src} is corrupt: {type(e).__name__}: {e}") from None
    return Snapshot(manifest=manifest, server_settings=settings, tables=loaded, path=src)


def _check_columns(path: Path, name: str) -> None:
    """SnapshotError when the file of table `name` holds another table (fewer than half of
    its columns), naming the table whose columns it has."""
    found = set(pq.read_schema(path).names) - {"__index_level_0__"}
    wanted = set(schema.TABLES[name])
    if 2 * len(found & wanted) >= len(wanted):
        return
    best = max(schema.TABLES, key=lambda t: len(found & set(schema.TABLES[t])) / len(found | set(schema.TABLES[t])))
    raise SnapshotError(f"{_snapdir.show(path)} holds the columns of {best}.parquet, not those of {name}; "
                        "the file was replaced (fetch again into a new directory)")


def _load_tables(src: Path, columns: dict, tables: list[str] | None, threads: bool) -> dict[str, pd.DataFrame]:
    loaded = {}
    for name in (schema.TABLES if tables is None else tables):
        f = src / f"{name}.parquet"
        only = columns.get(name)
        if f.exists():
            _check_columns(f, name)
        loaded[name] = (schema.conform(pd.read_parquet(f, columns=only, use_threads=threads), name, only) if f.exists()
                        else schema.conform(schema.empty(name), name, only))
    return loaded
