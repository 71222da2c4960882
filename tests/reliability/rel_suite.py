"""Helpers of the reliability and security suite: the key, the figures, the CLI runner with
its secret scan, and the "one clear line" and "nothing lost" checks. Fixtures are in
conftest.py."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

# distinctive, so a hit cannot be a coincidence; the simulator's publisher and viewer keys
# are this key plus a suffix, so scanning for it finds theirs too
KEY = "ca-REL-7e1f0b9c4d2a-never-written-anywhere"
# the simulated server's clock; fetches use --since so two fetches read the same window
NOW = pd.Timestamp("2026-03-01T12:00:00Z")
SINCE = "2025-12-01"

# --- the suite's figures -----------------------------------------------------------------

@dataclass
class Figures:
    inputs_tried: list[str] = field(default_factory=list)  # bad-input matrix rows, by name
    commands_run: int = 0  # CLI subprocesses
    faults_survived: int = 0  # injected faults (503, 429, dropped) in fetches that succeeded
    requests_retried: int = 0  # retries the kit reported for those fetches (manifest "retries")
    secrets_found: int = 0  # occurrences of the key in outputs and files (must stay 0)
    files_scanned: int = 0
    streams_scanned: int = 0  # stdout and stderr of every command
    requests_logged: int = 0  # requests the simulators and test servers received
    non_get_requests: int = 0

    def tried(self, name: str) -> None:
        self.inputs_tried.append(name)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["inputs_tried"] = len(set(self.inputs_tried))
        return d

FIGURES = Figures()

# --- running the CLI ---------------------------------------------------------------------

def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "connect-analysis"
    return [str(script)] if script.exists() else [sys.executable, "-m", "connect_analysis.cli"]

@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        """The non-empty lines written to stderr."""
        return [ln for ln in self.stderr.splitlines() if ln.strip()]

    def __str__(self) -> str:
        return f"{self.args} -> {self.returncode}\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-3000:]}"

def assert_one_line(run: Run, *words: str, exit_code: int | None = 1) -> str:
    """The command failed with exactly one line on stderr naming `words`, and no traceback."""
    assert "Traceback" not in run.stderr + run.stdout, str(run)
    if exit_code is not None:
        assert run.returncode == exit_code, str(run)
    assert len(run.lines) == 1, str(run)
    line = run.lines[0]
    for w in words:
        assert w.lower() in line.lower(), f"{w!r} not in {line!r}"
    assert len(line) < 600, line
    return line

RENDERING = ("report", "demo", "run")  # the commands that render a report


class Kit:
    """Runs `connect-analysis ...` in a subprocess; every run is scanned for the key."""

    def __init__(self, base: Path, figures: Figures):
        self.base = base  # everything the kit may write lives here (HOME too)
        self.home = base / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.figures = figures

    def env(self, key: str | None = KEY, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CONNECT_", "REQUESTS_CA", "SSL_CERT", "CURL_CA", "PYTEST_"))}
        env.update({"HOME": str(self.home), "PYTHONUNBUFFERED": "1", "COLUMNS": "100"})
        for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR",
                     "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
            env.pop(name, None)
        if key is not None:
            env["CONNECT_API_KEY"] = key
        env.update(extra)
        return env

    def start(self, *args: str, key: str | None = KEY, env: dict | None = None, **popen) -> subprocess.Popen:
        """Start a command without waiting (for Ctrl-C, and slow rows run side by side)."""
        if args and args[0] in RENDERING and "--renderer" not in args:
            args = (*args, "--renderer", "builtin")  # never depend on an installed Quarto
        return subprocess.Popen([*cli_command(), *map(str, args)], cwd=self.base,
                                env={**self.env(key), **(env or {})}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, **popen)

    def finish(self, proc: subprocess.Popen, started: float, timeout: float = 300) -> Run:
        out, err = proc.communicate(timeout=timeout)
        run = Run(list(proc.args), proc.returncode, out, err, time.monotonic() - started)
        self.figures.commands_run += 1
        self.scan(run)
        return run

    def __call__(self, *args: str, key: str | None = KEY, env: dict | None = None, timeout: float = 300,
                 **popen) -> Run:
        started = time.monotonic()
        return self.finish(self.start(*args, key=key, env=env, **popen), started, timeout)

    def scan(self, run: Run | None = None, *extra: Path) -> None:
        """Count the key in the run's stdout and stderr and in every file under base."""
        found: list[str] = []
        if run is not None:
            for name, text in (("stdout", run.stdout), ("stderr", run.stderr)):
                self.figures.streams_scanned += 1
                if KEY in text:
                    found.append(f"{name} of {run.args}")
        for root in (self.base, *extra):
            for path in _files(root):
                self.figures.files_scanned += 1
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                if KEY.encode() in data or KEY.encode("utf-16-le") in data:
                    found.append(str(path))
        self.figures.secrets_found += len(found)
        assert not found, f"the API key was found in: {found}"

def _files(root: Path):
    if root.is_file():
        yield root
        return
    for dirpath, _dirs, filenames in os.walk(root):
        for f in filenames:
            p = Path(dirpath, f)
            if p.is_file() and not p.is_symlink():
                yield p

# --- simulators --------------------------------------------------------------------------

def check_get_only(log: list[tuple[str, str, int]]) -> None:
    FIGURES.requests_logged += len(log)
    others = [entry for entry in log if entry[0] != "GET"]
    FIGURES.non_get_requests += len(others)
    assert not others, f"the kit sent non-GET requests: {others[:5]}"

def tree_hash(root: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under root (and the entries' names)."""
    root = Path(root)
    if root.is_file():
        return {".": hashlib.sha256(root.read_bytes()).hexdigest()}
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}

def leftovers(parent: Path, keep: set[str]) -> list[str]:
    """Entries in parent other than `keep` (temporary snapshot directories left behind)."""
    return sorted(p.name for p in Path(parent).iterdir() if p.name not in keep)

def fetch_into(kit: Kit, snap: Path, server: str, *more: str, **kw):
    """fetch into snap (--since SINCE); returns (run, the hashes of snap before it)."""
    before = tree_hash(snap)
    run = kit("fetch", "--server", server, "--out", snap, "--since", SINCE, *more, **kw)
    return run, before


# --- bounded runs (issue 18) -------------------------------------------------------------

MEMORY_LIMIT = 1 << 30  # bytes: every hostile-server case stays under 1 GB
TIME_LIMIT = 60.0  # seconds


def run_bounded(kit: Kit, *args: str, seconds: float = TIME_LIMIT, env: dict | None = None,
                on_start=None, **kw) -> tuple[Run, int]:
    """Run a command while sampling its resident memory (the process and its children) every
    50 ms; kill it past `seconds`. Returns (run, peak RSS in bytes); asserts both bounds."""
    import psutil

    t0 = time.monotonic()
    proc = kit.start(*args, env=env, **kw)
    peak, ps = 0, psutil.Process(proc.pid)
    if on_start is not None:
        on_start(proc)
    while proc.poll() is None and time.monotonic() - t0 < seconds:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
        run = kit.finish(proc, t0, timeout=10)
        raise AssertionError(f"still running after {seconds} s (peak {peak >> 20} MiB): {run}")
    run = kit.finish(proc, t0, timeout=10)
    assert peak < MEMORY_LIMIT, f"peak RSS {peak >> 20} MiB: {run}"
    return run, peak
