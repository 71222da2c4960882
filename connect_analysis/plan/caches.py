"""caches.sh: delete the old server's runtime caches on the new server once nothing uses them.

With the old data directory on the new volume, the caches of native (Local) execution come
along and take space; off-host content fills per-image caches instead. The lines are
`--dry-run` first; the real deletions follow, commented out (rsconnect-python issue 746:
delete reports success even when it fails, so list the caches again afterwards).
"""

from __future__ import annotations

import pandas as pd

from .quoting import sh

LANGUAGE_NAMES = {"r": "R", "python": "Python"}  # as /v1/system/caches/runtime spells them


def cache_rows(runtime_caches: pd.DataFrame | None) -> list[dict]:
    """[{language, version, image_name}] of the old server's caches (language as the API
    spells it; image_name "Local" when empty), sorted."""
    if runtime_caches is None or runtime_caches.empty:
        return []
    rows = set()
    for lang, version, image in runtime_caches[["language", "version", "image_name"]].itertuples(index=False):
        if not isinstance(lang, str) or not isinstance(version, str) or not version:
            continue
        image = image if isinstance(image, str) and image else "Local"
        rows.add((LANGUAGE_NAMES.get(lang.lower(), lang), version, image))
    return [{"language": a, "version": b, "image_name": c} for a, b, c in sorted(rows)]


def caches_sh(rows: list[dict], unavailable: str | None = None) -> str:
    """The caches.sh text. unavailable: why the snapshot has no cache list, or None."""
    out = [
        "#!/usr/bin/env bash",
        "# The old server's runtime caches (made by `connect-analysis plan`). Run on the new",
        "# server after every item is rebuilt (rebuild.sh): first as it is (dry runs), then",
        "# uncomment the deletions. Afterwards `rsconnect system caches list` to confirm.",
        "# rsconnect reads CONNECT_SERVER and CONNECT_API_KEY; neither is written here.",
        "set -euo pipefail",
        ': "${CONNECT_SERVER:?set CONNECT_SERVER to the new server URL}"',
        ': "${CONNECT_API_KEY:?set CONNECT_API_KEY to an administrator key of the new server}"',
        "",
    ]
    if not rows:
        why = f" ({unavailable})" if unavailable else ""
        out += [f"# The snapshot lists no runtime caches{why}; list them on the server:",
                "rsconnect system caches list"]
        return "\n".join(out) + "\n"
    lines = [_delete(r) for r in rows]
    out += [f"# {len(rows)} caches: dry runs"] + [line + " --dry-run" for line in lines]
    out += ["", "# The deletions: uncomment once the dry runs above say what you expect."]
    out += ["# " + line for line in lines]
    return "\n".join(out) + "\n"


def _delete(row: dict) -> str:
    return (f"rsconnect system caches delete --language {sh(row['language'])} "
            f"--version {sh(row['version'])} --image-name {sh(row['image_name'])}")
