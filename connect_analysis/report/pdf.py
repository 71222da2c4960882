"""report.pdf: report.html printed by headless Chromium (charts included, as drawn)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ReportError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# a browser that never touches the network and leaves nothing behind
HEADLESS_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--no-default-browser-check")
TIMEOUT_S = 120


def find_browser() -> str | None:
    """The first Chromium-family browser on PATH, or None."""
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def pdf_command(browser: str, html_file: Path, pdf_file: Path, profile_dir: Path) -> list[str]:
    """The command that prints html_file to pdf_file."""
    return [browser, *HEADLESS_FLAGS, f"--user-data-dir={profile_dir}",
            "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=15000", f"--print-to-pdf={pdf_file}",
            Path(html_file).resolve().as_uri()]


def render_pdf(html_file: Path, pdf_file: Path | None = None) -> Path:
    """Print html_file to a PDF beside it (report.pdf). Returns the PDF's path."""
    browser = find_browser()
    if browser is None:
        raise ReportError("--pdf needs Chromium (apt-get install chromium); none found on PATH")
    pdf_file = Path(pdf_file or Path(html_file).with_suffix(".pdf"))
    tmp = pdf_file.with_name(f".{pdf_file.name}.{os.getpid()}.tmp")
    with tempfile.TemporaryDirectory(prefix="ca-chromium-") as profile:
        try:
            proc = subprocess.run(pdf_command(browser, html_file, tmp.resolve(), Path(profile)),
                                  capture_output=True, text=True, timeout=TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            tmp.unlink(missing_ok=True)
            raise ReportError(f"chromium could not print the PDF: {e}") from None
    if proc.returncode != 0 or not tmp.exists() or tmp.read_bytes()[:5] != b"%PDF-":
        tmp.unlink(missing_ok=True)
        last = next((ln for ln in reversed(proc.stderr.splitlines()) if ln.strip()), "no output")
        raise ReportError(f"chromium could not print the PDF (exit {proc.returncode}): {last}")
    os.replace(tmp, pdf_file)
    return pdf_file
