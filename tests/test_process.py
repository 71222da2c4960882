"""Process-wide tuning (connect_analysis/_process.py): held by a fetch only, always restored,
switchable off with CONNECT_ANALYSIS_TUNING; never touched by load_snapshot. The collector and
the GIL switch interval are left as the user had them (those pieces were dropped)."""

from __future__ import annotations

import gc
import secrets
import sys
import threading
import time

import pyarrow as pa
import pytest

from connect_analysis._process import PIECES, chosen_pieces, fetch_tuning
from connect_analysis.errors import ConfigError, ConnectAnalysisError

pytestmark = pytest.mark.integration


def _state() -> tuple:
    return gc.isenabled(), sys.getswitchinterval(), pa.default_memory_pool().backend_name


@pytest.fixture()
def defaults():
    """The process as a user's would be: collector on, 5 ms switches, mimalloc."""
    before = (gc.isenabled(), sys.getswitchinterval(), pa.default_memory_pool())
    gc.enable()
    sys.setswitchinterval(0.005)
    pa.set_memory_pool(pa.mimalloc_memory_pool())
    yield (True, 0.005, "mimalloc")
    gc.enable() if before[0] else gc.disable()
    sys.setswitchinterval(before[1])
    pa.set_memory_pool(before[2])


def _seen_while(work) -> set[tuple]:
    """Every process state seen (polled every ~1 ms) while work() runs in another thread."""
    seen, done = set(), threading.Event()
    errors = []

    def run():
        try:
            work()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            errors.append(e)
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    while not done.is_set():
        seen.add(_state())
        time.sleep(0.001)
    thread.join()
    if errors and not isinstance(errors[0], ConnectAnalysisError):
        raise errors[0]
    return seen


def test_the_block_applies_each_piece_and_restores_it_also_on_error(defaults):
    with fetch_tuning():
        with fetch_tuning():  # nested (two fetches at once): the outer one still holds
            pass
        assert _state() == (True, 0.005, "system")
    assert _state() == defaults
    with pytest.raises(ValueError), fetch_tuning():
        raise ValueError("a fetch that fails")
    assert _state() == defaults


def test_the_environment_chooses_the_pieces(monkeypatch, defaults):
    monkeypatch.setenv("CONNECT_ANALYSIS_TUNING", "0")
    assert chosen_pieces() == []
    with fetch_tuning():
        assert _state() == defaults
    monkeypatch.setenv("CONNECT_ANALYSIS_TUNING", "malloc")
    with fetch_tuning():
        assert _state() == (True, 0.005, "system")
    monkeypatch.setenv("CONNECT_ANALYSIS_TUNING", "malloc,gc")
    with pytest.raises(ConfigError, match="unknown setting 'gc'"):
        chosen_pieces()
    monkeypatch.delenv("CONNECT_ANALYSIS_TUNING")
    assert chosen_pieces() == list(PIECES) == ["malloc"]


def test_a_fetch_holds_the_tuning_while_it_runs_and_a_load_never_does(tmp_path, defaults,
                                                                     monkeypatch):
    from connect_analysis.fetch import fetch_snapshot
    from connect_analysis.snapshot import load_snapshot
    from connect_simulator import start_simulator

    key = secrets.token_urlsafe(16)
    with start_simulator(scenario="demo", api_key=key, port=0) as sim:
        seen = _seen_while(lambda: fetch_snapshot(sim.url, tmp_path / "s", days=30, api_key=key,
                                                  quiet=True))
        tuned = (True, 0.005, "system")
        assert tuned in seen and seen <= {defaults, tuned} and _state() == defaults
        monkeypatch.setenv("CONNECT_ANALYSIS_TUNING", "off")
        seen = _seen_while(lambda: fetch_snapshot(sim.url, tmp_path / "s", days=30, api_key=key,
                                                  quiet=True))
        assert seen == {defaults}
    monkeypatch.delenv("CONNECT_ANALYSIS_TUNING")
    assert _seen_while(lambda: load_snapshot(tmp_path / "s")) == {defaults}  # what Jupyter calls
    # a fetch that fails puts everything back too
    _seen_while(lambda: fetch_snapshot("http://127.0.0.1:9", tmp_path / "t", api_key=key, quiet=True))
    assert _state() == defaults


def test_a_fetch_that_fails_while_it_holds_the_tuning_puts_it_back(tmp_path, defaults):
    """Nothing listens on the port: the first request fails inside the tuned block (after its
    retries); the error is the fetch's own, and the process is left as it was."""
    from connect_analysis.errors import UnreachableError
    from connect_analysis.fetch import fetch_snapshot

    raised = []

    def failing_fetch():
        try:
            fetch_snapshot("http://127.0.0.1:9", tmp_path / "t", api_key=secrets.token_urlsafe(16), quiet=True)
        except UnreachableError as e:
            raised.append(e)

    seen = _seen_while(failing_fetch)
    assert len(raised) == 1 and "cannot reach" in str(raised[0])
    assert (True, 0.005, "system") in seen  # the failure came while the tuning was held
    assert _state() == defaults and not (tmp_path / "t").exists()
