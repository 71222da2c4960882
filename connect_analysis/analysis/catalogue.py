"""The system-requirements catalogue: which OS packages an R or Python package needs on an OS.

R: the rules of rstudio/r-system-requirements (MIT; bundled in data/sysreqs/r-catalogue.json,
built by tools/build_sysreqs_data.py). A package's SystemRequirements text comes from the
catalogue's sample of CRAN packages; a rule applies when any of its patterns (regular
expressions, case-insensitive) is found in that text; a rule's dependency applies to an OS
when one of its constraints names the OS's distribution and either lists no versions or lists
the OS's version. Every applicable dependency of every matching rule contributes its packages
and its pre_install / post_install commands.

Python: the hand-kept table data/sysreqs/python-sysreqs.yaml (documented in its header).

Statuses of one requirement (REQUIREMENT_STATUSES):
- resolved:         OS packages (or install commands) found for the OS
- none:             known to need no OS package (ships with R; Python table says so)
- no_rule:          the requirement text is known but no rule matches it
- no_os_package:    a rule or table entry matches but names nothing for this OS
- not_in_catalogue: the package is not in the catalogue, so its needs are unknown
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources

import yaml

from ..errors import AnalysisError

DEFAULT_OS = ("ubuntu-22.04", "ubuntu-24.04")
REQUIREMENT_STATUSES = ("resolved", "none", "no_rule", "no_os_package", "not_in_catalogue")

# Base and recommended packages ship with R itself and declare no SystemRequirements.
R_SHIPPED_WITH_R = frozenset({
    "base", "compiler", "datasets", "graphics", "grDevices", "grid", "methods", "parallel",
    "splines", "stats", "stats4", "tcltk", "tools", "utils",
    "boot", "class", "cluster", "codetools", "foreign", "KernSmooth", "lattice", "MASS",
    "Matrix", "mgcv", "nlme", "nnet", "rpart", "spatial", "survival",
})
APT_DISTRIBUTIONS = ("ubuntu", "debian")  # the Python table gives apt names only
_VERSION_PART = re.compile(r"\d+")


@dataclass(frozen=True)
class Requirement:
    """One reason a package needs something on one OS."""

    status: str
    requirement: str | None  # the SystemRequirements text, or the Python table's "why"
    rule: str | None = None  # "gdal" (an R catalogue rule) or "python:psycopg2 build"
    os_packages: tuple[str, ...] = ()
    pre_install: tuple[str, ...] = ()
    post_install: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetOS:
    """An image OS such as ubuntu-22.04: distribution and version as the catalogue spells them."""

    distribution: str
    version: str | None

    @property
    def id(self) -> str:
        return f"{self.distribution}-{self.version}" if self.version else self.distribution


@dataclass(eq=False)  # hashed by identity, so its methods can be cached
class Catalogue:
    rules: list[tuple[str, list[re.Pattern], list[dict]]]
    cran: dict[str, tuple[str | None, str]]  # package -> (catalogue version, SystemRequirements)
    python: dict[str, dict]
    systems: dict[str, list[str]]  # distribution -> known versions
    source: str = ""
    commit: str | None = None
    _cran_lower: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self._cran_lower = {name.lower(): name for name in self.cran}

    def target(self, os_id: str) -> TargetOS:
        """Parse "ubuntu-22.04" (distribution-version); raises AnalysisError for an unknown OS."""
        dist, _, version = str(os_id).strip().lower().partition("-")
        if dist not in self.systems or (version and version not in self.systems[dist]):
            known = ", ".join(f"{d}-{v}" for d, vs in self.systems.items() for v in vs)
            raise AnalysisError(f"unknown image OS {os_id!r}; the catalogue knows: {known}")
        return TargetOS(dist, version or None)

    def r_requirement_text(self, name: str) -> str | None:
        """The SystemRequirements text the catalogue lists for an R package, or None."""
        hit = self.cran.get(name)
        if hit is None and name.lower() in self._cran_lower:  # CRAN names are unique ignoring case
            hit = self.cran[self._cran_lower[name.lower()]]
        return hit[1] if hit else None

    def resolve(self, language: str, name: str, version: str | None,
                target: TargetOS) -> tuple[Requirement, ...]:
        """Every requirement of one package on one OS (at least one; see the module docstring)."""
        if str(language).lower() == "python":
            return self._resolve_python(name, version, target)
        return self._resolve_r(name, target)

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one catalogue per process, kept for life
    def _resolve_r(self, name: str, target: TargetOS) -> tuple[Requirement, ...]:
        text = self.r_requirement_text(name)
        if text is None:
            if name in R_SHIPPED_WITH_R:
                return (Requirement("none", "ships with R"),)
            return (Requirement("not_in_catalogue", None),)
        return self.requirements_for_text(text, target)

    def requirements_for_text(self, text: str, target: TargetOS) -> tuple[Requirement, ...]:
        """Apply every rule to one SystemRequirements text: resolved / no_os_package per
        matching rule, or a single no_rule."""
        out = []
        for rule_name, patterns, dependencies in self.rules:
            if not any(p.search(text) for p in patterns):
                continue
            deps = [d for d in dependencies if _applies(d, target)]
            if not deps:
                out.append(Requirement("no_os_package", text, rule_name))
                continue
            out.append(Requirement(
                "resolved", text, rule_name,
                os_packages=_unique(p for d in deps for p in d.get("packages", [])),
                pre_install=_unique(_step(s) for d in deps for s in d.get("pre_install", [])),
                post_install=_unique(_step(s) for d in deps for s in d.get("post_install", [])),
            ))
        return tuple(out) or (Requirement("no_rule", text),)

    @functools.lru_cache(maxsize=65536)  # noqa: B019
    def _resolve_python(self, name: str, version: str | None,
                        target: TargetOS) -> tuple[Requirement, ...]:
        key = normalize_python_name(name)
        entry = self.python.get(key)
        if entry is None:
            return (Requirement("not_in_catalogue", None),)
        why = entry.get("why")
        override = (entry.get("os") or {}).get(target.id, {})
        runtime = override.get("runtime", entry.get("runtime") or [])
        build = override.get("build", entry.get("build") or [])
        since = entry.get("wheels_since")
        if build and since is not None and version and version_key(version) >= version_key(since):
            build = []  # a wheel exists for this version: nothing to build
        out = []
        for kind, pkgs in (("build", build), ("runtime", runtime)):
            if not pkgs:
                continue
            if target.distribution in APT_DISTRIBUTIONS:
                out.append(Requirement("resolved", why, f"python:{key} {kind}", tuple(pkgs)))
            else:
                out.append(Requirement("no_os_package", why, f"python:{key} {kind}"))
        if entry.get("manual"):
            out.append(Requirement("no_os_package", f"{entry['manual']}: {why}", f"python:{key} manual"))
        return tuple(out) or (Requirement("none", why, f"python:{key}"),)


def normalize_python_name(name: str) -> str:
    """PEP 503: lower case, runs of "-", "_" and "." become one "-"."""
    return re.sub(r"[-_.]+", "-", str(name)).lower()


def version_key(text: str) -> tuple[int, ...]:
    """Numeric parts of a package version, split on any non-digit: "1.0-12" -> (1, 0, 12)."""
    parts = [int(p) for p in _VERSION_PART.findall(str(text))]
    while parts and parts[-1] == 0:  # "3.0" == "3.0.0"
        parts.pop()
    return tuple(parts)


def _applies(dependency: dict, target: TargetOS) -> bool:
    for c in dependency.get("constraints", []):
        if c.get("os") != "linux" or c.get("distribution") != target.distribution:
            continue
        versions = c.get("versions")
        if not versions or target.version is None or target.version in versions:
            return True
    return False


def _step(step: dict) -> str:
    if "command" in step:
        return step["command"]
    # Scripts live in the catalogue's scripts/ directory, which the kit does not bundle.
    return f"# run scripts/{step['script']} from rstudio/r-system-requirements"


def _unique(items) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@functools.cache
def load_catalogue() -> Catalogue:
    """The bundled catalogue (read once per process)."""
    base = resources.files("connect_analysis") / "data" / "sysreqs"
    data = json.loads((base / "r-catalogue.json").read_text(encoding="utf-8"))
    python = yaml.safe_load((base / "python-sysreqs.yaml").read_text(encoding="utf-8")) or {}
    rules = [
        (name, [re.compile(p, re.IGNORECASE) for p in rule["patterns"]], rule["dependencies"])
        for name, rule in data["rules"].items()
    ]
    systems = {s["distribution"]: list(s.get("versions", [])) for s in data["systems"]
               if s.get("os") == "linux"}
    return Catalogue(
        rules=rules,
        cran={k: (v[0], v[1]) for k, v in data["cran"].items()},
        python={normalize_python_name(k): v or {} for k, v in python.items()},
        systems=systems,
        source=data.get("source", ""),
        commit=data.get("commit"),
    )
