"""Print docs/reference/readiness-codes.qmd, generated from readiness.CODES (and its columns).

    python -m connect_analysis.analysis.readiness_page > docs/reference/readiness-codes.qmd
"""

from __future__ import annotations

import sys

from .readiness import codes_markdown

PAGE = "docs/reference/readiness-codes.qmd"

if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(codes_markdown())
