"""Process-wide settings that the kit holds while any of its threads needs them."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Held:
    """A process-wide setting held while any thread is inside the block: the first to come
    in applies it (apply() returns what was there), the last to leave puts that back."""

    def __init__(self, apply: Callable[[], object], restore: Callable[[object], None]):
        self._apply, self._restore = apply, restore
        self._lock, self._users, self._before = threading.Lock(), 0, None

    def __enter__(self):
        with self._lock:
            if self._users == 0:
                self._before = self._apply()
            self._users += 1

    def __exit__(self, *exc):
        with self._lock:
            self._users -= 1
            if self._users == 0:
                self._restore(self._before)
