"""A tiny real HTTP server on 127.0.0.1 for tests that need odd server behaviour
(Retry-After, bodies cut short, redirects to a second server), over TLS when asked. Not a
Connect simulator: each test supplies the few responses it needs. The one place the tests
start a server thread on loopback (the simulator starts its own)."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    route = None  # set per server: route(handler) -> None (the route writes the response)

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        type(self).route(self)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET  # noqa: N815 - recorded, so tests can assert none

    def log_message(self, *args):  # keep test output clean
        pass

    def send_json(self, body, status: int = 200, headers: dict | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, text: str, status: int = 200, ctype: str = "text/plain", headers: dict | None = None):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serve(route, host: str = "127.0.0.1", tls: tuple[Path, Path] | None = None):
    """Serve route(handler) on a free port; yields the server (.url, .requests). tls: (cert.pem,
    key.pem) to serve HTTPS (self_signed() makes a pair)."""
    handler = type("RouteHandler", (Handler,), {"route": staticmethod(route)})
    server = ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    server.requests = []
    scheme = "https" if tls else "http"
    if tls:  # wrapped before the thread starts: every connection is TLS
        server.socket = tls_context(*tls).wrap_socket(server.socket, server_side=True)
    server.url = f"{scheme}://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context with the given certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def self_signed(directory: Path, days: int = 2) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), as (cert.pem, key.pem)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(days),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key
