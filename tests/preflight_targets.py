"""Loopback targets for the preflight tests: listening, closed and silent ports, small HTTP
routes (for loopback.serve) that are not Connect, and the simulator (fixture `simulator`)."""

import contextlib
import socket

import pytest


@contextlib.contextmanager
def listeners(count: int):
    """`count` listening sockets on consecutive loopback ports; yields the first port."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                socks.append(s)
                s.bind(("127.0.0.1", port))
                s.listen(16)
        except OSError:
            for s in socks:
                s.close()
            continue
        try:
            yield base
        finally:
            for s in socks:
                s.close()
        return
    raise RuntimeError("no block of free loopback ports")


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def silent_port():
    """A port whose connections get no answer: a listener with a full accept queue drops SYNs,
    which on loopback behaves like a firewall that drops traffic."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        # fill the accept queue until a connect attempt times out
        for _ in range(8):
            c = socket.socket()
            c.settimeout(0.3)
            fillers.append(c)
            try:
                c.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            raise RuntimeError("could not saturate a loopback listener")
        yield port
    finally:
        for c in fillers:
            c.close()
        server.close()


def plain_site(h):
    """An ordinary web server: a page at /, 404 elsewhere (a route for loopback.serve)."""
    h.send_text("<html>hello</html>" if h.path == "/" else "not found", 200 if h.path == "/" else 404,
                "text/html")


def expired_licence(h):
    """A Connect whose licence has expired: /__ping__ answers 402."""
    h.send_text("", 402)


def redirecting(h):
    """Sends every request to another host; the check must not follow (nor carry the key)."""
    h.send_text("", 302, headers={"Location": "http://localhost:9/elsewhere"})


@pytest.fixture(scope="module", name="simulator")
def simulator_fixture():
    """The demo simulator with the key "k", one per test module."""
    import connect_simulator as sim_module

    with sim_module.start_simulator(scenario="demo", api_key="k", port=0) as sim:
        yield sim
