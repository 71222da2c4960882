"""Writing an analysis: DIR/summary.json and one CSV per table, each written then renamed."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pandas as pd

from ..errors import AnalysisError

SUMMARY = "summary.json"

# file name -> (how to get its table from an Analysis, what the file holds)
CSV_FILES = {
    "important-content.csv": (lambda a: a.important_content,
                              "important content: GUIDs, access paths, usage, why picked"),
    "runtimes.csv": (lambda a: a.runtimes, "R, Python and Quarto versions in use and on the server"),
    "image-coverage.csv": (lambda a: a.image_coverage,
                           "each execution image: its runtimes, the content it can run"),
    "content-images.csv": (lambda a: a.content_images, "each content item: the images that can run it"),
    "warm-list.csv": (lambda a: a.warm_list, "runtime cache warm list for the important content"),
    "storage-by-content.csv": (lambda a: a.storage_by_content, "bundle bytes per content item"),
    "storage-growth.csv": (lambda a: a.storage_growth, "bundle bytes added per month"),
    "storage-projection.csv": (lambda a: a.storage_projection, "12-month storage projection"),
    "downtime-by-app-mode.csv": (lambda a: a.downtime["by_app_mode"], "content and bundles by type"),
    "run-as.csv": (lambda a: a.run_as, "content with a custom run-as user or run-as-current-user"),
    "readiness.csv": (lambda a: a.readiness,
                      "every item's readiness verdict on the new cluster, reasons, what to do"),
}
# the tables analyze() adds by name (Analysis.extra_tables), and what each holds
EXTRA_CSV_FILES = {
    "system-requirements.csv": "OS packages each content item's R and Python packages need, per OS",
    "packages.csv": "every R and Python package the content uses: versions, catalogue status",
}
# every file write_analysis writes, in the order written -> what it holds (the report's
# "Data files" list says it beside each link)
ANALYSIS_FILES = {SUMMARY: "the answers, machine-readable",
                  **{name: about for name, (_, about) in CSV_FILES.items()}, **EXTRA_CSV_FILES}


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
    write_atomic(out / SUMMARY, text)
    tables = {name: get(result) for name, (get, _) in CSV_FILES.items()} | dict(result.extra_tables)
    for name, df in tables.items():
        write_atomic(out / name, csv_text(df))
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


def write_atomic(path: Path, text: str) -> Path:
    """Write text to path through a temporary sibling and a rename: a reader sees the old file
    or the new one, never half of one. Returns path. The kit's one file writer of this kind
    (the analysis and the report use it; for directories: snapshot.replace_dir)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        # mode 0o666 less the umask, as for any new file (mkstemp's 0600 would hide a report)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise AnalysisError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise AnalysisError(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
