import json

import pandas as pd
import pytest

from connect_analysis.errors import SnapshotError
from connect_analysis.snapshot import load_snapshot, write_snapshot


def test_round_trip_conforms_dtypes(tmp_path):
    content = pd.DataFrame([{"guid": "a", "bundle_id": 7, "created_time": "2024-01-02T03:04:05.123456789Z",
                             "run_as_current_user": "1", "extra": 1}])
    write_snapshot(tmp_path / "s", {"content": content}, {"server": {"url": "http://x"}})
    snap = load_snapshot(tmp_path / "s")
    assert snap.content.loc[0, "bundle_id"] == "7"
    assert snap.content.loc[0, "created_time"] == pd.Timestamp("2024-01-02T03:04:05.123456789Z")
    assert bool(snap.content.loc[0, "run_as_current_user"]) is True
    assert "extra" not in snap.content.columns
    assert len(snap.visits) == 0 and list(snap.visits.columns)[0] == "content_guid"
    assert snap.manifest["row_counts"]["content"] == 1


def test_failed_write_keeps_previous(tmp_path):
    write_snapshot(tmp_path / "s", {}, {"n": 1})
    before = (tmp_path / "s" / "manifest.json").read_bytes()
    with pytest.raises(TypeError):
        write_snapshot(tmp_path / "s", {}, {"bad": object()}, server_settings={"x": object()})
    assert (tmp_path / "s" / "manifest.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s"]


def test_foreign_directory_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(SnapshotError, match="not a connect-analysis snapshot"):
        load_snapshot(tmp_path)


def test_loading_only_some_columns(tmp_path):
    from connect_analysis.analysis import load_for_analysis

    visits = pd.DataFrame([{"content_guid": "c", "user_guid": None, "time": "2024-01-01T00:00:00Z",
                            "path": "/p", "variant_key": "v"}])
    write_snapshot(tmp_path / "s", {"visits": visits}, {})
    snap = load_snapshot(tmp_path / "s", columns={"visits": ["time", "content_guid"]})
    assert list(snap.visits.columns) == ["content_guid", "time"]
    assert snap.visits.loc[0, "content_guid"] == "c"
    assert list(load_for_analysis(tmp_path / "s").visits.columns) == ["content_guid", "user_guid", "time"]
    assert list(load_snapshot(tmp_path / "s").visits.columns)[-2:] == ["path", "data_version"]
