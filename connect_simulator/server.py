"""The threaded HTTP server: authentication, version gating, faults, latency, the request
log, and `Simulator`, which ties a Dataset to a running server on loopback."""

from __future__ import annotations

import json
import random
import re
import socket
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import routes_admin as admin
from . import routes_content as content
from . import routes_jobs as jobs
from . import routes_usage as usage
from .api import ApiError, Quirks, Request, RouteNotFound, ServerState, Streamed, parse_version
from .data import Dataset
from .generate import generate_dataset

ANY = (0,)
_G = r"(?P<guid>[^/]+)"
# (path under /__api__, handler, first Connect version that has it)
ROUTES = [
    (r"/v1/user", admin.current_user, ANY),
    (r"/v1/users", admin.users, ANY),
    (rf"/v1/users/{_G}", admin.user, ANY),
    (r"/v1/groups", admin.groups, ANY),
    (rf"/v1/groups/{_G}", admin.group, ANY),
    (rf"/v1/groups/{_G}/members", admin.group_members, ANY),
    (r"/v1/server_settings/(?P<language>r|python|quarto)", admin.installations, ANY),
    (r"/v1/system/caches/runtime", admin.runtime_caches, ANY),
    (r"/v1/environments", admin.environments, (2023, 5, 0)),
    (rf"/v1/environments/{_G}", admin.environment, (2023, 5, 0)),
    (r"/v1/system/storage", content.system_storage, (2026, 6, 0)),
    (r"/v1/content/storage", content.content_storage, (2026, 6, 0)),
    (r"/v1/content", content.content_list, ANY),
    (rf"/v1/content/{_G}", content.content_item, ANY),
    (rf"/v1/content/{_G}/bundles", content.content_bundles, ANY),
    (rf"/v1/content/{_G}/bundles/(?P<bundle_id>[^/]+)", content.content_bundle, ANY),
    (rf"/v1/content/{_G}/tags", content.content_tags, ANY),
    (rf"/v1/content/{_G}/vanity", content.content_vanity, ANY),
    (rf"/v1/content/{_G}/packages", content.content_packages, (2024, 11, 0)),
    (rf"/v1/content/{_G}/jobs", jobs.content_jobs, jobs.V_JOBS),
    (rf"/v1/content/{_G}/storage", content.content_item_storage, (2026, 6, 0)),
    (r"/v1/vanities", content.vanities, ANY),
    (r"/v1/tags", content.tags, ANY),
    (r"/v1/tags/(?P<tag_id>[^/]+)", content.tag, ANY),
    (r"/v1/tags/(?P<tag_id>[^/]+)/content", content.tag_content, ANY),
    (r"/v1/search/content", content.search_content, (2024, 4, 0)),
    (r"/v1/packages", content.packages, (2024, 11, 0)),
    (r"/v1/instrumentation/content/visits", usage.visits, ANY),
    (r"/v1/instrumentation/shiny/usage", usage.shiny_usage, ANY),
    (r"/v1/instrumentation/content/hits", usage.hits, (2025, 4, 0)),
]
_COMPILED = [(re.compile(p), h, v) for p, h, v in ROUTES]
FAULT_KINDS = ("503", "429", "drop")
DROPPED = 0  # the status logged for a connection dropped mid-body
VERSION = re.compile(r"\d{4}\.\d{1,2}\.\d+(-\S+)?")  # "2024.09.0", "2023.11.0-dev+103"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    disable_nagle_algorithm = True  # headers and body go out as two writes: no delayed-ACK stall
    server_version = "Posit-Connect-Simulator"
    sim: Simulator  # set on the subclass made per server

    def log_message(self, format, *args):  # quiet: the request log is in memory
        pass

    def do_GET(self):
        sim = self.sim
        arrived = sim.arrive()
        try:
            if sim.workers is None:
                return self._serve()
            with sim.workers:  # a server of `capacity` workers: more requests wait in a queue
                return self._serve()
        finally:
            sim.depart(arrived)

    def _serve(self):
        sim = self.sim
        if sim.latency_s:
            time.sleep(sim.latency_s)
        fault = sim.draw_fault()
        if fault == "503":
            return self._send_json(503, {"code": 1, "error": "Service temporarily unavailable", "payload": None})
        if fault == "429":
            return self._send_json(429, {"code": 277, "error": "Rate limit exceeded", "payload": None},
                                   {"Retry-After": str(sim.retry_after)})
        try:
            status, body = self._answer()
        except ApiError as e:
            status, body = e.status, {"code": e.code, "error": e.message, "payload": None}
        except RouteNotFound:
            return self._send(404, b"404 page not found", "text/plain; charset=utf-8", drop=fault == "drop")
        except Exception as e:  # a simulator bug: answer like a server error, keep serving
            status, body = 500, {"code": 1, "error": f"An internal failure occurred: {e!r}", "payload": None}
        if isinstance(body, Streamed):
            if fault != "drop":
                return self._send_stream(status, body)
            body = json.loads(b"".join(body.chunks))
        if status == 204:
            return self._send(204, b"", None)
        if isinstance(body, bytes):  # JSON already serialised (a cached answer)
            return self._send(status, body, "application/json; charset=utf-8", drop=fault == "drop")
        self._send_json(status, body, drop=fault == "drop")

    def _answer(self):
        parts = urlsplit(self.path)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        sim = self.sim
        if path in ("/__ping__", "/__ping__/"):
            return 200, {}
        if not path.startswith("/__api__/"):
            raise RouteNotFound
        sub = path[len("/__api__"):].rstrip("/") or "/"
        req = Request(path=sub, query=query, user=None, version=sim.version, base_url=sim.url, state=sim.state,
                      quirks=sim.quirks)
        if sub == "/server_settings":  # read by clients before they authenticate
            return 200, admin.server_settings(req, sim.connect_version)
        handler, since, m = _route(sub)
        if sim.version < since:
            raise RouteNotFound  # older servers don't have the endpoint at all
        req.user = sim.authenticate(self.headers.get("Authorization"))
        result = handler(req, **m.groupdict())
        if isinstance(result, tuple):
            return result
        return 200, result

    def _refuse(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # drain, so the connection stays usable
        self._send_json(405, {"code": 2, "error": "The simulated Connect server is read-only.",
                              "payload": None}, {"Allow": "GET"})

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _refuse

    def _send_json(self, status, obj, headers=None, drop=False):
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8", headers, drop)

    def _send(self, status, body, content_type, headers=None, drop=False):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.sim.log(self.command, self.path, DROPPED if drop else status)  # before the client sees it
        self.end_headers()
        if drop:  # promise the whole body, send part of it, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_stream(self, status, streamed: Streamed):
        self.send_response(status)
        self.send_header("Content-Type", streamed.content_type + "; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.sim.log(self.command, self.path, status)  # before the client sees it
        self.end_headers()
        for chunk in streamed.chunks:
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")


def _route(sub: str):
    for pattern, handler, since in _COMPILED:
        m = pattern.fullmatch(sub)
        if m:
            return handler, since, m
    raise RouteNotFound


class Simulator:
    """A running simulated Connect server. Use `start_simulator(...)` as a context manager.

    url: "http://127.0.0.1:PORT"; keys: {"admin", "publisher", "viewer"} -> API keys of
    real generated users; request_log: [(method, path with query, status)] (status 0: the
    connection was dropped mid-body); dataset: the data served. capacity: requests served
    at once (None: unbounded); the others queue, so latency grows with the load.
    in_flight / peak_in_flight / response_times(): the load as the server saw it.
    """

    def __init__(self, dataset: Dataset, api_key: str, connect_version: str, latency_ms: float,
                 faults: dict[str, float] | None, seed: int, port: int, retry_after: int,
                 capacity: int | None = None, quirks: Quirks | None = None):
        self.dataset = dataset
        if not VERSION.fullmatch(connect_version):
            raise ValueError(f"{connect_version!r} is not a Connect version (YYYY.MM.PATCH, e.g. 2024.09.0)")
        self.connect_version = connect_version
        self.version = parse_version(connect_version)
        self.latency_s = latency_ms / 1000.0
        self.faults = {k: float(v) for k, v in (faults or {}).items() if float(v) > 0}
        unknown = set(self.faults) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use {FAULT_KINDS}")
        self.retry_after = retry_after
        if capacity is not None and capacity < 1:
            raise ValueError(f"capacity must be at least 1 request at once, got {capacity!r}")
        self.capacity = capacity
        self.workers = threading.BoundedSemaphore(capacity) if capacity else None
        self.quirks = quirks or Quirks()
        self.in_flight = self.peak_in_flight = 0
        self._times: list[tuple[float, float]] = []  # (arrival, seconds to answer), monotonic clock
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._log: list[tuple[str, str, int]] = []
        self.state = ServerState.build(dataset)
        self.keys, self._key_users = _keys(dataset, api_key)
        handler = type("Handler", (_Handler,), {"sim": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="connect-simulator", daemon=True)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Simulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Simulator:
        return self.start() if not self._thread.is_alive() else self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- used by the handler -------------------------------------------------------------

    def authenticate(self, header: str | None) -> dict:
        if not header or not header.startswith("Key "):
            raise ApiError(24)
        guid = self._key_users.get(header[4:].strip())
        if guid is None or guid not in self.state.users:
            raise ApiError(30)
        return self.state.users[guid]

    def draw_fault(self) -> str | None:
        if not self.faults:
            return None
        with self._lock:  # one draw per request, in arrival order: deterministic per seed
            u = self._rng.random()
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += self.faults.get(kind, 0.0)
            if u < edge:
                return kind
        return None

    def arrive(self) -> float:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        return time.monotonic()

    def depart(self, arrived: float) -> None:
        took = time.monotonic() - arrived
        with self._lock:
            self.in_flight -= 1
            self._times.append((arrived, took))

    def response_times(self, since: float = 0.0) -> list[float]:
        """Seconds each request took from arrival to its last byte (queueing included), for
        requests that arrived at or after `since` (time.monotonic())."""
        with self._lock:
            return [took for arrived, took in self._times if arrived >= since]

    def reset_load(self) -> None:
        """Forget the peak and the response times so far."""
        with self._lock:
            self.peak_in_flight = self.in_flight
            self._times.clear()

    def log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._log.append((method, path, status))

    # -- for tests -----------------------------------------------------------------------

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def advance(self, days: float = 1.0) -> None:
        """Move the server clock forward and add the usage of the new period."""
        with self._lock:
            self.dataset.advance(days)

    def reload(self) -> None:
        """Serve `dataset` again after a test edited it (e.g. a bundle deployed since the
        last fetch). Usage already served keeps the bundle, variant and rendering it showed:
        past visits saw the old bundle."""
        state = ServerState.build(self.dataset)
        old = self.state
        state.variant_keys, state.rendering_ids = old.variant_keys, old.rendering_ids
        # usage guids are fixed at generation, so the lists line up; a first deploy has no past usage
        state.bundle_ids = [o if o is not None else n for o, n in zip(old.bundle_ids, state.bundle_ids, strict=True)]
        self.state = state  # one assignment: a request sees the old state or the new one


def _keys(ds: Dataset, api_key: str) -> tuple[dict[str, str], dict[str, str]]:
    """API keys for an administrator, the publisher owning the most content, and a viewer."""
    users = ds.users
    keys, owners = {}, {}
    admins = users.loc[users["user_role"] == "administrator", "guid"]
    if len(admins):
        keys["admin"] = api_key
    counts = ds.content["owner_guid"].value_counts()
    publishers = users[users["user_role"] == "publisher"].copy()
    if len(publishers):
        publishers["owned"] = publishers["guid"].map(counts).fillna(0)
        best = publishers.sort_values(["owned", "username"], ascending=[False, True]).iloc[0]["guid"]
        keys["publisher"] = f"{api_key}-publisher"
        owners[keys["publisher"]] = best
    viewers = users.loc[users["user_role"] == "viewer", "guid"]
    if len(viewers):
        keys["viewer"] = f"{api_key}-viewer"
        owners[keys["viewer"]] = viewers.iloc[0]
    if len(admins):
        owners[api_key] = admins.iloc[0]
    return keys, owners


def start_simulator(scenario: str = "demo", api_key: str = "admin-key", connect_version: str = "2026.06.0",
                    latency_ms: float = 0.0, fault_rate: float = 0.0, faults: dict[str, float] | None = None,
                    seed: int = 1, port: int = 0, dataset: Dataset | None = None,
                    now: datetime | None = None, retry_after: int = 0, capacity: int | None = None,
                    bundles_page_size: int | None = None, ignore_include: bool = False) -> Simulator:
    """Generate (or take) a dataset and serve it on 127.0.0.1:port (0: any free port).

    fault_rate spreads a fraction of requests evenly over 503, 429 and dropped
    connections; `faults` gives per-kind fractions instead ({"503": .1, "drop": .01}).
    retry_after: seconds sent in 429's Retry-After. capacity: requests served at once
    (beyond it they queue: latency grows with the load). bundles_page_size and
    ignore_include: see api.Quirks. Returns a started Simulator; use it as a context
    manager so the server stops.
    """
    if faults is None and fault_rate:
        faults = dict.fromkeys(FAULT_KINDS, fault_rate / len(FAULT_KINDS))
    ds = dataset if dataset is not None else generate_dataset(scenario, seed=seed, now=now)
    quirks = Quirks(bundles_page_size=bundles_page_size, ignore_include=ignore_include)
    return Simulator(ds, api_key, connect_version, latency_ms, faults, seed, port, retry_after,
                     capacity, quirks).start()


def serve_forever(port: int = 3939, api_key: str = "admin-key", scenario: str = "demo",
                  connect_version: str = "2026.06.0", latency_ms: float = 0.0, fault_rate: float = 0.0,
                  seed: int = 1, capacity: int | None = None) -> None:
    """Serve until Ctrl-C; prints the URL (the key is never printed)."""
    print(f"generating the {scenario!r} scenario (seed {seed})...", file=sys.stderr, flush=True)
    sim = start_simulator(scenario=scenario, api_key=api_key, connect_version=connect_version,
                          latency_ms=latency_ms, fault_rate=fault_rate, seed=seed, port=port,
                          retry_after=1, capacity=capacity)
    print(f"Simulated Posit Connect {connect_version} serving at {sim.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        sim.stop()
