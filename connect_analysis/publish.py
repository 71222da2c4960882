"""The report as Connect content that Connect itself re-renders on a schedule.

`build_bundle(out)` (CLI: `connect-analysis bundle --out DIR`) assembles a directory that
`rsconnect deploy manifest DIR/manifest.json` publishes as a rendered Jupyter notebook:

    connect-analysis-report.ipynb   the entry point (deploy/ in the repository)
    connect_analysis/ notebooks/ templates/ _quarto.yml
                                    the kit's own source; Connect runs content in the bundle
                                    directory, so the kit is imported from there and needs
                                    no package index
    requirements.txt                the kit's dependencies, pinned to the versions installed here
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
import tomllib
from importlib import metadata
from pathlib import Path

from .errors import ConfigError, ReportError
from .snapshot import replace_dir

ENTRY_POINT = "connect-analysis-report.ipynb"
PYTHON_REQUIRES = ">=3.11"
# what the report needs at run time: directory -> file name pattern
SOURCE_DIRS = {"connect_analysis": "*", "notebooks": "*.ipynb", "templates": "*"}
SOURCE_FILES = ("_quarto.yml", "LICENSE")
_SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


def source_root() -> Path:
    """The repository the kit runs from (holds pyproject.toml, deploy/, notebooks/)."""
    return Path(__file__).resolve().parents[1]


def pinned_requirements(pyproject: Path | None = None) -> list[str]:
    """The kit's runtime dependencies from pyproject.toml, each pinned (==) to the version
    installed in this environment, extras and markers kept."""
    from packaging.requirements import Requirement

    pyproject = pyproject or source_root() / "pyproject.toml"
    try:
        declared = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read the kit's dependencies from {pyproject}: {e}") from None
    lines = []
    for text in declared:
        req = Requirement(text)
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            raise ConfigError(f"{req.name} is not installed here; install the kit first "
                              "(make test or uv pip install -e .)") from None
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        marker = f"; {req.marker}" if req.marker else ""
        lines.append(f"{req.name}{extras}=={installed}{marker}")
    return lines


def build_bundle(out: str | os.PathLike) -> Path:
    """Assemble the deployable bundle in `out` (replaced only when the new one is complete).
    Returns out. Needs a source checkout and rsconnect-python (the `test` extra)."""
    root = source_root()
    entry = root / "deploy" / ENTRY_POINT
    if not entry.is_file() or not (root / "pyproject.toml").is_file():
        raise ConfigError(f"{root} is not a connect-analysis source checkout (no deploy/{ENTRY_POINT})")
    dest = Path(out).resolve()
    protected = [root / name for name in (*SOURCE_DIRS, "deploy")]
    if dest == root or dest in root.parents or any(dest == p or p in dest.parents for p in protected):
        raise ConfigError(f"--out {dest} would overwrite the kit's own source")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        shutil.copy2(entry, tmp / ENTRY_POINT)
        for name, pattern in SOURCE_DIRS.items():
            _copy_files(root / name, tmp / name, pattern)
        for name in SOURCE_FILES:
            if (root / name).is_file():
                shutil.copy2(root / name, tmp / name)
        (tmp / "requirements.txt").write_text("\n".join(pinned_requirements()) + "\n")
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


def _copy_files(src: Path, dest: Path, pattern: str) -> None:
    """Copy the regular files under src matching pattern (no caches, sockets or checkpoints)."""
    for path in sorted(src.rglob(pattern)):
        rel = path.relative_to(src)
        if not path.is_file() or path.suffix == ".pyc" or _SKIP_PARTS & set(rel.parts):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / rel)


def _write_manifest(bundle: Path) -> None:
    """Run rsconnect-python's `write-manifest notebook` over every file of the bundle."""
    try:
        import rsconnect  # noqa: F401 - only to say what is missing, clearly
    except ImportError:
        raise ConfigError("writing manifest.json needs rsconnect-python: "
                          "uv pip install rsconnect-python") from None
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
    # the notebooks run in kernels of their own: let them import the kit from the bundle
    here = str(source_root())
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if here not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([here, *paths])
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
