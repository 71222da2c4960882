"""Usage records (visits and Shiny sessions) stored column-wise in numpy arrays.

Times are int64 seconds since the Unix epoch (UTC). Records are kept sorted by time
(a session's start), so a from/to window is two binary searches and a page of a cursor
query costs O(page), not O(records). A per-content index (positions grouped by content,
time-ordered within each group) serves `content_guid=` filters the same way.

A record's cursor is its position in the time order; positions never change because new
usage (see `UsageLog.extended`) is only ever appended after the existing records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OPEN = -1  # `end` of a Shiny session that is still open
ANONYMOUS = -1  # `user` of an anonymous visit
RECONNECT_S = 15  # Connect inflates a session's end by its reconnect timeout
MAX_SESSION_S = 10 * 3600  # no generated session lasts longer; bounds the from-window scan


@dataclass(frozen=True)
class UsageLog:
    """One kind of usage. All arrays have one entry per record, in time order.

    time: start (s since epoch); content: index into the dataset's usage guids;
    user: index into the users table or ANONYMOUS; path: index into the paths table
    (visits) ; end: session end in s or OPEN (Shiny only, else None).
    """

    time: np.ndarray
    content: np.ndarray
    user: np.ndarray
    path: np.ndarray
    end: np.ndarray | None
    n_guids: int

    def __post_init__(self):
        order = np.argsort(self.content, kind="stable")  # time order kept within a content
        object.__setattr__(self, "_by_content", order)
        object.__setattr__(self, "_time_by_content", self.time[order])
        offsets = np.searchsorted(self.content[order], np.arange(self.n_guids + 1))
        object.__setattr__(self, "_offsets", offsets)
        # Open sessions overlap every later window, however long ago they started.
        earliest_open = 2**62
        if self.end is not None and (self.end == OPEN).any():
            earliest_open = int(self.time[self.end == OPEN].min())
        object.__setattr__(self, "_earliest_open", earliest_open)
        # how far back a from-window scan must look: the longest closed session (edited logs may
        # hold longer ones than generated)
        longest = MAX_SESSION_S
        if self.end is not None and (self.end != OPEN).any():
            closed = self.end != OPEN
            longest = max(longest, int((self.end[closed] - self.time[closed]).max()))
        object.__setattr__(self, "_longest", longest)

    def __len__(self) -> int:
        return len(self.time)

    def extended(self, other: UsageLog, close_open_at: int | None = None,
                 rng: np.random.Generator | None = None) -> UsageLog:
        """A new log with `other`'s (later) records appended. Sessions still open are
        closed shortly after `close_open_at`, as a real server would have closed them."""
        end = None
        if self.end is not None:
            end = self.end.copy()
            open_ = np.flatnonzero(end == OPEN)
            if len(open_) and close_open_at is not None:
                extra = rng.integers(60, 3600, size=len(open_)) if rng is not None else 600
                end[open_] = close_open_at + extra + RECONNECT_S
            end = np.concatenate([end, other.end])
        return UsageLog(
            time=np.concatenate([self.time, other.time]),
            content=np.concatenate([self.content, other.content]),
            user=np.concatenate([self.user, other.user]),
            path=np.concatenate([self.path, other.path]),
            end=end,
            n_guids=self.n_guids,
        )

    # -- queries ---------------------------------------------------------------------

    def page(self, *, contents: list[int] | None, t_from: int | None, t_to: int | None,
             after: int, forward: bool, limit: int) -> tuple[np.ndarray, bool]:
        """Up to `limit` positions strictly after `after` in the walking direction
        (forward: increasing positions), matching the filters; and whether more exist.

        For Shiny sessions a record matches unless it ended before t_from or started
        after t_to (open sessions never "ended before").
        """
        lo_t = -(2**62) if t_from is None else t_from
        hi_t = 2**62 if t_to is None else t_to
        if self.end is not None and t_from is not None:
            # a session started earlier may still overlap the window
            lo_t = min(t_from - self._longest, self._earliest_open)
        found: list[np.ndarray] = []
        count = 0
        chunk = max(limit + 1, 64)
        while count <= limit:
            raw = self._candidates(contents, lo_t, hi_t, after, forward, chunk)
            if not len(raw):
                break
            after = int(raw[-1])  # resume after the last record looked at, kept or not
            cand = raw
            if self.end is not None and t_from is not None:
                ends = self.end[raw]
                cand = raw[(ends == OPEN) | (ends >= t_from)]
            found.append(cand)
            count += len(cand)
        got = np.concatenate(found) if found else np.empty(0, dtype=np.int64)
        return got[:limit], len(got) > limit

    def _candidates(self, contents, lo_t, hi_t, after, forward, n) -> np.ndarray:
        """The next n positions (by time window only) strictly beyond `after`."""
        if contents is None:
            lo = int(np.searchsorted(self.time, lo_t, "left"))
            hi = int(np.searchsorted(self.time, hi_t, "right"))
            if forward:
                start = max(lo, after + 1)
                return np.arange(start, min(hi, start + n), dtype=np.int64)
            end = min(hi, after)
            return np.arange(end - 1, max(lo, end - n) - 1, -1, dtype=np.int64)
        parts = []
        for c in contents:
            a, b = self._offsets[c], self._offsets[c + 1]
            times = self._time_by_content[a:b]
            seg = self._by_content[a:b][np.searchsorted(times, lo_t, "left"):
                                        np.searchsorted(times, hi_t, "right")]
            if forward:
                k = int(np.searchsorted(seg, after, "right"))
                parts.append(seg[k:k + n])
            else:
                k = int(np.searchsorted(seg, after, "left"))
                parts.append(seg[max(0, k - n):k])
        if not parts:
            return np.empty(0, dtype=np.int64)
        merged = np.sort(np.concatenate(parts)).astype(np.int64)
        return merged[:n] if forward else merged[::-1][:n]

    def window(self, t_from: int | None, t_to: int | None) -> np.ndarray:
        """All positions whose time lies in [t_from, t_to] (for the unpaged hits API)."""
        lo = 0 if t_from is None else int(np.searchsorted(self.time, t_from, "left"))
        hi = len(self.time) if t_to is None else int(np.searchsorted(self.time, t_to, "right"))
        return np.arange(lo, hi, dtype=np.int64)


def empty_log(n_guids: int, shiny: bool) -> UsageLog:
    z = np.empty(0, dtype=np.int64)
    return UsageLog(time=z, content=z.astype(np.int32), user=z.astype(np.int32),
                    path=z.astype(np.int8), end=z.copy() if shiny else None, n_guids=n_guids)


# -- generation ------------------------------------------------------------------------

# Relative traffic by weekday (Mon..Sun) and by UTC hour: office hours dominate.
_WEEKDAY = np.array([1.0, 1.0, 1.0, 0.95, 0.8, 0.25, 0.2])
_HOUR = np.array([0.15, 0.1, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.0, 1.0, 0.95,
                  0.85, 0.95, 1.0, 0.95, 0.85, 0.6, 0.4, 0.3, 0.25, 0.2, 0.2, 0.15])


def generate_log(rng: np.random.Generator, n: int, start: int, end: int, *,
                 content_weights: np.ndarray, content_born: np.ndarray,
                 anon_allowed: np.ndarray, user_weights: np.ndarray, n_paths: int,
                 api_like: np.ndarray, shiny: bool, now: int) -> UsageLog:
    """About n records with times in (start, end], vectorised.

    content_weights: popularity per usage guid (0 for content without this kind of
    usage); content_born: earliest time (s) each guid can be used; anon_allowed: guids
    whose visitors may be anonymous; api_like: guids whose visits hit varied paths.
    """
    n_guids = len(content_weights)
    if n <= 0 or end <= start or content_weights.sum() <= 0:
        return empty_log(n_guids, shiny)
    p = content_weights / content_weights.sum()
    # Thinning by weekday/hour shape: draw more, keep each with its shape probability,
    # and draw again in the rare case too few survive.
    got_c, got_t, have = [], [], 0
    while have < n:
        draw = min(int((n - have) / 0.36) + 64, 1_000_000)  # batches bound the peak memory
        c = rng.choice(n_guids, size=draw, p=p).astype(np.int32)
        lo = np.maximum(content_born[c], start)
        t = lo + (rng.random(draw) * np.maximum(end - lo, 1)).astype(np.int64) + 1
        keep = (rng.random(draw) < _WEEKDAY[((t // 86400) + 3) % 7] * _HOUR[(t % 86400) // 3600]) & (t <= end)
        got_c.append(c[keep])
        got_t.append(t[keep])
        have += int(keep.sum())
    content, t = np.concatenate(got_c)[:n], np.concatenate(got_t)[:n]
    m = len(t)
    order = np.argsort(t, kind="stable")
    content, t = content[order], t[order]
    uw = user_weights / user_weights.sum()
    user = rng.choice(len(uw), size=m, p=uw).astype(np.int32)
    anon = anon_allowed[content] & (rng.random(m) < 0.6)
    user[anon] = ANONYMOUS
    path = np.where(api_like[content], rng.integers(0, n_paths, size=m), 0).astype(np.int8)
    ends = None
    if shiny:
        dur = np.clip(rng.lognormal(np.log(300), 1.2, size=m), 5, 8 * 3600).astype(np.int64)
        ends = t + dur + RECONNECT_S
        recent = (t > now - 6 * 3600) & (rng.random(m) < 0.5)
        ends[(ends > now) | recent] = OPEN
        ends[-max(2, m // 2000):] = OPEN  # the latest sessions are still running
    return UsageLog(time=t, content=content, user=user, path=path, end=ends, n_guids=n_guids)
