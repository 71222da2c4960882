"""custom-images/: a Containerfile per runtime combination that no image serves (items
blocked by no-image), on Posit's image layout, and the environment entry that would serve it.

Each Containerfile starts FROM the Posit connect-content image of the table that already
carries the most of the combination's languages (by the version-matching rule), installs the
missing R, Python and Quarto versions where Posit's images put them (/opt/R/<v>, /opt/python/<v>,
/opt/quarto/<v>) from Posit's builds, then the OS packages the items' packages need (the
system-requirements analysis) minus those every connect-content image installs already.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources

import pandas as pd

from ..analysis.runtimes import LANGUAGES, VERSION_COLUMN
from ..analysis.versions import best_match
from .environments import LABEL, environment_entry
from .quoting import comment, count

DEFAULT_BASE = "ghcr.io/posit-dev/connect-content:R4.5.2-python3.14.3-ubuntu-24.04"
PLAIN_VERSION = re.compile(r"\d+(\.\d+){0,3}")
IMAGE_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*")  # what a FROM line may carry
IMAGE_PLACEHOLDER = "<registry>/connect-content-custom"
SHORT = {"r": "r", "python": "py", "quarto": "q"}
# The OS a Posit image name carries (ubuntu-24.04 / ubuntu2204) -> (catalogue OS id, CDN code)
_OS_IN_NAME = re.compile(r"ubuntu-?(\d\d)\.?(\d\d)")


@dataclass
class CustomImage:
    """One Containerfile: the combination {language: version}, the items it serves, the base
    image, what it installs, and the environment entry that would serve it."""

    directory: str
    needs: dict
    guids: list[str]
    titles: list[str]
    base: str
    os_id: str
    installs: dict  # {language: version} installed on top of the base
    reused: dict  # {language: version of the base image that serves the need}
    os_packages: list[str]
    pre_install: list[str] = field(default_factory=list)  # the catalogue's commands, before
    post_install: list[str] = field(default_factory=list)  # and after the OS packages
    containerfile: str = ""
    environment: dict = field(default_factory=dict)


def combinations(blocked: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    """{((language, version), ...): rows} of the no-image items, by their recorded versions.
    Only plain numeric versions make a Containerfile; others are left for plan.json to list."""
    out: dict[tuple, list] = {}
    for i, row in enumerate(blocked.itertuples(index=False)):
        need = tuple((lg, getattr(row, VERSION_COLUMN[lg])) for lg in LANGUAGES
                     if isinstance(getattr(row, VERSION_COLUMN[lg]), str) and getattr(row, VERSION_COLUMN[lg]))
        if need and all(PLAIN_VERSION.fullmatch(v) for _, v in need):
            out.setdefault(need, []).append(i)
    return {need: blocked.iloc[rows] for need, rows in sorted(out.items())}


def custom_images(blocked: pd.DataFrame, images: list[dict], sysreq_rows: pd.DataFrame,
                  rule: str) -> list[CustomImage]:
    """One CustomImage per combination of the blocked rows (guid, title and version columns)."""
    out = []
    for need, rows in combinations(blocked).items():
        needs = dict(need)
        base, reused = _base(needs, images, rule)
        os_id = _os_of(base)
        installs = {lg: v for lg, v in needs.items() if lg not in reused}
        guids = [str(g) for g in rows["guid"]]
        packages, pre, post = _os_packages(sysreq_rows, guids, os_id)
        img = CustomImage(
            directory="-".join(f"{SHORT[lg]}{v}" for lg, v in needs.items()),
            needs=needs, guids=guids, titles=[t if isinstance(t, str) else "" for t in rows["title"]],
            base=base, os_id=os_id, installs=installs, reused=reused,
            os_packages=[p for p in packages if p not in base_packages(os_id)],
            pre_install=pre, post_install=post)
        img.environment = _environment(img)
        img.containerfile = containerfile(img)
        out.append(img)
    return out


def _base(needs: dict, images: list[dict], rule: str) -> tuple[str, dict]:
    """The Posit connect-content image serving the most needed languages, and {language: its
    version} for those; the table's order breaks ties. DEFAULT_BASE when the table has none."""
    best, best_reused = DEFAULT_BASE, {}
    for img in images:
        if "/connect-content:" not in img["name"] or not IMAGE_REFERENCE.fullmatch(img["name"]):
            continue
        reused = {lg: m for lg, v in needs.items() if (m := best_match(v, img.get(lg, []), rule))}
        if best == DEFAULT_BASE and not best_reused or len(reused) > len(best_reused):
            best, best_reused = img["name"], reused
    return best, best_reused


def _os_of(image_name: str) -> str:
    m = _OS_IN_NAME.search(image_name)
    return f"ubuntu-{m.group(1)}.{m.group(2)}" if m else "ubuntu-24.04"


@functools.cache
def base_packages(os_id: str) -> frozenset[str]:
    """The apt packages every Posit connect-content image for os_id installs (images-connect)."""
    path = resources.files("connect_analysis").joinpath(f"data/images/deps_{os_id}_packages.txt")
    if not path.is_file():
        return frozenset()
    return frozenset(line.strip() for line in path.read_text().splitlines() if line.strip())


