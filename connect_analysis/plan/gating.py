"""What the target Connect version allows: which chart values the plan emits, and findings.

Versions from Posit's release notes and the rstudio-connect chart (migration-targets.md):
executionEnvironments 2026.03.0, the direct Kubernetes runner 2026.04.0, the nameservice for
RunAsCurrentUser off-host 2026.01.0, sharedStorage.subPath in content pods 2026.08.0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..analysis.versions import parse_version
from ..errors import ConfigError

EXECUTION_ENVIRONMENTS = "execution_environments"
KUBERNETES_BACKEND = "kubernetes_backend"
NAMESERVICE = "nameservice"
SHARED_STORAGE_SUBPATH = "shared_storage_subpath"

# feature -> (first Connect version, what it is)
FEATURES = {
    NAMESERVICE: ("2026.01.0", "the chart's nameservice (RunAsCurrentUser off-host)"),
    EXECUTION_ENVIRONMENTS: ("2026.03.0", "declarative execution environments (executionEnvironments)"),
    KUBERNETES_BACKEND: ("2026.04.0", "the direct Kubernetes runner (backends.kubernetes)"),
    SHARED_STORAGE_SUBPATH: ("2026.08.0", "sharedStorage.subPath in content pods"),
}
_VERSION = re.compile(r"\d{4}\.\d{2}\.\d+")


@dataclass(frozen=True)
class Target:
    """The new cluster's Connect version and which FEATURES it has ({feature: bool})."""

    version: str
    source: str  # "option" (--target-version), "analysis" (the readiness table's), "old server"
    features: dict

    def has(self, feature: str) -> bool:
        return self.features[feature]


def target_for(version: str | None, old_server_version: str | None) -> Target:
    """The Target for --target-version, defaulting to the old server's version (Posit's
    migration guide moves to the same version first). Raises ConfigError when neither is known
    or the version is not YYYY.MM.PATCH."""
    source = "option" if version else "old server"
    version = version or old_server_version
    if not version:
        raise ConfigError("the snapshot does not say the server's Connect version: give --target-version")
    if not _VERSION.fullmatch(str(version)):
        raise ConfigError(f"{version!r} is not a Connect version (YYYY.MM.PATCH, e.g. 2026.04.0)")
    have = parse_version(version)
    features = {name: have >= parse_version(first) for name, (first, _) in FEATURES.items()}
    return Target(str(version), source, features)


def findings(target: Target, run_as_current_user_count: int) -> list[dict]:
    """What the target version means for the plan: [{code, severity, message}], worst first."""
    out = []
    first = {name: v for name, (v, _) in FEATURES.items()}
    if not target.has(EXECUTION_ENVIRONMENTS):
        out.append(_finding("no-declarative-environments", "conditional",
                            f"Connect {target.version} predates executionEnvironments "
                            f"({first[EXECUTION_ENVIRONMENTS]}): values.yaml leaves them out; create "
                            "the environments after install with environments.sh or environments.json."))
    if not target.has(KUBERNETES_BACKEND):
        out.append(_finding("launcher-backend", "info",
                            f"Connect {target.version} predates the direct Kubernetes runner "
                            f"({first[KUBERNETES_BACKEND]}): values.yaml enables the Launcher instead."))
    if run_as_current_user_count:
        if target.has(NAMESERVICE):
            out.append(_finding("nameservice-needed", "conditional",
                                f"{run_as_current_user_count} items run as the viewing user: enable the "
                                "chart's nameservice (values.yaml) with an SSO provider (OAuth2, SAML or "
                                "LDAP; not PAM) and a service token with the nameservice:read scope."))
        else:
            out.append(_finding("no-nameservice", "blocked",
                                f"{run_as_current_user_count} items run as the viewing user, which off-host "
                                f"needs the nameservice of Connect {first[NAMESERVICE]} or later "
                                f"(target: {target.version})."))
    if not target.has(SHARED_STORAGE_SUBPATH):
        out.append(_finding("no-shared-storage-subpath", "info",
                            f"Connect {target.version} predates sharedStorage.subPath in content pods "
                            f"({first[SHARED_STORAGE_SUBPATH]}): keep the data directory at the root "
                            "of the volume."))
    rank = {"blocked": 0, "conditional": 1, "info": 2}
    return sorted(out, key=lambda f: rank[f["severity"]])


def _finding(code: str, severity: str, message: str) -> dict:
    return {"code": code, "severity": severity, "message": message}
