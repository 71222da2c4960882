"""The reliability suite's comparison: what clients fetched from two simulators (their URLs
differ by port). Lives in the kit, not in the simulator, which imports nothing from the kit."""

from __future__ import annotations

import pandas as pd

from connect_simulator.server import DROPPED

from . import schema
from .snapshot import load_snapshot

FAULT_STATUSES = frozenset({503, 429, DROPPED})  # what `fault_rate` injects, as the request log shows it


def comparable_tables(path, server_url: str) -> dict[str, pd.DataFrame]:
    """Every table of the snapshot at path, with the simulator's URL replaced by "SERVER"."""
    snap = load_snapshot(path)
    out = {}
    for name in schema.TABLES:
        df = getattr(snap, name).copy()
        for col in df.columns:
            if df[col].dtype == object or str(df[col].dtype).startswith("str"):
                df[col] = df[col].str.replace(server_url, "SERVER", regex=False)
        out[name] = df
    return out
