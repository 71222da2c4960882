"""A tiny real HTTP server on 127.0.0.1 for tests that need odd server behaviour
(Retry-After, bodies cut short, redirects to a second server). Not a Connect simulator:
each test supplies the few responses it needs."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
def serve(route, host: str = "127.0.0.1"):
    """Serve route(handler) on a free port; yields the server (.url, .requests)."""
    handler = type("RouteHandler", (Handler,), {"route": staticmethod(route)})
    server = ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    server.requests = []
    server.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
