"""Run tests/browser/check_report.mjs (puppeteer-core + axe-core on Debian's chromium) on a
report and return what it found. The npm packages are installed with `npm ci` from the
lock file when tests/browser/node_modules is missing (as `make test` does)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from chromium import CHROMIUM

NODE_DIR = Path(__file__).resolve().parent / "browser"


def node_ready() -> str | None:
    """None when node and the packages are there (installing them if needed), else why not."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "node and npm are needed: run `make system-deps`"
    if not (NODE_DIR / "node_modules" / "puppeteer-core").is_dir():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return f"npm ci failed: {done.stderr.strip()[-500:]}"
    return None


def check_report(html_file: Path) -> dict:
    """The findings of check_report.mjs on html_file."""
    done = subprocess.run(["node", str(NODE_DIR / "check_report.mjs"), CHROMIUM, str(html_file)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)
