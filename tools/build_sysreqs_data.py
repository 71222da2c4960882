"""Build connect_analysis/data/sysreqs/r-catalogue.json from a checkout of rstudio/r-system-requirements.

The kit ships one compact JSON instead of the catalogue's 138 rule files and its sample of CRAN
SystemRequirements: the rules verbatim (patterns, dependencies), systems.json, and
{package: [version, SystemRequirements]} from the catalogue's test/sysreqs.json.

    .venv/bin/python tools/build_sysreqs_data.py ../shared/reference/r-system-requirements

The source directory must hold rules/*.json, systems.json, LICENSE and SOURCE (or give --commit).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

DEST = Path(__file__).resolve().parents[1] / "connect_analysis" / "data" / "sysreqs"


def build(src: Path, dest: Path = DEST) -> Path:
    """Write r-catalogue.json, LICENSE and SOURCE into dest; returns the JSON's path."""
    source_note = (src / "SOURCE").read_text().strip()
    commit = re.search(r"\b[0-9a-f]{40}\b", source_note)
    rules = {}
    for f in sorted((src / "rules").glob("*.json")):
        rule = json.loads(f.read_text())
        for p in rule["patterns"]:
            re.compile(p, re.IGNORECASE)  # fail the build on a pattern Python cannot read
        rules[f.stem] = {"patterns": rule["patterns"], "dependencies": rule["dependencies"]}
    cran_file = src / "cran-sysreqs.json"
    if not cran_file.exists():
        cran_file = src / "test" / "sysreqs.json"
    cran = {
        row["Package"]: [row.get("Version"), row["SystemRequirements"]]
        for row in json.loads(cran_file.read_text())
        if (row.get("SystemRequirements") or "").strip()
    }
    data = {
        "source": "https://github.com/rstudio/r-system-requirements",
        "commit": commit.group(0) if commit else None,
        "note": source_note,
        "systems": json.loads((src / "systems.json").read_text()),
        "rules": rules,
        "cran": dict(sorted(cran.items())),
    }
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / "r-catalogue.json"
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":"), sort_keys=False) + "\n")
    tmp.replace(out)
    shutil.copyfile(src / "LICENSE", dest / "LICENSE")
    (dest / "SOURCE").write_text(
        f"{source_note}\n\nBundled as r-catalogue.json by tools/build_sysreqs_data.py "
        "(rules verbatim; cran = {package: [version, SystemRequirements]}).\n"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="r-system-requirements directory")
    args = parser.parse_args()
    out = build(args.src)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
