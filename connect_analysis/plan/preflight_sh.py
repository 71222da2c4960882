"""preflight.sh: the network checks Posit documents, run inside the new cluster with kubectl
(busybox `nc -vz HOST PORT` for shared storage and PostgreSQL), then the kit's own
`connect-analysis preflight`. Hosts are placeholders the administrator sets.

Content Services are ClusterIP by default in the chart, so the NodePort range check is only
written when the plan is asked for it (service_type "NodePort" or check_nodeports).
"""

from __future__ import annotations

NODEPORT = "NodePort"
NODEPORT_SKIPPED = ("the NodePort range check is skipped: content Services are ClusterIP by default "
                    "in the chart, so the range 30000-32767 matters only with NodePort Services "
                    "(plan --service-type NodePort or --check-nodeports to include it)")


def nodeports_wanted(service_type: str | None, check_nodeports: bool) -> bool:
    return bool(check_nodeports) or (service_type or "").lower() == NODEPORT.lower()


def preflight_sh(required_bytes: int, nodeports: bool) -> str:
    """The preflight.sh text; required_bytes: the free space the shared storage needs."""
    out = [
        "#!/usr/bin/env bash",
        "# Checks before the move, run where kubectl reaches the new cluster (made by",
        "# `connect-analysis plan`). Set the hosts first, e.g.:",
        "#   NFS_HOST=nfs.internal PG_HOST=db.internal ./preflight.sh",
        "set -euo pipefail",
        ': "${NFS_HOST:?set NFS_HOST to the shared storage (NFS) server host}"',
        ': "${PG_HOST:?set PG_HOST to the PostgreSQL host the new server will use}"',
        'NFS_PORT="${NFS_PORT:-2049}"',
        'PG_PORT="${PG_PORT:-5432}"',
        'NAMESPACE="${NAMESPACE:-default}"  # the namespace Connect will run in',
        "",
        "# Posit's documented checks: can a pod in the cluster reach the storage and the database?",
        'kubectl run --rm -i --namespace "$NAMESPACE" storage-check --image=busybox --restart=Never -- \\',
        '  nc -vz "$NFS_HOST" "$NFS_PORT"',
        'kubectl run --rm -i --namespace "$NAMESPACE" pg-check --image=busybox --restart=Never -- \\',
        '  nc -vz "$PG_HOST" "$PG_PORT"',
        "",
        "# The kit's own checks, from a pod or host with the kit installed and the volume mounted:",
        "# PostgreSQL login (give a DSN), free space on the shared storage, the Connect server.",
        f"#   connect-analysis preflight --postgres \"$PG_HOST:$PG_PORT\" --storage /mnt/connect-shared "
        f"--storage-required-bytes {int(required_bytes)}",
    ]
    if nodeports:
        out += ["",
                "# NodePort Services: can this host reach the NodePort range on every node?",
                ': "${NODES:?set NODES to the node hosts, comma-separated (kubectl get nodes -o wide)}"',
                'connect-analysis preflight --service-type NodePort --nodes "$NODES"']
    else:
        out += ["", f"# {NODEPORT_SKIPPED}."]
    return "\n".join(out) + "\n"