def _os_packages(rows: pd.DataFrame, guids: list[str], os_id: str) -> tuple[list, list, list]:
    """(OS packages, pre-install commands, post-install commands) the items' packages need on
    os_id, from system-requirements.csv rows."""
    if rows is None or rows.empty:
        return [], [], []
    mine = rows[rows["content_guid"].isin(guids) & (rows["os"] == os_id) & (rows["status"] == "resolved")]
    packages = sorted({p for p in mine["os_package"].dropna()})

    def commands(col):
        found = [c for cell in mine[col].dropna() for c in str(cell).split("; ") if c]
        return [c for c in dict.fromkeys(found) if c != "apt-get update"]
    return packages, commands("pre_install"), commands("post_install")


def _environment(img: CustomImage) -> dict:
    versions = {lg: [img.reused.get(lg) or img.installs[lg]] for lg in img.needs}
    image = {"name": f"{IMAGE_PLACEHOLDER}:{img.directory}", "matching": "any", **versions}
    entry = environment_entry(image, len(img.guids))
    entry["description"] = f"connect-analysis plan: custom image for {count(len(img.guids), 'item')} no image serves"
    return entry


def containerfile(img: CustomImage) -> str:
    """The Containerfile text. Versions are plain numbers (combinations() checked them)."""
    code = img.os_id.removeprefix("ubuntu-").replace(".", "")
    served = ", ".join(f"{LABEL[lg]} {v}" + (f" (the base image's {img.reused[lg]})" if lg in img.reused else "")
                       for lg, v in img.needs.items())
    out = [f"# Serves {count(len(img.guids), 'item')} that no image in the table runs: {served}.",
           "# Made by `connect-analysis plan`; build, push to your registry, then add environment.yaml",
           "# to executionEnvironments (or run the rsconnect line in it) with the image name you pushed."]
    out += [f"#   {comment(g)}  {comment(t)}" for g, t in zip(img.guids, img.titles, strict=True)]
    out += [f"FROM {img.base}", "USER root", "SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]"]
    if "r" in img.installs:
        out += ["# R from Posit's builds (versions: https://cdn.posit.co/r/versions.json)",
                f"ARG R_VERSION={img.installs['r']}",
                "RUN curl -fsSL -o /tmp/r.deb \"https://cdn.posit.co/r/ubuntu-" + code
                + "/pkgs/r-${R_VERSION}_1_$(dpkg --print-architecture).deb\" \\",
                "    && apt-get update && apt-get install -y --no-install-recommends /tmp/r.deb \\",
                "    && rm -f /tmp/r.deb && rm -rf /var/lib/apt/lists/* \\",
                "    && /opt/R/${R_VERSION}/bin/R --version"]
    if "python" in img.installs:
        out += ["# Python from Posit's builds (versions: https://cdn.posit.co/python/versions.json)",
                f"ARG PYTHON_VERSION={img.installs['python']}",
                "RUN curl -fsSL -o /tmp/python.deb \"https://cdn.posit.co/python/ubuntu-" + code
                + "/pkgs/python-${PYTHON_VERSION}_1_$(dpkg --print-architecture).deb\" \\",
                "    && apt-get update && apt-get install -y --no-install-recommends /tmp/python.deb \\",
                "    && rm -f /tmp/python.deb && rm -rf /var/lib/apt/lists/* \\",
                "    && /opt/python/${PYTHON_VERSION}/bin/python --version"]
    if "quarto" in img.installs:
        out += ["# Quarto from its GitHub release, where Posit's images put it",
                f"ARG QUARTO_VERSION={img.installs['quarto']}",
                "RUN mkdir -p /opt/quarto/${QUARTO_VERSION} \\",
                "    && curl -fsSL \"https://github.com/quarto-dev/quarto-cli/releases/download/v${QUARTO_VERSION}"
                "/quarto-${QUARTO_VERSION}-linux-$(dpkg --print-architecture).tar.gz\" \\",
                "    | tar -xz -C /opt/quarto/${QUARTO_VERSION} --strip-components=1 \\",
                "    && /opt/quarto/${QUARTO_VERSION}/bin/quarto --version"]
    out += _os_package_lines(img)
    return "\n".join(out) + "\n"


def _os_package_lines(img: CustomImage) -> list[str]:
    if not (img.os_packages or img.pre_install or img.post_install):
        return [f"# The items' packages need no OS package beyond what {img.os_id} connect-content images carry."]
    out = [f"# OS packages the items' R/Python packages need ({img.os_id}), minus what the base image carries"]
    out += [f"RUN {c}" for c in img.pre_install]
    if img.os_packages:
        out += ["RUN apt-get update && apt-get install -y --no-install-recommends \\"]
        out += [f"      {p} \\" for p in img.os_packages]
        out += ["    && rm -rf /var/lib/apt/lists/*"]
    return out + [f"RUN {_with_r_path(c, img)}" for c in img.post_install]


def _with_r_path(command: str, img: CustomImage) -> str:
    """`R CMD ...` with the image's R: Posit's images put no R on the PATH."""
    version = img.reused.get("r") or img.installs.get("r")
    if version and command.startswith("R "):
        return f"/opt/R/{version}/bin/R {command[2:]}"
    return command
