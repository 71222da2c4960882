"""System requirements: the OS packages each content item's R and Python packages need, per image OS.

Input: the snapshot's `packages` table (content_guid, language, name, version) and `content`.
The catalogue (catalogue.py) says what each package needs; this module says which deployed
content needs it, and why, and turns the answer into install lines for an image build.

Content whose packages could not be read is reported as unknown, never as needing nothing
(CONTENT_STATUSES):
- recorded:              the server listed its packages
- packages_unavailable:  the snapshot has no package data (old server, or the fetch failed)
- no_packages_recorded:  deployed R or Python content with no package listed
- no_r_or_python:        deployed content that needs no packages: static content, a TensorFlow
                         model, Quarto with no engine (a Quarto version but neither R nor Python)

A missing R or Python version alone does not make content need nothing: a viewer's key gets
runtime fields as null, and a Shiny app not yet restored has none.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .catalogue import DEFAULT_OS, TargetOS, load_catalogue
from .packages import normalized_packages

UNKNOWN_CONTENT_STATUSES = ("packages_unavailable", "no_packages_recorded")
CONTENT_STATUSES = ("recorded",) + UNKNOWN_CONTENT_STATUSES + ("no_r_or_python",)
# app modes that run no R or Python code (and list no packages)
NO_PACKAGE_MODES = ("static", "tensorflow-saved-model")

# system-requirements.csv: one row per (os, content, package, rule, OS package) that resolved,
# per (os, content, package, rule) that did not (no_rule, no_os_package), and per (os, content)
# whose packages are unknown. Packages that need nothing or are not in the catalogue are
# listed once per package in the inventory instead (packages.py).
CSV_COLUMNS = ["os", "os_package", "status", "content_guid", "content_title", "language",
               "package", "package_version", "rule", "requirement", "pre_install", "post_install"]
CSV_STATUSES = ("resolved", "no_rule", "no_os_package") + UNKNOWN_CONTENT_STATUSES

_INSTALLERS = {  # distribution -> the install command an image build runs
    "ubuntu": "apt-get install -y --no-install-recommends",
    "debian": "apt-get install -y --no-install-recommends",
    "centos": "yum install -y",
    "redhat": "dnf install -y",
    "rockylinux": "dnf install -y",
    "fedora": "dnf install -y",
    "opensuse": "zypper --non-interactive install",
    "sle": "zypper --non-interactive install",
    "alpine": "apk add --no-cache",
}
_REFRESH = {"ubuntu": "apt-get update", "debian": "apt-get update"}


@dataclass
class SystemRequirements:
    """The answer for every requested image OS.

    rows:             system-requirements.csv (CSV_COLUMNS)
    os_packages:      {os: [OS package, ...]} sorted by name: what an image for that OS needs
    install_lines:    {os: [shell line, ...]}: pre_install commands, the install, post_install
    by_os_package:    one row per (os, os_package): content_count, important_content_count,
                      packages ("r:sf, python:gdal"), rules
    content_status:   one row per deployed content item: content_guid, content_title,
                      status (CONTENT_STATUSES), package_count, reason
    package_status:   one row per (os, language, package): status (catalogue.REQUIREMENT_STATUSES,
                      the best over its requirements), requirement, rules, os_packages, content_count
    """

    rows: pd.DataFrame
    os_packages: dict[str, list[str]]
    install_lines: dict[str, list[str]]
    by_os_package: pd.DataFrame
    content_status: pd.DataFrame
    package_status: pd.DataFrame

    @property
    def unresolved_packages(self) -> pd.DataFrame:
        """package_status rows whose needs are not fully known: no_rule, no_os_package, not_in_catalogue."""
        ps = self.package_status
        keep = ps["status"].isin(["no_rule", "no_os_package", "not_in_catalogue"])
        return ps[keep].sort_values(["os", "status", "content_count", "language", "package"],
                                    ascending=[True, True, False, True, True], ignore_index=True)

    def install_script(self) -> str:
        """The install lines of every OS as one text, a "# <os>" comment line before each."""
        parts = []
        for os_id, lines in self.install_lines.items():
            parts.append(f"# {os_id}")
            parts.extend(lines or ["# nothing to install from the packages recorded"])
            parts.append("")
        return "\n".join(parts)

    @property
    def unknown_content(self) -> pd.DataFrame:
        """Deployed content whose packages could not be read (status in UNKNOWN_CONTENT_STATUSES)."""
        cs = self.content_status
        return cs[cs["status"].isin(UNKNOWN_CONTENT_STATUSES)].reset_index(drop=True)


def content_package_status(packages: pd.DataFrame, content: pd.DataFrame,
                           packages_unavailable: str | None = None) -> pd.DataFrame:
    """One row per deployed content item: content_guid, content_title, status, package_count, reason.

    Deployed content with neither an R nor a Python version and no packages is no_r_or_python
    when its app mode runs no code (NO_PACKAGE_MODES) or it has a Quarto version (Quarto without
    an engine), whatever the package data; any other content without packages is unknown.
    packages_unavailable: why the snapshot has no package data (the manifest's reason), or None
    when the package table was read.
    """
    deployed = content[content["bundle_id"].notna()]
    counts = packages.groupby("content_guid").size() if len(packages) else pd.Series(dtype="int64")
    n = deployed["guid"].map(counts).fillna(0).astype("int64").to_numpy()
    has_runtime = (deployed["r_version"].notna() | deployed["py_version"].notna()).to_numpy()
    runs_no_code = (deployed["app_mode"].isin(NO_PACKAGE_MODES)
                    | deployed["quarto_version"].notna()).to_numpy()
    status, reason = [], []
    for count, runtime, no_code in zip(n, has_runtime, runs_no_code, strict=True):
        if not runtime and not count and no_code:
            status.append("no_r_or_python")
            reason.append(None)
        elif packages_unavailable is not None:
            status.append("packages_unavailable")
            reason.append(packages_unavailable)
        elif count:
            status.append("recorded")
            reason.append(None)
        else:
            status.append("no_packages_recorded")
            reason.append("deployed with R or Python, but the server listed no packages for it")
    return pd.DataFrame({
        "content_guid": deployed["guid"].astype("string").to_numpy(),
        "content_title": _titles(deployed).to_numpy(),
        "status": pd.array(status, dtype="string"),
        "package_count": pd.array(n, dtype="Int64"),
        "reason": pd.array(reason, dtype="string"),
    })


def system_requirements(packages: pd.DataFrame, content: pd.DataFrame,
                        os_list=DEFAULT_OS, packages_unavailable: str | None = None,
                        important_guids=()) -> SystemRequirements:
    """Resolve every deployed content item's packages to OS packages for each OS in os_list.

    os_list: image OS ids as "distribution-version" ("ubuntu-22.04"); see catalogue.TargetOS.
    packages_unavailable: the reason the snapshot has no package data, or None.
    important_guids: content counted in by_os_package.important_content_count.
    """
    catalogue = load_catalogue()
    targets = [catalogue.target(o) for o in os_list]
    status = content_package_status(packages, content, packages_unavailable)
    recorded = status.loc[status["status"] == "recorded", ["content_guid", "content_title"]]
    pk = normalized_packages(packages if packages_unavailable is None else packages.iloc[0:0])
    pk = pk[pk["content_guid"].isin(recorded["content_guid"])]
    # Resolve each distinct (language, name, version) once; content joins back on it.
    distinct = pk[["language", "name", "version"]].drop_duplicates()
    important = set(important_guids)

    rows, os_packages, install, by_pkg, pkg_status = [], {}, {}, [], []
    for target in targets:
        req = _requirements(catalogue, distinct, target)
        joined = pk.merge(req, on=["language", "name", "version"], how="inner").merge(
            recorded, on="content_guid", how="left")
        joined = joined.rename(columns={"name": "package", "version": "package_version"})
        in_csv = joined[joined["status"].isin(CSV_STATUSES)]
        rows.append(_csv_rows(in_csv, target))
        rows.append(_unknown_rows(status, target))
        resolved = in_csv[in_csv["status"] == "resolved"]
        names = sorted({p for pkgs in resolved["os_packages"] for p in pkgs})
        os_packages[target.id] = names
        install[target.id] = _install_lines(resolved, target, names)
        by_pkg.append(_by_os_package(resolved, target, important))
        pkg_status.append(_package_status(req, pk, target))
    return SystemRequirements(
        rows=_frame(rows, CSV_COLUMNS),
        os_packages=os_packages,
        install_lines=install,
        by_os_package=_frame(by_pkg, ["os", "os_package", "content_count",
                                      "important_content_count", "packages", "rules"]),
        content_status=status,
        package_status=_frame(pkg_status, ["os", "language", "package", "status", "requirement",
                                           "rules", "os_packages", "content_count"]),
    )


def _requirements(catalogue, distinct: pd.DataFrame, target: TargetOS) -> pd.DataFrame:
    """One row per (language, name, version, requirement) for the target OS."""
    out = []
    for lang, name, version in zip(*(distinct[c].tolist() for c in ("language", "name", "version")),
                                   strict=True):
        version = None if pd.isna(version) else version
        for r in catalogue.resolve(lang, name, version, target):
            out.append((lang, name, version, r.status, r.requirement, r.rule, r.os_packages,
                        r.pre_install, r.post_install))
    df = pd.DataFrame(out, columns=["language", "name", "version", "status", "requirement", "rule",
                                    "os_packages", "pre_install", "post_install"])
    for c in ("language", "name", "version"):
        df[c] = df[c].astype("string")
    return df


def _csv_rows(df: pd.DataFrame, target: TargetOS) -> pd.DataFrame:
    df = df.assign(os=target.id,
                   os_package=df["os_packages"].map(lambda p: list(p) if p else [None]),
                   pre_install=df["pre_install"].map(lambda c: "; ".join(c) or None),
                   post_install=df["post_install"].map(lambda c: "; ".join(c) or None))
    return df.explode("os_package")[CSV_COLUMNS]


def _unknown_rows(status: pd.DataFrame, target: TargetOS) -> pd.DataFrame:
    unknown = status[status["status"].isin(UNKNOWN_CONTENT_STATUSES)]
    return pd.DataFrame({
        "os": target.id, "status": unknown["status"], "content_guid": unknown["content_guid"],
        "content_title": unknown["content_title"], "requirement": unknown["reason"],
    }).reindex(columns=CSV_COLUMNS)


def _by_os_package(resolved: pd.DataFrame, target: TargetOS, important: set) -> pd.DataFrame:
    e = resolved.explode("os_packages").dropna(subset=["os_packages"])
    if e.empty:
        return pd.DataFrame()
    label = e["language"].str.cat(e["package"], sep=":")
    rows = []
    for name, g in e.assign(label=label).groupby("os_packages", sort=True):
        guids = set(g["content_guid"])
        rows.append({"os": target.id, "os_package": name, "content_count": len(guids),
                     "important_content_count": len(guids & important),
                     "packages": ", ".join(sorted(set(g["label"]))),
                     "rules": ", ".join(sorted(set(g["rule"])))})
    return pd.DataFrame(rows).sort_values(["content_count", "os_package"], ascending=[False, True])


_STATUS_ORDER = {"resolved": 0, "no_os_package": 1, "no_rule": 2, "none": 3, "not_in_catalogue": 4}


def _package_status(req: pd.DataFrame, pk: pd.DataFrame, target: TargetOS) -> pd.DataFrame:
    """Per package: the best status over its requirements (and versions), and who uses it."""
    if req.empty:
        return pd.DataFrame()
    acc: dict[tuple, dict] = {}
    columns = ("language", "name", "status", "requirement", "rule", "os_packages")
    for lang, name, status, requirement, rule, pkgs in zip(*(req[c].tolist() for c in columns),
                                                           strict=True):
        a = acc.setdefault((lang, name), {"status": status, "requirement": None, "rules": set(),
                                          "os_packages": set()})
        if _STATUS_ORDER[status] < _STATUS_ORDER[a["status"]]:
            a["status"] = status
        if a["requirement"] is None and isinstance(requirement, str):
            a["requirement"] = requirement
        if isinstance(rule, str):
            a["rules"].add(rule)
        a["os_packages"].update(pkgs)
    counts = pk.groupby(["language", "name"])["content_guid"].nunique()
    rows = [{"os": target.id, "language": lang, "package": name, "status": a["status"],
             "requirement": a["requirement"], "rules": ", ".join(sorted(a["rules"])),
             "os_packages": ", ".join(sorted(a["os_packages"])),
             "content_count": int(counts.get((lang, name), 0))}
            for (lang, name), a in sorted(acc.items())]
    return pd.DataFrame(rows)


def _install_lines(resolved: pd.DataFrame, target: TargetOS, names: list[str]) -> list[str]:
    """Shell lines for an image build: pre_install commands, the install, post_install commands."""
    pre = list(dict.fromkeys(c for cs in resolved["pre_install"] for c in cs))
    post = list(dict.fromkeys(c for cs in resolved["post_install"] for c in cs))
    lines = list(pre)
    if names:
        refresh = _REFRESH.get(target.distribution)
        if refresh and (not lines or lines[-1] != refresh):  # a pre_install may end with it
            lines.append(refresh)
        lines.append(f"{_INSTALLERS[target.distribution]} {' '.join(names)}")
    return lines + post


def _titles(content: pd.DataFrame) -> pd.Series:
    return content["title"].fillna(content["name"]).astype("string")


def _frame(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="string") for c in columns})
    df = pd.concat(parts, ignore_index=True)[columns]
    for c in columns:
        counts = c.endswith("_count")
        df[c] = df[c].astype("Int64") if counts else df[c].astype("string")
    return df


def snapshot_system_requirements(snapshot, important_guids=(), os_list=DEFAULT_OS) -> SystemRequirements:
    """system_requirements() for a loaded snapshot, with its "packages unavailable" reason."""
    return system_requirements(snapshot.packages, snapshot.content, os_list,
                               snapshot.unavailable.get("packages"), important_guids)


def packages_analysis(snapshot, important_guids=(), os_list=DEFAULT_OS) -> tuple[dict, dict]:
    """What analyze() adds for packages: (summary keys, {CSV file name: table}).

    Summary keys: packages {r, python} (distinct names per language, see package_counts);
    system_requirements {os: [OS package]}; package_gaps {unknown_content, packages_unavailable,
    no_rule, no_os_package, not_in_catalogue}. CSVs: system-requirements.csv, packages.csv.
    """
    from .packages import package_counts, package_inventory

    reason = snapshot.unavailable.get("packages")
    result = snapshot_system_requirements(snapshot, important_guids, os_list)
    inventory = package_inventory(snapshot.packages, snapshot.content, important_guids)
    ps = result.package_status
    gaps = {
        "unknown_content": int(len(result.unknown_content)),
        "packages_unavailable": reason,
        # "language:name" of packages whose requirement text no rule matches / that a rule
        # matches but names nothing for an OS; counts of packages the catalogue does not know.
        "no_rule": _labels(ps[ps["status"] == "no_rule"]),
        "no_os_package": {o: _labels(ps[(ps["status"] == "no_os_package") & (ps["os"] == o)])
                          for o in result.os_packages},
        "not_in_catalogue": {lang: int((inventory["catalogue_status"].eq("not_in_catalogue")
                                        & inventory["language"].eq(lang)).sum())
                             for lang in ("r", "python")},
    }
    summary = {"packages": package_counts(snapshot.packages, snapshot.content),
               "system_requirements": result.os_packages,
               "package_gaps": gaps}
    return summary, {"system-requirements.csv": result.rows, "packages.csv": inventory}


def _labels(df: pd.DataFrame) -> list[str]:
    return sorted(set(df["language"].str.cat(df["package"], sep=":"))) if len(df) else []
