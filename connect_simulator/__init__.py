"""A simulated Posit Connect server: real HTTP on loopback, generated data, real shapes.

A sibling of the kit (connect_analysis) in the same distribution: it imports nothing from it
(import-linter's contract in pyproject.toml), so it stands in for any server and any client.

    from connect_simulator import start_simulator
    with start_simulator(scenario="demo", api_key="admin-key", connect_version="2026.06.0") as sim:
        sim.url            # "http://127.0.0.1:PORT", serving /__ping__ and /__api__/...
        sim.keys           # {"admin": ..., "publisher": ..., "viewer": ...}
        sim.request_log    # [(method, path with query, status)]; sim.clear_log()
        sim.dataset        # the data served (see data.Dataset for its frames)
        sim.advance(days=1)  # move the clock on and add that period's usage

Modules: catalogue (vocabularies), generate (deterministic data for a seed and clock),
data (the Dataset), usage (columnar usage logs and their cursor queries), api (errors,
paging, API-shaped indexes), routes_* (one module per resource family), server (HTTP).
Snapshots fetched from two simulators are compared by the kit (connect_analysis.reliability).
"""

from .data import Dataset
from .generate import SCENARIOS, generate_dataset
from .server import Simulator, serve_forever, start_simulator

__all__ = ["SCENARIOS", "Dataset", "Simulator", "generate_dataset", "serve_forever", "start_simulator"]
