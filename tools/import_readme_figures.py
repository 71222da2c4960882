"""One-off: the figures the README carried, as bench/results/*-readme.json (their provenance kept).

    .venv/bin/python tools/import_readme_figures.py

Reads README.md as it was at README_COMMIT (git show), so the figures are copied, never typed:
each row of its Performance table goes to the result of the bench its command names, and the
README's own paragraphs about a bench's figures go with it verbatim (`readme_excerpt`).
Written once, when the README stopped carrying figures; new figures come from the benches.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
README_COMMIT = "506e8b7"
MACHINE = {"cpus": 2, "memory_gib": 24,
           "note": "this project's 2-core, 24 GB machine, often while other jobs shared it"}
# bench -> (the commit whose code was measured, the README commit that recorded the figure)
PROVENANCE = {
    "bench_simulator": ("aee79c4 or earlier", "2da6510"),
    "bench_fetch": ("ec6aa57 (the full run); ca35f7a (the later --skip-sdk runs)", "506e8b7"),
    "bench_analysis": ("4e96e3c", "1be2210"),
    "bench_report": ("4e96e3c", "5b55e37"),
    "bench_faults": ("916708e or earlier", "2da6510"),
    "bench_schedule": ("4e96e3c", "da297b6"),
    "bench_sysreqs": ("1f753a4 or earlier", "2da6510"),
    "reliability_suite": ("916708e", "916708e"),
}
# README passages that belong to one bench: [(the passage starts with, it ends before), ...]
EXCERPTS = {
    "bench_simulator": [("Measured with `.venv/bin/python bench/bench_simulator.py`",
                         "\n## Fetching a snapshot")],
    "bench_fetch": [("**Speed** (`bench/bench_fetch.py`)", "\n## Snapshot tables")],
    "bench_analysis": [("**Speed.** `.venv/bin/python bench/bench_analysis.py`",
                        "\n## Notebooks and the report")],
    "bench_report": [("### Speed\n", "\n## Publishing on Connect")],
    "bench_schedule": [("Measured with `.venv/bin/python bench/bench_schedule.py`", "\nTests: ")],
    "bench_sysreqs": [("**Speed** (`.venv/bin/python bench/bench_sysreqs.py", " Tests: `tests/test_sysreqs.py`")],
    "bench_faults": [("`bench/bench_faults.py` on the `large` scenario", "\n## Performance"),
                     ("The simulator once answered every request ~40 ms late", "\n## Licences")],
    "reliability_suite": [("Figures from `.venv/bin/pytest tests/reliability -q`",
                           "\n`bench/bench_faults.py` on the `large`")],
}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout


def table_rows(readme: str) -> list[dict]:
    section = readme.split("\n## Performance\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].startswith("`bench/"):
            what, command, measured, target = cells
            rows.append({"what": what, "command": command.strip("`"), "measured": measured,
                         "target": target})
    return rows


def main() -> None:
    readme = git("show", f"{README_COMMIT}:README.md")
    RESULTS.mkdir(parents=True, exist_ok=True)
    by_bench: dict[str, list[dict]] = {}
    for row in table_rows(readme):
        bench = re.match(r"bench/(bench_\w+)\.py", row["command"]).group(1)
        by_bench.setdefault(bench, []).append(row)
    by_bench["reliability_suite"] = [{"command": ".venv/bin/pytest tests/reliability -q"}]
    for bench, rows in sorted(by_bench.items()):
        measured_at, recorded_at = PROVENANCE[bench]
        result = {
            "bench": bench,
            "date": git("log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
                        recorded_at).strip(),
            "commit": measured_at, "command": rows[0]["command"], "machine": MACHINE,
            "recorded_by": f"an earlier session (README at {recorded_at}; copied from the README "
                           f"at {README_COMMIT} by tools/import_readme_figures.py)",
            "figures": {row["what"]: row["measured"] for row in rows if "what" in row},
            "targets": {row["what"]: row["target"] for row in rows if "what" in row},
        }
        passages = []
        for start, end in EXCERPTS.get(bench, []):
            a = readme.index(start)
            passages.append(readme[a:readme.index(end, a)].strip())
        if passages:
            result["readme_excerpt"] = "\n\n".join(passages) + "\n"
        path = RESULTS / f"{bench}-readme-{recorded_at}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(path.relative_to(REPO))


if __name__ == "__main__":
    main()
