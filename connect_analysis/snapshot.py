"""A snapshot on disk: manifest.json, server_settings.json and one Parquet file per table.

A snapshot is written to a temporary sibling directory and renamed into place, so a
failed write never leaves a half snapshot and never harms the previous one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import schema
from .errors import SnapshotError

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
    dest = Path(path)
    if dest.exists() and not dest.is_dir():
        raise SnapshotError(f"{dest} exists and is not a directory")
    parent = dest.parent if str(dest.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=parent))
    except OSError as e:
        raise SnapshotError(f"cannot write a snapshot in {parent}: {e.strerror or e}") from None
    try:
        manifest = dict(manifest)
        manifest["format"] = FORMAT
        manifest["row_counts"] = {}
        for name in schema.TABLES:
            df = schema.conform(tables.get(name, schema.empty(name)), name)
            df.to_parquet(tmp / f"{name}.parquet", index=False)
            manifest["row_counts"][name] = int(len(df))
        (tmp / SERVER_SETTINGS).write_text(json.dumps(server_settings or {}, indent=2, sort_keys=True))
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
        replace_dir(tmp, dest)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SnapshotError(f"cannot write snapshot {dest}: {e.strerror or e}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


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


def load_snapshot(path: str | os.PathLike, columns: dict[str, list[str]] | None = None) -> Snapshot:
    """Load a snapshot directory into DataFrames. Raises SnapshotError when it is not one.

    columns: {table: [column, ...]} reads only those columns of a table (a large usage
    table costs far less memory without the columns nobody reads).
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
        tables = {}
        for name in schema.TABLES:
            f = src / f"{name}.parquet"
            only = columns.get(name)
            tables[name] = (schema.conform(pd.read_parquet(f, columns=only), name, only) if f.exists()
                            else schema.conform(schema.empty(name), name, only))
    except Exception as e:  # pyarrow raises several types for a corrupt file
        raise SnapshotError(f"{src} is corrupt: {type(e).__name__}: {e}") from None
    return Snapshot(manifest=manifest, server_settings=settings, tables=tables, path=src)
