"""Servers that are not (quite) Connect, for the bad-input matrix. Each is a real HTTP
server on loopback (tests/loopback.py); `tls_simulator` is the simulator behind real TLS."""

from __future__ import annotations

import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path

from loopback import self_signed, serve, tls_context  # noqa: F401 - self_signed: odd.self_signed

from connect_simulator import Simulator

PLAIN_PAGE = "<!DOCTYPE html><html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>"
PROXY_502 = ("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
             "</center><hr><center>nginx/1.25.3</center></body></html>")


def plain_web_page(h):
    """A web server's default page at every path, 200 text/html."""
    h.send_text(PLAIN_PAGE, 200, "text/html; charset=utf-8")


def json_api_404(h):
    """Another JSON API (FastAPI-like): unknown routes are JSON 404s without Connect's code."""
    if h.path in ("/", "/health"):
        h.send_json({"status": "ok"})
    else:
        h.send_json({"detail": "Not Found"}, 404)


def json_api_catch_all(h):
    """A JSON API that answers 200 with its own JSON object at every path."""
    h.send_json({"service": "inventory", "status": "ok", "items": [], "path": h.path})


def malformed_json(h):
    """Connect's content type, a body that is not JSON at all."""
    h.send_text("{'version': 2024.09.0, oops", 200, "application/json")


def truncated(h):
    """Promises 4096 bytes, sends the start of a JSON object, hangs up."""
    body = b'{"version": "2024.09.0", "build": "v2024.09.0", "about": "'
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "4096")
    h.end_headers()
    h.wfile.write(body)
    h.wfile.flush()
    h.close_connection = True
    try:
        h.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def proxy_502(h):
    """A reverse proxy whose upstream is down: nginx's HTML 502 page."""
    h.send_text(PROXY_502, 502, "text/html")


def proxy_login(h):
    """A single-sign-on proxy: every API path answers 200 with its HTML login page."""
    h.send_text("<!DOCTYPE html><html><body><form action=/login>Sign in</form></body></html>", 200,
                "text/html")


def always(status: int):
    def route(h):
        h.send_json({"code": 1, "error": "An internal failure occurred.", "payload": None}, status)
    return route


@contextmanager
def redirecting_to(target_url: str):
    """Every path redirects (302) to the same path on target_url."""
    def route(h):
        h.send_text("", 302, headers={"Location": target_url + h.path})
    with serve(route) as srv:
        yield srv


def tls_simulator(dataset, api_key: str, cert: Path, key: Path) -> Simulator:
    """The simulator serving HTTPS with the given certificate (started; stop() it)."""
    sim = Simulator(dataset, api_key, "2026.06.0", 0.0, None, 1, 0, 0)
    # the listening socket is wrapped before the server thread starts: every connection is TLS
    sim._server.socket = tls_context(cert, key).wrap_socket(sim._server.socket, server_side=True)
    sim.url = f"https://127.0.0.1:{sim.port}"  # paging links name the https URL
    return sim.start()


# --- hostile servers (issue 18) -------------------------------------------------------------

def forward(h, upstream: str, path: str | None = None) -> tuple[int, dict, bytes]:
    """The upstream server's answer to this request (headers passed on, Authorization too)."""
    import urllib.error
    import urllib.request
    req = urllib.request.Request(upstream + (path or h.path), headers={
        k: v for k, v in h.headers.items() if k.lower() in ("authorization", "accept", "user-agent")})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def send_bytes(h, status: int, body: bytes, ctype: str = "application/json", headers: dict | None = None):
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(body)


@contextmanager
def tampering(upstream: str, tamper):
    """A proxy in front of `upstream`: tamper(h) may answer a request itself (return True);
    every other request is passed through unchanged."""
    def route(h):
        if tamper(h):
            return
        status, headers, body = forward(h, upstream)
        send_bytes(h, status, body, headers.get("Content-Type", "application/json"))
    with serve(route) as srv:
        yield srv


def rewriting(upstream: str, path_part: str, change):
    """A tamper that rewrites the JSON body of paths containing `path_part` with change(body, h)."""
    import json

    def tamper(h):
        if not h.path.split("?")[0].endswith(path_part):
            return False
        status, headers, body = forward(h, upstream)
        new = change(json.loads(body), h) if status == 200 else None
        send_bytes(h, status, body if new is None else (new if isinstance(new, bytes) else json.dumps(new).encode()))
        return True
    return tamper


def chunked_forever(h):
    """200, chunked, a JSON array that never ends."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    piece = b'[' + b'{"a": "' + b"x" * 65000 + b'"},' * 1
    chunk = b'{"a": "' + b"x" * 65000 + b'"},'
    try:
        h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        while True:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    except OSError:
        h.close_connection = True


def gzip_bomb_body(members: int = 100) -> bytes:
    """gzip members of 64 MiB of spaces each (~65 KB on the wire): 100 inflate to 6.7 GB."""
    import zlib
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    member = comp.compress(b" " * (64 << 20)) + comp.flush()
    return member * members


def gzip_bomb(body: bytes):
    def route(h):
        send_bytes(h, 200, body, headers={"Content-Encoding": "gzip"})
    return route


def slow_loris(h):
    """Headers at once, then one byte of a JSON body every 2 seconds, for ever."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    h.wfile.flush()
    try:
        h.wfile.write(b"{")
        h.wfile.flush()
        while True:
            import time
            time.sleep(2)
            h.wfile.write(b" ")
            h.wfile.flush()
    except OSError:
        h.close_connection = True


def never_answers(h):
    """Accepts the request and never answers."""
    import time
    while True:
        time.sleep(1)


def make_ca(directory: Path, name: str = "Test CA") -> tuple[Path, Path]:
    """A certificate authority (openssl) as (ca.pem, ca.key)."""
    cert, key = directory / f"{name.replace(' ', '-')}.pem", directory / f"{name.replace(' ', '-')}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def issue(directory: Path, ca: tuple[Path, Path], name: str, san: str, days: int) -> tuple[Path, Path]:
    """A server certificate signed by `ca` for subjectAltName `san`, valid for `days` (negative:
    expired); as (cert.pem, key.pem)."""
    cert, key, csr, ext = (directory / f"{name}.pem", directory / f"{name}.key", directory / f"{name}.csr",
                           directory / f"{name}.ext")
    ext.write_text(f"subjectAltName={san}\n")
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", str(key),
                    "-out", str(csr)], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
                    "-CAcreateserial", "-days", str(days), "-extfile", str(ext), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key
