"""Time the package inventory and system-requirements resolution on a large synthetic server.

    .venv/bin/python bench/bench_sysreqs.py [--content 10000] [--packages-per-item 60]

Content items get R or Python packages drawn from the bundled catalogue (R: CRAN packages with
SystemRequirements plus names the catalogue does not know; Python: the table plus unknown names),
so every status is exercised. Prints seconds and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd
from _results import write_result

from connect_analysis import schema
from connect_analysis.analysis.catalogue import load_catalogue
from connect_analysis.analysis.packages import package_inventory
from connect_analysis.analysis.sysreqs import system_requirements


def synthetic(n_content: int, per_item: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    cat = load_catalogue()
    r_names = np.array(list(cat.cran)[:800] + [f"rpkg{i}" for i in range(1200)])
    py_names = np.array(list(cat.python) + [f"pypkg{i}" for i in range(600)])
    guids = [f"c{i:06d}" for i in range(n_content)]
    is_r = rng.random(n_content) < 0.6
    content = schema.conform(pd.DataFrame({
        "guid": guids, "title": guids, "bundle_id": [str(i) for i in range(n_content)],
        "r_version": np.where(is_r, "4.3.2", None), "py_version": np.where(is_r, None, "3.11.9"),
    }), "content")
    rows = []
    for g, r in zip(guids, is_r, strict=True):
        names = r_names if r else py_names
        for name in rng.choice(names, size=per_item, replace=False):
            rows.append((g, "r" if r else "python", name, f"1.{rng.integers(0, 20)}.0"))
    packages = schema.conform(pd.DataFrame(rows, columns=["content_guid", "language", "name", "version"]),
                              "packages")
    return content, packages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", type=int, default=10_000)
    ap.add_argument("--packages-per-item", type=int, default=60)
    args = ap.parse_args()
    content, packages = synthetic(args.content, args.packages_per_item)
    important = content["guid"].head(20)
    t0 = time.perf_counter()
    result = system_requirements(packages, content, important_guids=important)
    t1 = time.perf_counter()
    inventory = package_inventory(packages, content, important)
    t2 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(content)} content items, {len(packages)} package rows, "
          f"{len(inventory)} distinct packages, {len(result.rows)} CSV rows")
    print(f"system_requirements: {t1 - t0:.1f} s; package_inventory: {t2 - t1:.1f} s; "
          f"peak RSS {peak_mb:.0f} MB")
    write_result("bench_sysreqs", {"content_items": len(content), "package_rows": len(packages),
                                   "system_requirements_seconds": round(t1 - t0, 2),
                                   "package_inventory_seconds": round(t2 - t1, 2),
                                   "peak_rss_mb": round(peak_mb)})


if __name__ == "__main__":
    main()
