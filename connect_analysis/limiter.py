"""How many requests a Client keeps in flight: a fixed number, or an adaptive limit.

    FixedLimit(8)                      at most 8 in flight (`--workers 8`)
    AdaptiveLimit(max_limit=32)        AIMD on response times and overload answers (the default)

Both hand out slots the same way:

    with limit.slot() as s:            # blocks while the limit is reached
        s.status = response.status     # what came back; an exception counts as a timeout/drop
        s.retry_after = seconds        # a Retry-After header's: no request is sent until it passed

AdaptiveLimit is AIMD (additive increase, multiplicative decrease), as TCP congestion
control and Netflix concurrency-limits' AIMDLimit, with a delay signal as in TCP Vegas:

- it starts at `initial` (4) and counts answers in rounds of about `limit` answers, each
  as a multiple of the baseline of its kind of request (the lowest median of 8 answers in
  a row to the same path, ids aside: a 500-record usage page and a bundle list differ);
- a round whose mean multiple stays under `tolerance` (1.4), and in which the limit was
  reached, grows the limit by one;
- a round whose mean rose above that shrinks it by `latency_backoff` (x0.9).
  The mean, not the median: by Little's law it grows with the queue in front of a busy
  server (the median stays put until half the requests queue); each answer counts at
  most 4 x its baseline, so one slow answer does not read as congestion;
- a 429 or 503, or a request that timed out or lost its connection, halves it at once;
- one change per round trip: answers to requests sent before the limit last changed are
  not counted at all (they were sent under the old limit);
- a Retry-After (on a 429 or 503) holds every new request back until it has passed.

The limit stays within [min_limit, max_limit]. `summary()` says what was used and seen.
"""

from __future__ import annotations

import math
import re
import statistics
import threading
import time
from array import array
from contextlib import contextmanager
from urllib.parse import urlsplit

OVERLOADED = frozenset({429, 503})


class Slot:
    """One request's place: set `status` to the HTTP status that came back."""

    __slots__ = ("kind", "retry_after", "sent", "status")

    def __init__(self, sent: float, kind: str):
        self.sent, self.kind = sent, kind
        self.status: int | None = None
        self.retry_after: float | None = None  # seconds, from a Retry-After header


