"""Writing an analysis: DIR/summary.json and one CSV per table, each written then renamed."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from ..errors import AnalysisError

SUMMARY = "summary.json"

# file name -> how to get its table from an Analysis
CSV_FILES = {
    "important-content.csv": lambda a: a.important_content,
    "runtimes.csv": lambda a: a.runtimes,
    "image-coverage.csv": lambda a: a.image_coverage,
    "content-images.csv": lambda a: a.content_images,
    "warm-list.csv": lambda a: a.warm_list,
    "storage-by-content.csv": lambda a: a.storage_by_content,
    "storage-growth.csv": lambda a: a.storage_growth,
    "storage-projection.csv": lambda a: a.storage_projection,
    "downtime-by-app-mode.csv": lambda a: a.downtime["by_app_mode"],
    "run-as.csv": lambda a: a.run_as,
    "readiness.csv": lambda a: a.readiness,
}


def write_analysis(result, out_dir) -> Path:
    """Write summary.json and the CSVs (CSV_FILES, then result.extra_tables) into out_dir.

    Each file is written to a temporary name in out_dir and renamed, so a reader never sees a
    half-written file. Timestamps are written as ISO 8601 UTC with a Z; nulls as empty cells.
    Returns out_dir.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AnalysisError(f"cannot create {out}: {e.strerror or e}") from None
    text = json.dumps(result.summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    _write_atomic(out / SUMMARY, text)
    tables = {name: get(result) for name, get in CSV_FILES.items()} | dict(result.extra_tables)
    for name, df in tables.items():
        _write_atomic(out / name, csv_text(df))
    return out


# A text cell starting with one of these is run as a formula by Excel, LibreOffice and Google
# Sheets ("CSV injection"); server titles are untrusted, so such cells get a leading apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(df: pd.DataFrame) -> str:
    """df as CSV text with ISO 8601 UTC timestamps; text cells a spreadsheet would run as a
    formula (FORMULA_START) are prefixed with an apostrophe. Numbers are left as they are."""
    df = df.copy()
    for col in df.columns:
        if isinstance(df[col].dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(df[col]):
            t = df[col].dt.tz_localize("UTC") if df[col].dt.tz is None else df[col].dt.tz_convert("UTC")
            df[col] = t.dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype("string")
        elif pd.api.types.is_string_dtype(df[col]) or df[col].dtype == object:
            df[col] = df[col].map(_neutralise)
    return df.to_csv(index=False, lineterminator="\n")


def _neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise AnalysisError(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
