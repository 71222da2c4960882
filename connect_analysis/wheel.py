"""A wheel of the kit as it is installed here, for `bundle` (Connect installs it from there).

Made from what Python imports, not from a checkout: the files of the distribution's two packages
(connect_analysis and its sibling connect_simulator, which `demo` and `simulate` start; the
report's assets included: connect_analysis/_assets in a wheel install, the checkout's top level
in an editable one) and the installed distribution's METADATA and entry points.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from importlib import metadata, resources
from pathlib import Path

from .assets import PACKAGED, assets_root
from .errors import ConfigError

DIST = "connect-analysis"
PACKAGES = ("connect_analysis", "connect_simulator")  # [tool.hatch.build.targets.wheel] packages
ASSETS = ("notebooks", "templates", "_quarto.yml", "deploy")
_SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
_EPOCH = (2020, 2, 2, 0, 0, 0)  # fixed times: the same kit gives the same wheel


def installed_distribution() -> metadata.Distribution:
    try:
        return metadata.distribution(DIST)
    except metadata.PackageNotFoundError:
        raise ConfigError("connect-analysis is not installed in this environment: install it "
                          "(uv tool install / pipx / pip) and run bundle again") from None


def wheel_name(dist: metadata.Distribution) -> str:
    return f"connect_analysis-{dist.version}-py3-none-any.whl"


def kit_files() -> dict[str, Path]:
    """Archive name -> file for every file of the importable packages and the kit's assets."""
    files = {}
    for name in PACKAGES:
        files |= {f"{name}/{rel}": path for rel, path in _walk(_package_dir(name)).items()}
    package = _package_dir("connect_analysis")
    root = assets_root()
    if root != package / PACKAGED:  # an editable install: the assets sit beside the package
        for name in ASSETS:
            src = root / name
            found = {name: src} if src.is_file() else {f"{name}/{r}": p for r, p in _walk(src).items()}
            files |= {f"connect_analysis/{PACKAGED}/{rel}": path for rel, path in found.items()}
    return dict(sorted(files.items()))


def build_kit_wheel(dest_dir: Path) -> Path:
    """Write the kit's wheel into dest_dir; returns its path."""
    dist = installed_distribution()
    info = f"connect_analysis-{dist.version}.dist-info"
    members = {name: path.read_bytes() for name, path in kit_files().items()}
    members[f"{info}/METADATA"] = (dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "").encode()
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:
        members[f"{info}/entry_points.txt"] = entry_points.encode()
    members[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: connect-analysis bundle\n"
                                b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in members.items()]
    members[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    out = dest_dir / wheel_name(dist)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            entry = zipfile.ZipInfo(name, date_time=_EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return out


def _package_dir(name: str) -> Path:
    return Path(str(resources.files(name)))


def _walk(src: Path) -> dict[str, Path]:
    """Relative name -> path of the regular files under src (no caches or checkpoints)."""
    found = {}
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_file() and path.suffix != ".pyc" and not _SKIP_PARTS & set(rel.parts):
            found[rel.as_posix()] = path
    return found


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
