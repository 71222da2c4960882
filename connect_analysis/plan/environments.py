"""Execution environments for the images the plan assigns content to, in three forms:
the chart's `executionEnvironments` entries, `POST /v1/environments` bodies, and
`rsconnect environment add` commands. The kit never sends them (it is read-only).

Installation paths follow Posit's image layout unless the images file gives paths.
"""

from __future__ import annotations

from ..analysis.runtimes import LANGUAGES
from .quoting import comment, count, sh

# Posit's image layout (posit-dev/images-connect goss tests; rstudio/content-base likewise).
POSIT_LAYOUT = {
    "r": "/opt/R/{version}/bin/R",
    "python": "/opt/python/{version}/bin/python",
    "quarto": "/opt/quarto/{version}/bin/quarto",
}
LABEL = {"r": "R", "python": "Python", "quarto": "Quarto"}
CLUSTER_NAME = "Kubernetes"  # what Connect requires when off-host execution is enabled


def installation_path(image: dict, language: str, version: str) -> str:
    """Where `version` of `language` is installed in image: its `paths`, else Posit's layout."""
    given = (image.get("paths") or {}).get(language, {}).get(version)
    return given or POSIT_LAYOUT[language].format(version=version)


def runtime_label(image: dict) -> str:
    """'R 4.5.2, Python 3.14.3, Quarto 1.8.27' (the versions the image carries)."""
    parts = [f"{LABEL[lg]} {'/'.join(image[lg])}" for lg in LANGUAGES if image.get(lg)]
    return ", ".join(parts) or "no R, Python or Quarto"


def environment_entry(image: dict, item_count: int) -> dict:
    """One `executionEnvironments` entry (the chart's shape) for image. matching is the image
    table's (any unless the images file or the server's environment says exact or none)."""
    entry = {
        "name": image["name"],
        "title": runtime_label(image),
        "description": f"connect-analysis plan: serves {count(item_count, 'content item')}",
        "matching": image.get("matching") or "any",
    }
    for lg in LANGUAGES:
        if image.get(lg):
            entry[lg] = {"installations": [{"version": v, "path": installation_path(image, lg, v)}
                                           for v in image[lg]]}
    return entry


def api_body(entry: dict) -> dict:
    """The `POST /v1/environments` body for a chart entry (cluster_name "Kubernetes")."""
    body = {"title": entry["title"], "description": entry["description"],
            "cluster_name": CLUSTER_NAME, "name": entry["name"], "matching": entry["matching"]}
    for lg in LANGUAGES:
        if lg in entry:
            body[lg] = entry[lg]
    return body


def rsconnect_add(entry: dict) -> list[str]:
    """`rsconnect environment add` as shell lines (one option a line), every value quoted."""
    lines = [f"rsconnect environment add {sh(entry['name'])}",
             f"--title {sh(entry['title'])}",
             f"--description {sh(entry['description'])}",
             f"--matching {sh(entry['matching'])}"]
    for lg in LANGUAGES:
        for inst in entry.get(lg, {}).get("installations", []):
            lines.append(f"--{lg} {sh(inst['version'] + '=' + inst['path'])}")
    lines = [lines[0]] + ["  " + line for line in lines[1:]]
    return [line + " \\" for line in lines[:-1]] + [lines[-1]]


def environments_sh(entries: list[dict]) -> str:
    """environments.sh: one `rsconnect environment add` per entry, for targets older than
    2026.03.0 or changes after install. The server and key come from the environment."""
    out = [
        "#!/usr/bin/env bash",
        "# Execution environments for the new cluster, made by `connect-analysis plan`.",
        "# For Connect older than 2026.03.0 (no executionEnvironments in values.yaml), or to add",
        "# environments after install. Needs an administrator's key. rsconnect reads the server",
        "# and the key from CONNECT_SERVER and CONNECT_API_KEY; neither is written here.",
        "set -euo pipefail",
        ': "${CONNECT_SERVER:?set CONNECT_SERVER to the new server URL}"',
        ': "${CONNECT_API_KEY:?set CONNECT_API_KEY to an administrator key of the new server}"',
        "",
    ]
    if not entries:
        out.append("# No content is assigned to any image: nothing to add.")
    for entry in entries:
        out.append(f"# {comment(entry['name'])}: {comment(entry['description'])}")
        out.extend(rsconnect_add(entry))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
