"""Run the hostile-server cases of tests/reliability (issue 18) and write their counts into
docs/explanation/_reliability-counts.md, which docs/explanation/reliability.qmd includes.

    .venv/bin/python tools/reliability_counts.py            # runs them (about 6 minutes)
    .venv/bin/python tools/reliability_counts.py --junit F  # counts from an earlier run's JUnit XML

"tried" is every collected case marked `hostile(why)`; "handled" is those that passed.
tests/test_docs_reliability.py checks that the page's cases match the collection.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "explanation" / "_reliability-counts.md"
GROUPS = {  # test file -> the part of the Why it covers
    "test_hostile_key": "The API key leaves or is written down; requests steered by server data",
    "test_hostile_files": "The user's files lost",
    "test_hostile_bounds": "Unbounded time or memory",
    "test_hostile_input": "Tracebacks where one line is due",
    "test_hostile_tls": "Tracebacks where one line is due (TLS)",
}


def collected() -> list[tuple[str, str]]:
    """(node id, why) of every hostile case, from pytest's collection."""
    code = ("import sys, pytest\n"
            "class P:\n"
            "    def pytest_collection_finish(self, session):\n"
            "        for item in session.items:\n"
            "            m = item.get_closest_marker('hostile')\n"
            "            if m: print('CASE', item.nodeid, '|', m.args[0])\n"
            "sys.exit(pytest.main(['-q', '--collect-only', '-p', 'no:cacheprovider', 'tests/reliability'],"
            " plugins=[P()]))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [tuple(line[5:].split(" | ", 1)) for line in out.splitlines() if line.startswith("CASE ")]


def passed(junit: Path) -> set[str]:
    """Node ids (file::name[param]) of the test cases that passed in a JUnit XML report."""
    done = set()
    for case in ET.parse(junit).iter("testcase"):
        if any(child.tag in ("failure", "error", "skipped") for child in case):
            continue
        module = case.get("classname", "").replace(".", "/")
        done.add(f"{module}.py::{case.get('name')}")
    return done


def render(cases: list[tuple[str, str]], ok: set[str]) -> str:
    rows, tried, handled = [], Counter(), Counter()
    for node, why in cases:
        group = GROUPS[Path(node.split("::")[0]).stem]
        tried[(group, why)] += 1
        handled[(group, why)] += node in ok
    for (group, why), n in tried.items():
        rows.append(f"| {group} | {why} | {n} | {handled[(group, why)]} |")
    total, good = sum(tried.values()), sum(handled.values())
    return ("<!-- written by tools/reliability_counts.py; do not edit -->\n"
            f"**{total} cases tried, {good} handled** ({len(tried)} items of the issue's Why).\n\n"
            "| part of the Why | item | cases | handled |\n|---|---|---|---|\n" + "\n".join(rows) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--junit", type=Path, help="JUnit XML of an earlier run of tests/reliability -m hostile")
    args = ap.parse_args()
    cases = collected()
    junit = args.junit
    if junit is None:
        junit = Path(tempfile.mkdtemp()) / "hostile.xml"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "hostile",
                        "tests/reliability", f"--junitxml={junit}"], cwd=ROOT)
    OUT.write_text(render(cases, passed(junit)))
    print(OUT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
