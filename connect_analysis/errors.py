"""Errors the library raises on purpose.

    ConnectAnalysisError          root: the CLI turns any of these into one line and exit 1
    ├── ConfigError               missing or malformed server URL, key, option
    ├── ConnectError              talking to a Connect server failed
    │   ├── NotConnectError       the URL answers, but not as a Connect server
    │   ├── UnreachableError      connection refused, DNS, TLS, timeouts (after retries)
    │   ├── AuthError             401: no key or a bad key
    │   ├── PermissionError_      403: the key lacks privileges
    │   ├── NotFoundError         404 with a Connect error code
    │   ├── UnsupportedError      the server is too old for an endpoint
    │   └── ServerError           5xx or malformed bodies that survived every retry
    ├── SnapshotError             a snapshot directory is missing, corrupt or foreign
    │   └── TableNotLoaded        (also a KeyError) a table left out of load_snapshot(tables=)
    ├── AnalysisError             analysis inputs are unusable
    └── ReportError               a notebook failed or rendering failed

Each carries data attributes (status, code, url) rather than parsed strings.
"""

from __future__ import annotations


class ConnectAnalysisError(Exception):
    """Root of every error the kit raises on purpose."""

    def _render_traceback_(self) -> list[str]:
        # IPython (Jupyter, papermill) shows this instead of the traceback: an expected
        # failure in a notebook cell is one line, as it is on the command line.
        return [f"{type(self).__name__}: {self}"]


class ConfigError(ConnectAnalysisError):
    pass


class ConnectError(ConnectAnalysisError):
    def __init__(self, message: str, *, status: int | None = None, code: int | None = None,
                 url: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.url = url


class NotConnectError(ConnectError):
    pass


class UnreachableError(ConnectError):
    pass


class AuthError(ConnectError):
    pass


class PermissionError_(ConnectError):  # noqa: N801 - avoid shadowing the builtin
    pass


class NotFoundError(ConnectError):
    pass


class UnsupportedError(ConnectError):
    pass


class ServerError(ConnectError):
    pass


class SnapshotError(ConnectAnalysisError):
    pass


class TableNotLoaded(SnapshotError, KeyError):
    """A table of the snapshot that was not loaded (load_snapshot(tables=...) left it out):
    not the same as a table the server had no rows for, which loads empty."""

    def __init__(self, table: str, loaded=()):
        self.table = table
        self.loaded = tuple(loaded)
        super().__init__(f"the snapshot's {table!r} table was not loaded (loaded: "
                         f"{', '.join(self.loaded) or 'none'}); load it with load_snapshot(tables=[...])")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class AnalysisError(ConnectAnalysisError):
    pass


class ReportError(ConnectAnalysisError):
    pass
