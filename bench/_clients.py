"""The clients the fetch benchmarks time, each in a spawned process of its own (so its peak RSS
is its own), and posit-sdk collecting what the kit's fetch does, the way its documentation shows.

    in_own_process(target, *args) -> dict     target(*args, queue) puts its result on queue
    posit_sdk_fetch(url, key, start, end, queue)
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from queue import Empty

from _rss import peak_rss_bytes


def in_own_process(target, *args) -> dict:
    """Run target(*args, queue) in a spawned process and return what it put on the queue."""
    ctx = mp.get_context("spawn")  # a clean process: its peak RSS is the client's alone
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    while True:  # a client that dies puts nothing on the queue: do not wait for it forever
        try:
            result = queue.get(timeout=1)
            break
        except Empty:
            if not proc.is_alive():
                sys.exit(f"{target.__name__} failed with exit code {proc.exitcode}")
    proc.join()
    return result


def posit_sdk_fetch(url: str, key: str, start: str, end: str, queue) -> None:
    """posit-sdk as documented: content.find(), bundles.find() per item, metrics.usage.find(start,
    end) (start, end: "YYYY-MM-DDTHH:MM:SSZ"). Puts seconds, peak_rss_bytes and rows on queue."""
    from posit import connect

    t0 = time.perf_counter()
    client = connect.Client(url, key)
    items = client.content.find()
    bundles = [b for item in items for b in item.bundles.find()]
    usage = client.metrics.usage.find(start=start, end=end)
    queue.put({"seconds": round(time.perf_counter() - t0, 2), "peak_rss_bytes": peak_rss_bytes(),
               "rows": {"content": len(items), "bundles": len(bundles), "usage": len(usage)}})