class FixedLimit:
    """At most `limit` requests in flight; counts what it saw like AdaptiveLimit."""

    mode = "fixed"

    def __init__(self, limit: int):
        self.limit = self.max_limit = max(1, int(limit))
        self._cond = threading.Condition()
        self.in_flight = 0
        self.peak_in_flight = 0
        self._resume_at = 0.0
        self._latencies = array("d")  # seconds, every answer
        self._limits = array("d")  # requests allowed in flight as each request was sent

    @contextmanager
    def slot(self, url: str = ""):
        """A place for one request to `url` (its path, ids left out, says which kind it is)."""
        with self._cond:
            while True:
                wait = self._resume_at - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                elif self.in_flight >= self._allowed():
                    self._cond.wait()
                else:
                    break
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self._limits.append(self._allowed())
        s = Slot(time.monotonic(), kind_of(url))
        dropped = False
        try:
            yield s
        except BaseException:
            dropped = True
            raise
        finally:
            rtt = time.monotonic() - s.sent
            with self._cond:
                self.in_flight -= 1
                self._latencies.append(rtt)
                if s.retry_after:
                    self._hold(s.retry_after)
                self._sample(s, rtt, dropped)
                self._cond.notify_all()

    def _hold(self, seconds: float) -> None:
        """Send nothing new for `seconds` (a Retry-After asked so); under the lock."""
        self._resume_at = max(self._resume_at, time.monotonic() + min(seconds, 120.0))

    def _allowed(self) -> int:
        return self.limit

    def _sample(self, s: Slot, rtt: float, dropped: bool) -> None:
        pass

    def summary(self) -> dict:
        """{"mode", "max", "settled", "mean", "peak_in_flight", "latency_ms": {"baseline", "median"}}:
        settled: the requests allowed in flight over the last half of the requests (median);
        mean: over all of them."""
        with self._cond:
            limits, lat = list(self._limits), list(self._latencies)
        half = limits[len(limits) // 2:]
        return {
            "mode": self.mode,
            "max": self.max_limit,
            "settled": round(statistics.median(half), 1) if half else None,
            "mean": round(statistics.fmean(limits), 1) if limits else None,
            "peak_in_flight": self.peak_in_flight,
            "latency_ms": {"baseline": _ms(self._baseline_s(lat)),
                           "median": _ms(statistics.median(lat) if lat else None)},
        }

    def _baseline_s(self, latencies: list[float]) -> float | None:
        """Idle response time: the lowest mean of 16 answers in a row."""
        runs = [statistics.fmean(latencies[i:i + 16]) for i in range(0, len(latencies) - 15, 16)]
        return min(runs) if runs else (min(latencies) if latencies else None)


class AdaptiveLimit(FixedLimit):
    """AIMD with a delay signal (see the module docstring); the limit is a float, its floor
    the number of requests allowed in flight."""

    mode = "adaptive"

    def __init__(self, max_limit: int = 32, initial: int = 4, min_limit: int = 1, tolerance: float = 1.4,
                 latency_backoff: float = 0.9, overload_backoff: float = 0.5):
        super().__init__(max_limit)
        self.min_limit, self.max_limit = max(1, min_limit), max(1, int(max_limit))
        self.limit = float(min(self.max_limit, max(self.min_limit, initial)))
        self.tolerance, self.latency_backoff, self.overload_backoff = tolerance, latency_backoff, overload_backoff
        self._groups: dict[str, list[float]] = {}  # per kind of request: its latest answers, up to 8
        self.baselines: dict[str, float] = {}  # per kind: the lowest median of 8 answers in a row (s)
        self._round: list[float] = []  # answers since the round began, as multiples of their baseline
        self._round_peak = 0
        self._changed_at = 0.0  # when the limit last changed

    def _allowed(self) -> int:
        return max(self.min_limit, math.floor(self.limit))

    def _sample(self, s: Slot, rtt: float, dropped: bool) -> None:
        if s.sent < self._changed_at:
            self._learn(s.kind, rtt, dropped)
            return  # sent before the last change: says nothing about the new limit
        if dropped or s.status in OVERLOADED:
            self._cut(self.overload_backoff)
            return
        ratio = self._learn(s.kind, rtt, dropped)
        if ratio is None:
            return
        self._round.append(ratio)
        self._round_peak = max(self._round_peak, self.in_flight + 1)
        if len(self._round) < max(8, self._allowed()):
            return
        mean = statistics.fmean(self._round)
        reached = self._round_peak >= self._allowed()
        if mean > self.tolerance:
            self._set(self.limit * self.latency_backoff)
        elif reached:
            self._set(self.limit + 1.0)
        self._round, self._round_peak = [], 0

    def _learn(self, kind: str, rtt: float, dropped: bool) -> float | None:
        """rtt as a multiple of its kind's baseline (at most 4: one slow answer is not a
        trend), None while the kind has none; the baseline learns from every answer."""
        if dropped:
            return None
        group = self._groups.setdefault(kind, [])
        group.append(rtt)
        if len(group) == 8:
            median = statistics.median(group)
            group.clear()
            if median < self.baselines.get(kind, math.inf):
                self.baselines[kind] = median
        base = self.baselines.get(kind)
        return None if not base else min(rtt / base, 4.0)

    def _cut(self, factor: float) -> None:
        self._set(self.limit * factor)

    def _set(self, limit: float) -> None:
        new = min(float(self.max_limit), max(float(self.min_limit), limit))
        if new != self.limit:
            self.limit = new
            self._changed_at = time.monotonic()
        self._round, self._round_peak = [], 0


_ID = re.compile(r"[^/]*\d[^/]*|[0-9a-fA-F-]{36}")


def kind_of(url: str) -> str:
    """Which kind of request a URL is: its path with ids (segments holding a digit) as *,
    so that "v1/content/<guid>/bundles" requests share one baseline."""
    return "/".join("*" if _ID.fullmatch(part) else part for part in urlsplit(url).path.split("/"))


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
