"""The test suite's own helpers: each module's kind (markers), ../shared/reference, and uv.

Imported as `from suite import ...` (two conftest.py files make `from conftest` ambiguous).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn

import pytest

# --- markers: each test module's kind (unit, integration, e2e), and the slow ones -------------
# The kind goes by module, so a test added to an existing file is marked like its neighbours.
# `make test` runs everything; `make test-fast` runs -m "not e2e and not slow".

_UNIT = ["test_analysis_downtime", "test_analysis_images", "test_analysis_important",
         "test_analysis_license", "test_analysis_runtimes", "test_analysis_storage",
         "test_analysis_usage", "test_catalogue", "test_charts", "test_layers", "test_packages",
         "test_paging", "test_snapshot", "test_suite_setup", "test_tables", "test_docs",
         "test_sizes", "test_timestamps", "test_errors", "test_report_files"]
_INTEGRATION = ["test_analysis_compare", "test_analysis_summary", "test_analysis_versions",
                "test_cli", "test_client", "test_contract_fixtures", "test_demo", "test_fetch",
                "test_golden_summary", "test_notebooks", "test_process", "test_preflight", "test_real_clients",
                "test_preflight_connect", "test_preflight_nodeports", "test_preflight_postgres",
                "test_preflight_storage",
                "test_report", "test_report_quarto", "test_schedule", "test_simulator",
                "test_simulator_usage", "test_sysreqs", "test_bad_input_server", "test_faults",
                "test_secrets", "test_untrusted_text", "test_analysis_readiness", "test_fetch_jobs",
                "test_fetch_jobs_sample",
                "test_plan", "test_plan_quoting", "test_fetch_sessions", "test_fetch_bundles",
                "test_fetch_include", "test_limiter", "test_fetch_refresh", "test_fetch_odd_shapes",
                "test_bad_input_disk", "test_bad_input_snapshot",
                "test_plan_values", "test_plan_scripts",
                # issue 18's modules (merged into main without a kind)
                "test_bounds", "test_contract_openapi", "test_docs_reliability", "test_keyguard",
                "test_hostile_bounds", "test_hostile_files", "test_hostile_input", "test_hostile_key",
                "test_hostile_tls", "test_report_verdicts"]
_E2E = ["test_browser", "test_publish", "test_wheel_install", "test_report_pdf"]
KINDS = {m: "unit" for m in _UNIT} | {m: "integration" for m in _INTEGRATION} | {m: "e2e" for m in _E2E}
# minutes rather than seconds each (a demo report, a large scenario, the reliability suite)
SLOW = {"test_fetch", "test_fetch_refresh", "test_fetch_odd_shapes", "test_schedule", "test_report",
        "test_report_quarto", "test_notebooks",
        "test_demo", "test_real_clients", "test_bad_input_server", "test_bad_input_disk",
        "test_bad_input_snapshot", "test_faults", "test_secrets",
        "test_untrusted_text", "test_browser", "test_publish", "test_wheel_install",
        "test_hostile_bounds", "test_hostile_files", "test_hostile_input", "test_hostile_key",
        "test_hostile_tls",  # the hostile cases: 4 minutes together (measured 2026-12-02)
        "test_report_verdicts", "test_report_pdf"}


# --- what a test needs from the machine: a skip on a laptop, a failure in CI ------------------


def on_ci() -> bool:
    """CI=true (or 1, yes): nothing may skip there, CI installs every tool (.ci/system-deps)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def skip_or_fail(reason: str, *, module_level: bool = False) -> NoReturn:
    """Skip the test for reason, except under CI=true, where it fails: CI must never pass by
    silently skipping. module_level: called while the test module is imported."""
    if on_ci():
        pytest.fail(f"{reason} (CI=true: a test that needs it may not skip)", pytrace=False)
    pytest.skip(reason, allow_module_level=module_level)


SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


def need_shared(*parts: str) -> Path:
    """The path ../shared/reference/PARTS; when it is missing, skip_or_fail. What the tests
    can carry is vendored under tests/fixtures/ instead."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        skip_or_fail(f"{path} is missing: put ../shared/reference beside the repository")
    return path


# --- uv, for tests that make fresh virtual environments ----------------------------------------


def uv_binary() -> str | None:
    """uv from this environment (the test extra installs it), else uv on PATH. The one beside
    sys.executable is preferred: a pyenv shim on PATH would read a bundle's .python-version."""
    here = Path(sys.executable).parent / "uv"
    return str(here) if here.is_file() else shutil.which("uv")
