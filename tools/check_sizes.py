"""The size limits: no module over 400 lines, no function over 60 lines, except the ones named
in ALLOWED below (each with its reason). `make lint` runs this; tests/test_sizes.py checks it.

    python tools/check_sizes.py          # exit 1 and one line per breach
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("connect_analysis", "connect_simulator", "tests", "bench", "tools")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# Known exceptions, each "path: module" or "path: function" with its reason. A stale entry (one
# within the limits now) is an error too, so the list only shrinks. The simulator's data tables
# are within the limits today, so they need no entry.
ALLOWED: dict[str, str] = {}


def sizes(path: Path) -> tuple[int, list[tuple[str, int]]]:
    """(lines in the module, [(qualified function name, lines)] for every function in it)."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    functions: list[tuple[str, int]] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                functions.append((name, child.end_lineno - child.lineno + 1))
                walk(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                walk(child, prefix + child.name + ".")
            else:
                walk(child, prefix)

    walk(tree, "")
    return len(text.splitlines()), functions


def breaches(repo: Path = REPO, roots=ROOTS) -> list[str]:
    """One "path: what (N lines)" per module or function over its limit, in path order."""
    out = []
    for root in roots:
        for path in sorted((repo / root).rglob("*.py")):
            rel = path.relative_to(repo).as_posix()
            lines, functions = sizes(path)
            if lines > MAX_MODULE_LINES:
                out.append(f"{rel}: module ({lines} lines)")
            out.extend(f"{rel}: {name} ({n} lines)" for name, n in functions if n > MAX_FUNCTION_LINES)
    return out


def unexcused(found: list[str], allowed=ALLOWED) -> tuple[list[str], list[str]]:
    """(breaches not in the allow-list, allow-list entries that no longer breach)."""
    keys = [line.rsplit(" (", 1)[0] for line in found]
    new = [line for line, key in zip(found, keys, strict=True) if key not in allowed]
    stale = sorted(set(allowed) - set(keys))
    return new, stale


def main() -> int:
    new, stale = unexcused(breaches())
    for line in new:
        print(f"error: over the size limit ({MAX_MODULE_LINES} lines a module, "
              f"{MAX_FUNCTION_LINES} a function): {line}")
    for key in stale:
        print(f"error: tools/check_sizes.py allows {key}, which is within the limits now: "
              "remove it from ALLOWED")
    return 1 if new or stale else 0


if __name__ == "__main__":
    sys.exit(main())
