"""values.yaml: a fragment for the rstudio/rstudio-connect chart (0.20+), written as text so
that every value the kit cannot know carries a TODO comment beside it.

Shape from the chart's values.yaml (rstudio/helm, chart 0.21.0): sharedStorage, launcher,
backends.kubernetes, nameservice, config, executionEnvironments.
"""

from __future__ import annotations

import math

from ..analysis.runtimes import LANGUAGES
from .gating import EXECUTION_ENVIRONMENTS, KUBERNETES_BACKEND, NAMESERVICE, SHARED_STORAGE_SUBPATH
from .quoting import comment, yaml_str

GB = 10**9


def storage_quantity(recommended_bytes: int) -> str:
    """The smallest whole number of gigabytes (10^9 bytes) >= recommended_bytes, as a Kubernetes
    quantity: 100_000_000_000 -> '100G', 100_000_000_001 -> '101G'."""
    return f"{max(1, math.ceil(int(recommended_bytes) / GB))}G"


def values_yaml(entries: list[dict], storage: dict, target, run_as_current_user: int,
                header: list[str]) -> str:
    """The values.yaml text. storage: the analysis's storage block (recommended_bytes,
    current_use_bytes, current_use_source); target: gating.Target."""
    lines = [f"# {comment(h, 200)}" for h in header]
    lines += ["# Values marked TODO are what the kit cannot know: replace them before `helm install`.",
              "# Not here, and needed: the licence (license.file.secret or license.key), ingress, replicas.", ""]
    lines += _shared_storage(storage, target)
    lines += _backend(target)
    if run_as_current_user:
        lines += _nameservice(target, run_as_current_user)
    lines += _config()
    lines += _environments(entries, target)
    return "\n".join(lines).rstrip("\n") + "\n"


def _shared_storage(storage: dict, target) -> list[str]:
    rec = int(storage["recommended_bytes"])
    out = [
        "sharedStorage:",
        "  create: true",
        "  mount: true",
        "  # TODO: a StorageClass that supports ReadWriteMany (NFS, EFS, Azure Files, ...)",
        '  storageClassName: "<rwx-storage-class>"',
        "  accessModes:",
        "    - ReadWriteMany",
        "  requests:",
        f"    # recommended: max(100 GB, 2 x current use of {int(storage['current_use_bytes']):,} bytes"
        f" from {comment(storage.get('current_use_source') or 'bundles')}) = {rec:,} bytes",
        f'    storage: "{storage_quantity(rec)}"',
    ]
    if target.has(SHARED_STORAGE_SUBPATH):
        out.append('  # subPath: "<dir>"  # only if the data directory is a subdirectory of the volume')
    else:
        out.append(f"  # no subPath: content pods ignore it before Connect 2026.08.0 (target {target.version})")
    return out + [""]


def _backend(target) -> list[str]:
    if target.has(KUBERNETES_BACKEND):
        return ["launcher:", "  enabled: false", "backends:", "  kubernetes:",
                f"    enabled: true  # the direct Kubernetes runner (Connect >= 2026.04.0; target {target.version})",
                "    # content service accounts need the label connect.posit.co/service-account=true", ""]
    return [f"launcher:  # Connect {target.version} predates the direct Kubernetes runner (2026.04.0)",
            "  enabled: true", "backends:", "  kubernetes:", "    enabled: false", ""]


def _nameservice(target, count: int) -> list[str]:
    if not target.has(NAMESERVICE):
        return [f"# {count} items run as the viewing user: off-host that needs the nameservice of",
                f"# Connect 2026.01.0 or later (target {target.version}); see plan.json findings.", ""]
    return [f"nameservice:  # {count} items run as the viewing user (RunAsCurrentUser)",
            "  enabled: true",
            "  # TODO: a Secret with libnss_connect.conf, made from a service token with the",
            "  # nameservice:read scope; needs an SSO provider (OAuth2, SAML or LDAP), not PAM",
            '  secretName: "<nameservice-secret>"',
            "# and in config: Applications.RunAsCurrentUser: true, with that SSO provider", ""]


def _config() -> list[str]:
    return ["config:",
            "  Database:",
            '    Provider: "Postgres"',
            "  Postgres:",
            "    # TODO: the database the old server used; the password comes from a Secret",
            "    # (CONNECT_POSTGRES_PASSWORD), never from this file",
            '    URL: "postgres://<user>@<postgres-host>:5432/<database>"',
            "  Server:",
            "    # TODO: the URL users will reach the new server at",
            '    Address: "https://<connect-host>"',
            ""]


def _environments(entries: list[dict], target) -> list[str]:
    if not target.has(EXECUTION_ENVIRONMENTS):
        return [f"# executionEnvironments needs Connect 2026.03.0 (target {target.version}):",
                "# create the environments after install with environments.sh or environments.json.",
                "executionEnvironments: []"]
    out = ["# One environment per image that the plan assigns content to (Connect >= 2026.03.0).",
           "# The chart renders this list into the ConfigMap <release>-execution-environments."]
    if not entries:
        return out + ["executionEnvironments: []"]
    return out + ["executionEnvironments:"] + environment_lines(entries)


def environment_lines(entries: list[dict], indent: str = "  ") -> list[str]:
    """The entries as a YAML block list, every string double-quoted."""
    out = []
    for e in entries:
        out += [f"{indent}- name: {yaml_str(e['name'])}",
                f"{indent}  title: {yaml_str(e['title'])}",
                f"{indent}  description: {yaml_str(e['description'])}",
                f"{indent}  matching: {yaml_str(e['matching'])}"]
        for lg in LANGUAGES:
            if lg not in e:
                continue
            out += [f"{indent}  {lg}:", f"{indent}    installations:"]
            for inst in e[lg]["installations"]:
                out += [f"{indent}      - version: {yaml_str(inst['version'])}",
                        f"{indent}        path: {yaml_str(inst['path'])}"]
    return out
