"""rebuild.sh: after the move, rebuild the content wave by wave with rsconnect-python.

`rsconnect content build add -g GUID ...` marks items to build (in batches, one search call
each); `rsconnect content build run --parallelism N` builds what is marked and not yet built, so
running the waves one after the other builds each item once. Only ready and conditional items
are in the batches; a wave's unknown items are counted in its comment (plan.json names them).
"""

from __future__ import annotations

import pandas as pd

from .quoting import comment, sh

BATCH = 25  # GUIDs per `build add`
DEFAULT_PARALLELISM = 2  # Posit: start at 2-3, builds use the server's CPU, memory and I/O
BUILDABLE = ("ready", "conditional")
KIND_TEXT = {
    "canary": "canary builds: one or two items per image, to check each image before the rest",
    "important": "the important items",
    "rest": "everything else",
}


def wave_items(readiness: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """{wave: its ready and conditional rows, in table order}, waves ascending."""
    t = readiness[readiness["wave"].notna() & readiness["verdict"].isin(BUILDABLE)]
    return {int(w): g for w, g in t.groupby(t["wave"].astype("int64"), sort=True)}


def rebuild_sh(readiness: pd.DataFrame, estimates: dict | None = None,
               parallelism: int = DEFAULT_PARALLELISM) -> str:
    """The rebuild.sh text. estimates: {wave: {"minutes": float, "basis": str}} or None."""
    waves = wave_items(readiness)
    unknown = readiness[readiness["wave"].notna() & (readiness["verdict"] == "unknown")]
    unknown_by_wave = unknown.groupby(unknown["wave"].astype("int64")).size().to_dict()
    numbers = " ".join(str(w) for w in waves)
    out = _header(parallelism, numbers)
    for w, items in waves.items():
        out += _wave_function(w, items, (estimates or {}).get(w), parallelism,
                              int(unknown_by_wave.get(w, 0)))
    out += _dispatch(list(waves))
    return "\n".join(out) + "\n"


def _header(parallelism: int, numbers: str) -> list[str]:
    return [
        "#!/usr/bin/env bash",
        "# Rebuild the content on the new server, wave by wave (made by `connect-analysis plan`).",
        f"# Usage: ./rebuild.sh WAVE [WAVE ...]   waves: {numbers or 'none'}",
        "#   Run wave 1 (the canary builds) first, check those items, then the other waves.",
        "# rsconnect keeps its build state in ./rsconnect-build/; a second run builds only what",
        "# is not built yet (add --retry to `build run` to retry failures).",
        "# rsconnect reads CONNECT_SERVER and CONNECT_API_KEY; neither is written here.",
        "set -euo pipefail",
        ': "${CONNECT_SERVER:?set CONNECT_SERVER to the new server URL}"',
        ': "${CONNECT_API_KEY:?set CONNECT_API_KEY to an administrator key of the new server}"',
        f'PARALLELISM="${{PARALLELISM:-{int(parallelism)}}}"',
        "",
    ]


def _wave_function(wave: int, items: pd.DataFrame, estimate: dict | None, parallelism: int,
                   unknown: int) -> list[str]:
    kind = items["wave_kind"].iloc[0] if "wave_kind" in items.columns else None
    what = KIND_TEXT.get(kind, f"wave {wave}") if isinstance(kind, str) else f"wave {wave}"
    important = int(items["important"].fillna(False).astype(bool).sum())
    if estimate:
        when = f"expected {estimate['minutes']:.0f} min at parallelism {parallelism} ({comment(estimate['basis'])})"
    else:
        when = "expected time: not estimated (no build durations)"
    out = [f"# --- wave {wave}: {what}",
           f"# {len(items)} items ({important} important); {when}"]
    if unknown:
        out.append(f"# {unknown} unknown items of this wave are left out: resolve them first (plan.json)")
    guids = items["guid"].to_numpy(dtype=object).tolist()
    titles = items["title"].to_numpy(dtype=object, na_value=None).tolist()
    for guid, title in zip(guids, titles, strict=True):
        out.append(f"#   {comment(guid)}  {comment(title if isinstance(title, str) else '')}")
    out.append(f"wave_{wave}() {{")
    for start in range(0, len(guids), BATCH):
        batch = guids[start:start + BATCH]
        args = [f"    -g {sh(g)}" for g in batch]
        out.append("  rsconnect content build add \\")
        out += [a + " \\" for a in args[:-1]] + [args[-1]]
    out += ['  rsconnect content build run --parallelism "$PARALLELISM"', "}", ""]
    return out


def _dispatch(waves: list[int]) -> list[str]:
    numbers = " ".join(str(w) for w in waves)
    out = ['if [ "$#" -eq 0 ]; then',
           f'  echo "usage: $0 WAVE [WAVE ...] (waves: {numbers or "none"}); start with 1" >&2',
           "  exit 2",
           "fi",
           'for wave in "$@"; do',
           '  case "$wave" in']
    out += [f"    {w}) wave_{w} ;;" for w in waves]
    out += [f'    *) echo "no wave $wave (waves: {numbers or "none"})" >&2; exit 2 ;;',
            "  esac",
            "done"]
    return out
