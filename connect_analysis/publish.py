"""The report as Connect content that Connect itself re-renders on a schedule.

`build_bundle(out)` (CLI: `connect-analysis bundle --out DIR`) assembles a directory that
`rsconnect deploy manifest DIR/manifest.json` publishes as a rendered Jupyter notebook:

    connect-analysis-report.ipynb   the entry point (deploy/ in the repository)
    connect_analysis-V-py3-none-any.whl
                                    the kit as it is installed here, notebooks and templates
                                    inside (connect_analysis.wheel)
    requirements.txt                the kit's dependencies pinned to the versions installed
                                    here, then the wheel itself: Connect installs the kit
    .python-version                 the Python versions the kit supports
    manifest.json                   written by rsconnect-python's `write-manifest notebook`

On Connect the entry point calls `render_on_connect()`, which reads CONNECT_SERVER and
CONNECT_API_KEY that Connect injects into every render; the key is never a parameter.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .assets import assets_root, entry_notebook
from .errors import ConfigError, ReportError
from .snapshot import replace_dir
from .wheel import build_kit_wheel, installed_distribution

ENTRY_POINT = "connect-analysis-report.ipynb"
PYTHON_REQUIRES = ">=3.11"


def pinned_requirements() -> list[str]:
    """The installed kit's runtime dependencies (no extras', not rsconnect), each pinned (==) to the
    version installed in this environment, extras and markers kept."""
    from importlib import metadata

    from packaging.requirements import Requirement

    lines = []
    for text in installed_distribution().requires or []:
        req = Requirement(text)
        if (req.marker and "extra" in str(req.marker)) or req.name == "rsconnect-python":
            continue  # rsconnect drops itself from a bundle's requirements (the wheel pulls it)
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            raise ConfigError(f"{req.name} is not installed here; reinstall the kit") from None
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        marker = f"; {req.marker}" if req.marker else ""
        lines.append(f"{req.name}{extras}=={installed}{marker}")
    return lines


def build_bundle(out: str | os.PathLike) -> Path:
    """Assemble the deployable bundle in `out` (replaced only when the new one is complete)
    from the installed kit. Returns out."""
    dest = Path(out).resolve()
    root = assets_root()
    if dest == root or dest in root.parents or root in dest.parents:
        raise ConfigError(f"--out {dest} would overwrite the kit's own files")
    entry = entry_notebook()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        shutil.copyfile(entry, tmp / ENTRY_POINT)
        wheel = build_kit_wheel(tmp)
        lines = [*pinned_requirements(), f"./{wheel.name}"]
        (tmp / "requirements.txt").write_text("\n".join(lines) + "\n")
        (tmp / ".python-version").write_text(PYTHON_REQUIRES + "\n")
        _write_manifest(tmp)
        tmp.chmod(0o755)  # mkdtemp made it private; the bundle is meant to be shared
        replace_dir(tmp, dest)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ConfigError(f"cannot build the bundle in {dest}: {e.strerror or e} "
                          f"({getattr(e, 'filename', '') or ''})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _write_manifest(bundle: Path) -> None:
    """Run rsconnect-python's `write-manifest notebook` over every file of the bundle."""
    extra = sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*")
                   if p.is_file() and p.name not in (ENTRY_POINT, "requirements.txt", "manifest.json"))
    env = {k: v for k, v in os.environ.items() if k not in ("CONNECT_API_KEY", "CONNECT_SERVER")}
    cmd = [sys.executable, "-c", "import sys; from rsconnect.main import cli; sys.exit(cli())",
           "write-manifest", "notebook", "--overwrite", "--hide-all-input",
           "--requirements-file", "requirements.txt", ENTRY_POINT, *extra]
    done = subprocess.run(cmd, cwd=bundle, env=env, capture_output=True, text=True)
    if done.returncode != 0 or not (bundle / "manifest.json").is_file():
        why = " ".join((done.stderr or done.stdout).split())[-300:]
        raise ReportError(f"rsconnect write-manifest failed: {why}")


def render_on_connect(days: int = 90, snapshot_dir: str | os.PathLike | None = None,
                      out_dir: str | os.PathLike = "report-output") -> Path:
    """Fetch the server this runs on and render the report; returns report.html.

    Reads CONNECT_SERVER and CONNECT_API_KEY from the environment (Connect injects both).
    snapshot_dir: a persistent directory makes each render an incremental refresh;
    None fetches afresh into ./snapshot.
    """
    from .schedule import render_once

    server = os.environ.get("CONNECT_SERVER", "").strip()
    if not server or not os.environ.get("CONNECT_API_KEY", "").strip():
        raise ConfigError("CONNECT_SERVER and CONNECT_API_KEY are not set: Connect sets both "
                          "when it renders this content; elsewhere, export them")
    # the kit is installed (Connect installed the bundle's wheel): kernels import it as is
    return render_once(server, Path(snapshot_dir or "snapshot"), Path(out_dir), days=days)


def report_iframe(report: str | os.PathLike, height_px: int = 1200) -> str:
    """The self-contained report.html as an <iframe srcdoc>, to show inside the rendered
    notebook without mixing the report's styles with Connect's notebook page."""
    text = Path(report).read_text(encoding="utf-8")
    # the srcdoc attribute holds the whole document, escaped once: the browser unescapes it
    fit = ("try{this.style.height=(this.contentWindow.document.documentElement.scrollHeight+20)"
           "+'px'}catch(e){}")
    return (f'<iframe title="Connect migration report" srcdoc="{html.escape(text, quote=True)}" '
            f'style="width:100%;height:{int(height_px)}px;border:0" onload="{fit}"></iframe>')
