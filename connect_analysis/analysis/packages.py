"""Package inventory: which R and Python packages content uses, by content and important-content count.

Names are counted as the language spells them: R names exactly (they are case-sensitive), Python
names normalised by PEP 503, so "Pillow" and "pillow", or "typing_extensions" and
"typing-extensions", are one package.
"""

from __future__ import annotations

import pandas as pd

from .catalogue import R_SHIPPED_WITH_R, load_catalogue, normalize_python_name, version_key

LANGUAGES = ("r", "python")
INVENTORY_COLUMNS = ["language", "name", "content_count", "important_content_count",
                     "version_count", "versions", "system_requirements", "catalogue_status"]


def normalized_packages(packages: pd.DataFrame) -> pd.DataFrame:
    """packages with language in lower case and Python names normalised (PEP 503)."""
    df = packages[["content_guid", "language", "name", "version"]].dropna(subset=["language", "name"])
    df["language"] = df["language"].str.lower()
    py = df["language"] == "python"
    if py.any():
        names = df.loc[py, "name"]
        df.loc[py, "name"] = names.map({n: normalize_python_name(n) for n in names.dropna().unique()})
    return df


def package_counts(packages: pd.DataFrame, content: pd.DataFrame | None = None) -> dict[str, int]:
    """{"r": n, "python": n}: distinct package names per language over all content.

    When content is given, only packages of content in it are counted.
    """
    df = normalized_packages(packages)
    if content is not None:
        df = df[df["content_guid"].isin(content["guid"])]
    return {lang: int(df.loc[df["language"] == lang, "name"].nunique()) for lang in LANGUAGES}


def package_inventory(packages: pd.DataFrame, content: pd.DataFrame | None = None,
                      important_guids=()) -> pd.DataFrame:
    """One row per (language, package); columns INVENTORY_COLUMNS.

    content_count: distinct content items that list it; important_content_count: those among
    important_guids; versions: the distinct versions in use, oldest first, joined by ", ";
    system_requirements: the catalogue's SystemRequirements text (R) or the Python table's note;
    catalogue_status: "listed" (the catalogue has an entry), "ships with R", or
    "not_in_catalogue" (its system needs are unknown).
    When content is given, only rows for content in it are counted (the packages of deleted
    content are left out). Sorted by content_count, then important_content_count (both highest
    first), then language and name.
    """
    df = normalized_packages(packages)
    if content is not None:
        df = df[df["content_guid"].isin(content["guid"])]
    important = set(important_guids)
    catalogue = load_catalogue()
    uses: dict[tuple, set] = {}
    versions: dict[tuple, set] = {}
    for guid, lang, name, version in zip(*(df[c].tolist() for c in ("content_guid", "language",
                                                                     "name", "version")), strict=True):
        key = (lang, name)
        guids = uses.setdefault(key, set())
        if isinstance(guid, str):
            guids.add(guid)
        if isinstance(version, str):
            versions.setdefault(key, set()).add(version)
    rows = []
    for (lang, name), guids in uses.items():
        in_use = sorted(versions.get((lang, name), ()), key=lambda v: (version_key(v), v))
        text, status = _catalogue_entry(catalogue, lang, name)
        rows.append({
            "language": lang, "name": name,
            "content_count": len(guids), "important_content_count": len(guids & important),
            "version_count": len(in_use), "versions": ", ".join(in_use),
            "system_requirements": text, "catalogue_status": status,
        })
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype="string") for c in INVENTORY_COLUMNS})
    out = pd.DataFrame(rows, columns=INVENTORY_COLUMNS)
    out = out.sort_values(["content_count", "important_content_count", "language", "name"],
                          ascending=[False, False, True, True], ignore_index=True)
    for c in ("content_count", "important_content_count", "version_count"):
        out[c] = out[c].astype("Int64")
    for c in ("language", "name", "versions", "system_requirements", "catalogue_status"):
        out[c] = out[c].astype("string")
    return out


def _catalogue_entry(catalogue, lang: str, name: str) -> tuple[str | None, str]:
    if lang == "python":
        entry = catalogue.python.get(name)
        return (entry.get("why"), "listed") if entry is not None else (None, "not_in_catalogue")
    text = catalogue.r_requirement_text(name)
    if text is not None:
        return text, "listed"
    if name in R_SHIPPED_WITH_R:
        return None, "ships with R"
    return None, "not_in_catalogue"
