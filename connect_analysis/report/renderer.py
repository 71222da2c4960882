"""Which renderer makes report.html: Quarto when asked for or found, else the built-in one.

    choose_renderer("auto")     -> Quarto if one is found, else the built-in renderer
    choose_renderer("quarto")   -> Quarto, or ConfigError naming where it was looked for
    choose_renderer("builtin")  -> the built-in renderer (nbconvert), whatever is installed

Quarto is looked for where Quarto's own R and Python packages look: the QUARTO_PATH
variable, then beside this interpreter (the environment's bin/, where the `quarto-cli`
wheel puts its launcher), then PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

RENDERERS = ("auto", "quarto", "builtin")
VERSION_TIMEOUT_S = 30


@dataclass(frozen=True)
class Renderer:
    """The renderer a report is made with; for Quarto, its binary and version."""

    name: str  # "quarto" or "builtin"
    path: str | None = None
    version: str | None = None

    def describe(self) -> str:
        """One sentence for the report: which renderer made it."""
        if self.name == "quarto":
            return f"Rendered by Quarto {self.version or '(version unknown)'} ({self.path})."
        return "Rendered by the kit's built-in renderer (nbconvert)."


def quarto_candidates() -> list[tuple[str, str | None]]:
    """(where, path) in the order looked at; path None when that place has no quarto."""
    env = os.environ.get("QUARTO_PATH") or None
    beside = Path(sys.executable).parent / "quarto"  # the venv's bin/, not the resolved python
    return [("QUARTO_PATH", env),
            ("beside the interpreter", str(beside) if _runnable(beside) else None),
            ("PATH", shutil.which("quarto"))]


def find_quarto() -> str | None:
    """The first Quarto binary found (QUARTO_PATH, beside the interpreter, PATH), or None."""
    return next((path for _, path in quarto_candidates() if path), None)


def quarto_version(quarto: str) -> str | None:
    """`quarto --version`, or None when it does not answer with a version."""
    try:
        proc = subprocess.run([quarto, "--version"], capture_output=True, text=True,
                              timeout=VERSION_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = proc.stdout.strip().splitlines()
    return lines[-1].strip() if proc.returncode == 0 and lines else None


def choose_renderer(choice: str = "auto") -> Renderer:
    """The renderer for `--renderer choice`; raises ConfigError for an unknown choice or a
    Quarto that was asked for and not found (or QUARTO_PATH naming no runnable file)."""
    if choice not in RENDERERS:
        raise ConfigError(f"--renderer must be one of {', '.join(RENDERERS)}, not {choice!r}")
    if choice == "builtin":
        return Renderer("builtin")
    env = os.environ.get("QUARTO_PATH")
    if env and not _runnable(Path(env)):
        raise ConfigError(f"QUARTO_PATH={env} is not an executable file")
    quarto = find_quarto()
    if quarto is None:
        if choice == "quarto":
            raise ConfigError("--renderer quarto: no Quarto found (looked at QUARTO_PATH, "
                              f"{Path(sys.executable).parent}, and PATH); install it or "
                              "`pip install 'connect-analysis[quarto]'`")
        return Renderer("builtin")
    return Renderer("quarto", quarto, quarto_version(quarto))


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
