"""The NodePort check: can this host open TCP connections to each node over the NodePort range?

Per port the outcome is one of: open (a listener accepted), refused (the node answered with
a reset: nothing listens there, normal for a NodePort no Service uses), or no answer (a
timeout or unreachable: the usual sign of a firewall or security group dropping traffic).
A node passes when every sampled port answered (open or refused).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from . import CheckResult, _tcp

MAX_PORTS_PER_NODE = 128  # ranges larger than this are sampled
TIMEOUT_S = 1.0
MAX_WORKERS = 64


def sample_ports(low: int, high: int, limit: int = MAX_PORTS_PER_NODE) -> list[int]:
    """Every port in low..high when there are at most `limit`; else `limit` evenly spaced
    ports including both ends (deterministic, so two runs test the same ports)."""
    size = high - low + 1
    if size <= limit:
        return list(range(low, high + 1))
    if limit == 1:
        return [low]
    step = (size - 1) / (limit - 1)
    return sorted({low + round(i * step) for i in range(limit)})


def check_nodeports(nodes, port_range: tuple[int, int], timeout: float = TIMEOUT_S,
                    max_ports: int = MAX_PORTS_PER_NODE,
                    max_workers: int = MAX_WORKERS) -> list[CheckResult]:
    """One result per node. timeout is per connection, in seconds. Never raises."""
    low, high = port_range
    ports = sample_ports(low, high, max_ports)
    size = high - low + 1
    scope = (f"all {size} ports {low}-{high}" if len(ports) == size else
             f"a sample of {len(ports)} of {size} ports {low}-{high} (evenly spaced, both ends)")
    jobs = [(node, port) for node in nodes for port in ports]
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(jobs)))) as pool:
        outcomes = list(pool.map(lambda job: _tcp.probe(job[0], job[1], timeout)[0], jobs))
    by_node: dict[str, dict[int, str]] = {node: {} for node in nodes}
    for (node, port), outcome in zip(jobs, outcomes, strict=True):
        by_node[node][port] = outcome
    return [_node_result(node, f"{node}:{low}-{high}", by_node[node], scope, timeout)
            for node in nodes]


def _node_result(node: str, target: str, outcomes: dict[int, str], scope: str,
                 timeout: float) -> CheckResult:
    if _tcp.UNRESOLVED in outcomes.values():
        return CheckResult("nodeport", target, False, f"{node} does not resolve from here",
                           "check the node name (kubectl get nodes -o wide) and the cluster's DNS")
    counts = {kind: [p for p, o in outcomes.items() if o == kind]
              for kind in (_tcp.OPEN, _tcp.REFUSED, _tcp.NO_ANSWER)}
    detail = (f"{scope}: {len(counts[_tcp.OPEN])} open, {len(counts[_tcp.REFUSED])} refused "
              f"(answered, nothing listening), {len(counts[_tcp.NO_ANSWER])} no answer "
              f"within {timeout:g} s")
    silent = counts[_tcp.NO_ANSWER]
    if silent:
        return CheckResult("nodeport", target, False, f"{detail}; e.g. port {_examples(silent)}",
                           f"open TCP {target.rsplit(':', 1)[1]} from this host to {node} in the "
                           "firewall / security group / network policy")
    if counts[_tcp.REFUSED]:
        detail += ("; refused ports are reachable (a firewall REJECT rule looks the same: confirm "
                   "with a test NodePort Service)")
    return CheckResult("nodeport", target, True, detail)


def _examples(ports: list[int], n: int = 5) -> str:
    shown = ", ".join(str(p) for p in sorted(ports)[:n])
    return shown + (", ..." if len(ports) > n else "")
