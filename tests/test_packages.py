"""Package inventory against a hand-built package list."""

from __future__ import annotations

import pandas as pd

from connect_analysis import schema
from connect_analysis.analysis.packages import (
    INVENTORY_COLUMNS,
    package_counts,
    package_inventory,
)

CONTENT = schema.conform(pd.DataFrame([
    {"guid": "a", "title": "A", "bundle_id": "1", "r_version": "4.3.2"},
    {"guid": "b", "title": "B", "bundle_id": "2", "r_version": "4.4.1"},
    {"guid": "c", "title": "C", "bundle_id": "3", "py_version": "3.11.4"},
    {"guid": "d", "title": "D", "bundle_id": "4", "py_version": "3.12.1"},
]), "content")

PACKAGES = schema.conform(pd.DataFrame([
    ("a", "r", "sf", "1.0-9"),
    ("a", "r", "dplyr", "1.1.4"),
    ("a", "r", "MASS", "7.3-60"),
    ("b", "r", "sf", "1.0-16"),     # 1.0-16 is newer than 1.0-9: versions sort as versions
    ("b", "r", "dplyr", "1.1.4"),
    ("c", "python", "Pillow", "10.3.0"),
    ("c", "python", "psycopg2", "2.9.9"),
    ("d", "python", "pillow", "9.5.0"),  # the same PEP 503 name as "Pillow"
    ("d", "Python", "typing_extensions", "4.12.2"),
    ("gone", "r", "sf", "0.9-8"),   # content deleted since: not counted when content is given
], columns=["content_guid", "language", "name", "version"]), "packages")


def test_inventory_counts_content_and_important_content():
    inv = package_inventory(PACKAGES, CONTENT, important_guids=["b", "d"])
    assert list(inv.columns) == INVENTORY_COLUMNS
    got = inv[["language", "name", "content_count", "important_content_count", "versions",
               "catalogue_status"]].values.tolist()
    assert got == [
        ["python", "pillow", 2, 1, "9.5.0, 10.3.0", "listed"],
        ["r", "dplyr", 2, 1, "1.1.4", "not_in_catalogue"],
        ["r", "sf", 2, 1, "1.0-9, 1.0-16", "listed"],
        ["python", "typing-extensions", 1, 1, "4.12.2", "not_in_catalogue"],
        ["python", "psycopg2", 1, 0, "2.9.9", "listed"],
        ["r", "MASS", 1, 0, "7.3-60", "ships with R"],
    ]
    sf = inv[inv["name"] == "sf"].iloc[0]
    assert sf["system_requirements"] == "GDAL (>= 2.0.1), GEOS (>= 3.4.0), PROJ (>= 4.8.0), sqlite3"
    assert sf["version_count"] == 2


def test_inventory_without_content_counts_every_row():
    inv = package_inventory(PACKAGES).set_index(["language", "name"])
    assert inv.loc[("r", "sf"), "content_count"] == 3
    assert inv.loc[("r", "sf"), "versions"] == "0.9-8, 1.0-9, 1.0-16"
    assert inv["important_content_count"].sum() == 0


def test_package_counts_are_distinct_names_per_language():
    assert package_counts(PACKAGES) == {"r": 3, "python": 3}
    only_b = CONTENT[CONTENT["guid"] == "b"]
    assert package_counts(PACKAGES, only_b) == {"r": 2, "python": 0}
    assert package_counts(schema.empty("packages")) == {"r": 0, "python": 0}


def test_empty_inventory_has_the_columns():
    inv = package_inventory(schema.empty("packages"), CONTENT)
    assert inv.empty and list(inv.columns) == INVENTORY_COLUMNS
