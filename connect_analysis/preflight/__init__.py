"""Preflight checks for the new cluster: PostgreSQL, shared storage, NodePorts, Connect.

Meant to run from inside the new cluster before the move. Each check returns a
CheckResult; a failing or unreachable target is a result, never an exception.

The JSON form (`connect-analysis preflight --json`, `results_to_json`) is a stable
contract that the report reads back with `read_results` (both in
connect_analysis.preflight_results, which the report imports without the checks):

    [{"name": "postgres" | "storage" | "nodeport" | "connect",
      "target": str,          # what was checked (a DSN without its password)
      "ok": bool,
      "detail": str,          # what was found, in one line
      "fix": str | null},     # what to fix; null when ok
     ...]
"""

from __future__ import annotations

import os

from ..errors import ConfigError
from ..preflight_results import (
    CHECK_NAMES,
    FIELDS,
    CheckResult,
    format_results,
    read_results,
    results_to_json,
)

DEFAULT_PORT_RANGE = (30000, 32767)
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
NODEPORT_SKIPPED = ("not asked for: content Services are ClusterIP by default in the chart, so the NodePort "
                    "range matters only with NodePort Services (--service-type NodePort --nodes HOST,...)")


def run_preflight(postgres: str | None = None, storage: str | os.PathLike | None = None,
                  nodes=(), port_range: tuple[int, int] = DEFAULT_PORT_RANGE,
                  server: str | None = None, snapshot: str | os.PathLike | None = None,
                  storage_required_bytes: int | None = None,
                  service_type: str = "ClusterIP") -> list[CheckResult]:
    """Run the checks whose targets are given, in the order postgres, storage, nodeport, connect.

    postgres: HOST:PORT (TCP reachability) or a DSN (connect and `SELECT version()`).
    storage: a directory; it must be writable and have the required free space: the
    recommended capacity from `snapshot`'s analysis, or `storage_required_bytes`, or
    100 GB (10**11 bytes). nodes: host names; port_range: inclusive (low, high).
    server: a Connect URL; the API key is read from CONNECT_API_KEY. service_type: the content
    Service type; the NodePort check runs when nodes are given, and NodePort requires them.
    Raises ConfigError only for malformed arguments or when no target is given.
    """
    from .connect import check_connect
    from .nodeports import check_nodeports
    from .postgres import check_postgres
    from .storage import check_storage

    nodes = [n.strip() for n in nodes if n and n.strip()]
    if service_type not in SERVICE_TYPES:
        raise ConfigError(f"service type {service_type!r} is not one of {', '.join(SERVICE_TYPES)}")
    if service_type == "NodePort" and not nodes:
        raise ConfigError("NodePort Services: give --nodes HOST,... to check the NodePort range on")
    if not (postgres or storage or nodes or server):
        raise ConfigError("nothing to check: give --postgres, --storage, --nodes or --server")
    low, high = port_range
    if not (1 <= low <= high <= 65535):
        raise ConfigError(f"port range {low}-{high} is not a range of TCP ports (1-65535)")

    results: list[CheckResult] = []
    if postgres:
        results.append(check_postgres(postgres))
    if storage:
        results.append(check_storage(storage, snapshot=snapshot, required_bytes=storage_required_bytes))
    if nodes:
        results.extend(check_nodeports(nodes, (low, high)))
    if server:
        results.append(check_connect(server, api_key=os.environ.get("CONNECT_API_KEY") or None))
    return results


def parse_port_range(text: str) -> tuple[int, int]:
    """'30000-32767' -> (30000, 32767); a single port 'N' -> (N, N)."""
    low, sep, high = text.strip().partition("-")
    try:
        lo, hi = int(low), int(high if sep else low)
    except ValueError:
        raise ConfigError(f"port range {text!r} is not LOW-HIGH, e.g. 30000-32767") from None
    if not (1 <= lo <= hi <= 65535):
        raise ConfigError(f"port range {text!r} is not a range of TCP ports (1-65535)")
    return lo, hi


def skipped_checks(nodes=(), service_type: str = "ClusterIP") -> list[tuple[str, str]]:
    """[(check name, why it did not run)]: the NodePort check runs only when asked for."""
    if any(n and n.strip() for n in nodes) or service_type == "NodePort":
        return []
    return [("nodeport", NODEPORT_SKIPPED)]


__all__ = ["CHECK_NAMES", "FIELDS", "CheckResult", "DEFAULT_PORT_RANGE", "NODEPORT_SKIPPED",
           "SERVICE_TYPES", "format_results", "parse_port_range", "read_results", "results_to_json",
           "run_preflight", "skipped_checks"]
