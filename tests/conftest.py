"""Shared fixtures. Where HTTP is involved, tests run against a real loopback server."""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from suite import KINDS, SLOW, skip_or_fail


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = Path(str(item.fspath)).stem
        if not any(item.get_closest_marker(k) for k in ("unit", "integration", "e2e")):
            item.add_marker(getattr(pytest.mark, KINDS.get(module, "integration")))
        if module in SLOW:
            item.add_marker(pytest.mark.slow)


# --- a real PostgreSQL server (session scope), for the preflight check and anyone else ------------


@dataclass(frozen=True)
class PostgresServer:
    """A throwaway PostgreSQL on 127.0.0.1 with password (SCRAM) authentication."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    version: str  # the server's major version, e.g. "15"

    def dsn(self, password: str | None = None, port: int | None = None) -> str:
        return (f"postgresql://{self.user}:{password or self.password}@{self.host}:"
                f"{port or self.port}/{self.dbname}?connect_timeout=5")


def _postgres_bindir() -> Path | None:
    """Debian's newest /usr/lib/postgresql/N/bin with initdb, else initdb on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    """Start PostgreSQL from Debian's binaries in a temporary directory; stop it at the end.

    PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system
    user when it exists, else `nobody`. Skips (fails under CI=true) when it cannot start one.
    """
    bindir = _postgres_bindir()
    if bindir is None:
        skip_or_fail("no PostgreSQL server binaries (initdb) found: run `make system-deps`")
    prefix: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="connect-analysis-pg-"))  # /tmp: reachable by that user
    if os.geteuid() == 0:
        account = "postgres" if _has_user("postgres") else "nobody"
        runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
        if runuser is None:
            skip_or_fail("running as root without runuser: cannot start PostgreSQL as another user")
        prefix = [runuser, "-u", account, "--"]
        entry = pwd.getpwnam(account)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    password = "preflight-test-pw"
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if prefix:
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    env = {"PATH": f"{bindir}:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "HOME": str(root)}

    def run(*cmd: str) -> None:
        done = subprocess.run([*prefix, *cmd], env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            detail = done.stderr.strip() or done.stdout.strip()
            if log.exists():
                detail += "\n" + log.read_text()[-2000:]
            raise RuntimeError(f"{' '.join(cmd[:1])} failed: {detail}")

    port = _free_loopback_port()
    try:
        if prefix:
            subprocess.run([*prefix, "mkdir", str(sockets)], check=True)
        else:
            sockets.mkdir()
        run(str(bindir / "initdb"), "-D", str(data), "-U", "kit", "--auth=scram-sha-256",
            f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={sockets} "
                   "-c fsync=off -c max_connections=20")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
            "-o", options, "start")
        version = (data / "PG_VERSION").read_text().strip()
        yield PostgresServer("127.0.0.1", port, "kit", password, "postgres", version)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                            "stop"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


# --- once per session: the report (test_report*, test_browser, test_demo, test_notebooks) and
# the demo's plan (test_plan, test_plan_values, test_plan_scripts) ---------------------------------
from plan_checks import demo_plan  # noqa: E402,F401
from report_fixtures import demo_report, hostile_report, large_report  # noqa: E402,F401
