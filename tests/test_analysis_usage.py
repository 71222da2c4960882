import pandas as pd
import pytest
from analysis_fixtures import SESSIONS, VISITS, small_snapshot

from connect_analysis import schema
from connect_analysis.analysis.usage import Window, usage_by_content

START, END = pd.Timestamp("2024-03-01T00:00:00Z"), pd.Timestamp("2024-03-31T00:00:00Z")


WINDOW = Window(START, END)


def _run(window=WINDOW, visits=VISITS, sessions=SESSIONS):
    snap = small_snapshot()
    v = schema.conform(pd.DataFrame(visits), "visits")
    s = schema.conform(pd.DataFrame(sessions), "shiny_sessions")
    per, totals = usage_by_content(snap.content["guid"], v, s, window)
    return per.set_index(snap.content["guid"].to_numpy()), totals


def test_totals_in_window_count_deleted_content_anonymous_and_open_sessions():
    per, totals = _run()
    # visits: a1 1 + b2 4 (one exactly at the end) + c3 2 (one a second late is out) + g7 2 + f6 1
    # + zz 2 (deleted); the d4 visit before the window is out.
    assert totals["visits"] == 12
    # sessions: a1 three overlap the window (one open, one started the day before), one ended
    # before it; zz one.
    assert totals["shiny_sessions"] == 4
    assert totals["unique_viewers"] == 6  # u1 u2 u3 u4 u5 u6; anonymous rows add none, u7 is out
    assert totals["events_for_deleted_content"] == 3
    assert totals["open_shiny_sessions"] == 1
    # a1: 2 h + 12 h (open, to the window end) + 1 h (the part after the window start); zz 0.5 h
    assert totals["shiny_session_hours"] == pytest.approx(15.5)


def test_per_content_counts_and_last_visit():
    per, _ = _run()
    assert per.loc["a1", ["visits", "shiny_sessions", "events", "unique_viewers"]].tolist() == [1, 3, 4, 3]
    assert per.loc["b2", ["visits", "shiny_sessions", "events", "unique_viewers"]].tolist() == [4, 0, 4, 3]
    assert per.loc["c3", "unique_viewers"] == 1 and per.loc["c3", "events"] == 2
    assert per.loc["f6", "unique_viewers"] == 0 and per.loc["f6", "events"] == 1  # anonymous only
    assert per.loc["d4", "events"] == 0 and pd.isna(per.loc["d4", "last_visit"])
    assert per.loc["a1", "shiny_session_hours"] == pytest.approx(15.0)
    assert per.loc["a1", "last_visit"] == pd.Timestamp("2024-03-30T12:00:00Z")  # the open session's start
    assert per.loc["b2", "last_visit"] == END
    assert "zz" not in per.index


def test_unbounded_window_counts_everything_and_skips_missing_times():
    visits = VISITS + [{"content_guid": "a1", "user_guid": "u9", "time": None}]
    per, totals = _run(Window(None, None), visits=visits)
    assert totals["visits"] == 14  # every row with a time
    assert totals["shiny_sessions"] == 5
    assert per.loc["d4", "events"] == 1
    assert totals["unique_viewers"] == 7  # u7's session now counts; u9's visit has no time


def test_empty_tables():
    per, totals = _run(visits=[], sessions=[])
    assert totals == {"visits": 0, "shiny_sessions": 0, "events": 0, "unique_viewers": 0,
                      "events_for_deleted_content": 0, "open_shiny_sessions": 0, "shiny_session_hours": 0.0}
    assert per["events"].sum() == 0 and per["last_visit"].isna().all()


def test_chunked_passes_give_the_same_answers(monkeypatch):
    import connect_analysis.analysis.usage as usage

    whole_per, whole_totals = _run()
    monkeypatch.setattr(usage, "CHUNK_ROWS", 3)  # many chunks, users and content split across them
    per, totals = _run()
    assert totals == whole_totals
    pd.testing.assert_frame_equal(per, whole_per)
