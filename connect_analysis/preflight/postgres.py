"""The PostgreSQL check: TCP reachability for HOST:PORT; a real login and `SELECT version()` for a DSN."""

from __future__ import annotations

from . import CheckResult, _tcp

CONNECT_TIMEOUT_S = 5
DEFAULT_PORT = 5432


def is_dsn(target: str) -> bool:
    """A URI (postgresql://...) or a key=value conninfo string, rather than HOST:PORT."""
    return "://" in target or "=" in target


def redact(dsn: str) -> str:
    """The DSN as key=value pairs without its password, fit to print. Never raises."""
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = {k: v for k, v in conninfo_to_dict(dsn).items() if k != "password" and v is not None}
        return make_conninfo(**params)
    except Exception:  # a malformed DSN: show only that it was one
        return "(a malformed DSN)"


def check_postgres(target: str) -> CheckResult:
    """Check a PostgreSQL server given as HOST:PORT or as a DSN. Never raises."""
    if is_dsn(target):
        return _check_login(target)
    return _check_tcp(target)


def _check_tcp(target: str) -> CheckResult:
    try:
        host, port = _tcp.split_host_port(target, DEFAULT_PORT)
    except ValueError:
        return CheckResult("postgres", target, False, "not HOST:PORT or a DSN",
                           "give HOST:PORT (e.g. db.internal:5432) or a DSN "
                           "(e.g. postgresql://connect@db.internal:5432/connect)")
    shown = f"{host}:{port}"
    outcome, reason = _tcp.probe(host, port, CONNECT_TIMEOUT_S)
    if outcome == _tcp.OPEN:
        return CheckResult("postgres", shown, True,
                           "TCP port open (reachability only; give a DSN to test a login)")
    fixes = {
        _tcp.REFUSED: "the host answered but nothing accepts connections on that port: check that "
                      "PostgreSQL runs, listen_addresses and port in postgresql.conf",
        _tcp.NO_ANSWER: "no answer: open the firewall / security group for TCP from this cluster "
                        "to the database, and check the host and port",
        _tcp.UNRESOLVED: "the name does not resolve from here: check the host name and the cluster's DNS",
    }
    return CheckResult("postgres", shown, False, reason, fixes[outcome])


def _check_login(dsn: str) -> CheckResult:
    import psycopg

    shown = redact(dsn)
    try:
        with psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True) as conn:
            version = conn.execute("SELECT version()").fetchone()[0]
    except psycopg.ProgrammingError as e:  # malformed DSN
        return CheckResult("postgres", shown, False, f"invalid DSN: {_one_line(e)}",
                           "fix the DSN: see the libpq connection string format")
    except psycopg.Error as e:
        message = _one_line(e)
        return CheckResult("postgres", shown, False, f"cannot log in: {message}", _login_fix(message))
    return CheckResult("postgres", shown, True, f"logged in; {version}")


def _one_line(error: Exception) -> str:
    """libpq's message on one line (it spreads the cause and a hint over several)."""
    return " ".join(str(error).split()) or type(error).__name__


def _login_fix(message: str) -> str:
    text = message.lower()
    if "password authentication failed" in text or "no password supplied" in text:
        return "check the user and password (the role Connect will use)"
    if "pg_hba.conf" in text:
        return "allow this cluster's addresses for that user and database in pg_hba.conf"
    if "does not exist" in text:
        return "create the database and role Connect will use, or fix their names in the DSN"
    if "refused" in text:
        return "nothing accepts connections there: check that PostgreSQL runs, listen_addresses and port"
    if "timeout" in text or "timed out" in text or "unreachable" in text:
        return "no answer: open the firewall / security group from this cluster to the database"
    if "translate host name" in text or "resolve" in text:
        return "the host does not resolve from here: check the host name and the cluster's DNS"
    if "ssl" in text:
        return "check the server's TLS settings and the DSN's sslmode"
    return "check the DSN, the server's logs and its pg_hba.conf"
