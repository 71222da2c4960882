"""Peak resident memory of this process."""

from __future__ import annotations

import resource


def peak_rss_bytes() -> int:
    """This process's own peak (VmHWM). Not getrusage's ru_maxrss: on Linux a child started by
    another process inherits that process's peak (a fetch spawned by the simulator's process
    would report the simulator's ~900 MB)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
