"""The demo printed to PDF (headless Chromium, as `report --pdf` does): at most ~15 pages, and
every table's caption and key columns are in the text of the PDF (pdftotext): none clipped."""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import pytest

from connect_analysis.report.pdf import find_browser, render_pdf

pytestmark = pytest.mark.browser
MAX_PAGES = 15


def _words(text: str) -> str:
    return " ".join(text.split())


def _tables(page: str) -> list[tuple[str, list[str]]]:
    """(caption, key column labels) of every table component on the page."""
    found = []
    for block in re.findall(r'<table class="ca-table sortable">(.*?)</thead>', page, re.S):
        caption = html.unescape(re.search(r"<caption[^>]*>([^<]*)</caption>", block).group(1))
        keys = [html.unescape(label) for extra, label in
                re.findall(r'<th scope="col"( class="ca-col-extra")?><button[^>]*>([^<]*)<', block)
                if not extra]
        found.append((caption, keys))
    return found


def test_demo_pdf_is_short_and_keeps_every_tables_key_columns(demo_report, tmp_path):
    if find_browser() is None or shutil.which("pdftotext") is None:
        pytest.fail("needs chromium and pdftotext (poppler-utils): run `make system-deps`")
    pdf = render_pdf(demo_report.out / "report.html", tmp_path / "report.pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages <= MAX_PAGES, pages
    text = _words(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                                 text=True, check=True).stdout)
    flat = _words(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                 check=True).stdout)
    tables = _tables((demo_report.out / "report.html").read_text())
    assert len(tables) >= 12
    for caption, keys in tables:
        assert keys, caption
        assert caption in text or caption in flat, caption
        for label in keys:
            assert label in text or label in flat, (caption, label)
    for word in ("Verdicts", "Licence:", "Storage:", "Data files"):
        assert word in flat
    assert "Filter" not in flat  # no search boxes printed
