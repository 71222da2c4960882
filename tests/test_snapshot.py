import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connect_analysis import _snapdir
from connect_analysis.errors import SnapshotError
from connect_analysis.refresh import read_encoded
from connect_analysis.schema import conform
from connect_analysis.snapshot import SnapshotWriter, load_snapshot, replace_dir, write_snapshot


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


def test_a_table_written_in_parts_reads_back_as_one(tmp_path):
    visits = pd.DataFrame({"content_guid": ["a", "b", "c", None], "time": pd.to_datetime(
        ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"], utc=True), "data_version": [1, None, 3, 4]})
    w = SnapshotWriter(tmp_path / "s")
    w.put_parts("visits", [lambda: visits.iloc[:2], lambda: visits.iloc[2:2], lambda: visits.iloc[2:]])
    w.put_parts("shiny_sessions", [lambda: pd.DataFrame()])
    w.commit({})
    write_snapshot(tmp_path / "whole", {"visits": visits}, {})
    parts, whole = load_snapshot(tmp_path / "s"), load_snapshot(tmp_path / "whole")
    assert parts.visits.equals(whole.visits) and list(parts.visits["content_guid"].fillna("-")) == list("abc-")
    assert parts.manifest["row_counts"]["visits"] == 4 and parts.manifest["row_counts"]["shiny_sessions"] == 0
    assert parts.shiny_sessions.dtypes.equals(whole.shiny_sessions.dtypes)


def test_text_columns_conform_to_strings_with_na(tmp_path):
    content = pd.DataFrame({"guid": ["a", None]})  # pandas 3 infers its NaN-valued "str" dtype
    assert conform(content, "content")["guid"].iloc[1] is pd.NA
    write_snapshot(tmp_path / "s", {"content": content}, {})
    assert load_snapshot(tmp_path / "s").content["guid"].iloc[1] is pd.NA


def test_encoded_parts_read_back_as_a_plain_write_with_only_used_values(tmp_path):
    visits = pd.DataFrame({"content_guid": ["gone", "a", "b", None, "a"], "user_guid": ["u1", None, "u2", "u2", "u1"],
                           "time": pd.date_range("2024-01-01", periods=5, freq="D", tz="UTC"),
                           "path": ["/old", "/", "/x", "/", "/"], "data_version": [1, 2, None, 4, 5]})
    write_snapshot(tmp_path / "old", {"visits": visits.iloc[:4]}, {})
    old = read_encoded(tmp_path / "old" / "visits.parquet", "visits")
    assert pa.types.is_dictionary(old.schema.field("content_guid").type)
    w = SnapshotWriter(tmp_path / "s")  # the first row dropped, one row added: a refresh's parts
    w.put_parts("visits", [lambda: old.slice(1), lambda: visits.iloc[4:]])
    w.commit({})
    write_snapshot(tmp_path / "whole", {"visits": visits.iloc[1:]}, {})
    refreshed, whole = (pq.ParquetFile(tmp_path / d / "visits.parquet") for d in ("s", "whole"))
    assert refreshed.metadata.metadata == whole.metadata.metadata  # Arrow schema and pandas columns
    assert refreshed.read().equals(whole.read())
    assert load_snapshot(tmp_path / "s").visits.equals(load_snapshot(tmp_path / "whole").visits)
    kept = pq.ParquetFile(tmp_path / "s" / "visits.parquet", read_dictionary=["content_guid", "path"]).read_row_group(0)
    assert kept["content_guid"].chunk(0).dictionary.to_pylist() == ["a", "b"]  # "gone" left with its row
    assert kept["path"].chunk(0).dictionary.to_pylist() == ["/", "/x"]
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 damaged")
    with pytest.raises(SnapshotError, match="unreadable"):
        read_encoded(tmp_path / "bad.parquet", "visits")
    with pytest.raises(SnapshotError, match="columns"):
        read_encoded(tmp_path / "old" / "content.parquet", "visits")


def test_a_part_that_fails_leaves_the_previous_snapshot(tmp_path):
    write_snapshot(tmp_path / "s", {}, {"n": 1})
    before = {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir()}

    def broken():
        raise OSError(28, "No space left on device")

    w = SnapshotWriter(tmp_path / "s")
    w.put_parts("visits", [lambda: pd.DataFrame({"content_guid": ["a"]}), broken])
    with pytest.raises(SnapshotError, match="No space left"):
        w.commit({"n": 2})
    assert {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["s"]


def test_a_table_not_loaded_raises_naming_it_not_an_empty_table(tmp_path):
    import pandas as pd

    from connect_analysis.errors import SnapshotError, TableNotLoaded
    from connect_analysis.snapshot import load_snapshot, write_snapshot

    content = pd.DataFrame({"guid": ["g1"], "title": ["one"]})
    path = write_snapshot(tmp_path / "s", {"content": content}, {"server_url": "http://x"})
    part = load_snapshot(path, tables=["content"])
    assert list(part.content["guid"]) == ["g1"]
    with pytest.raises(TableNotLoaded) as err:
        part.visits  # noqa: B018
    assert isinstance(err.value, KeyError) and isinstance(err.value, SnapshotError)
    assert err.value.table == "visits" and err.value.loaded == ("content",)
    assert str(err.value).startswith("the snapshot's 'visits' table was not loaded (loaded: content)")
    whole = load_snapshot(path)
    assert len(whole.visits) == 0 and "time" in whole.visits.columns  # loaded, and empty
    with pytest.raises(AttributeError):
        part.no_such_table  # noqa: B018


def _dir_with(path, text):
    path.mkdir()
    (path / "f.txt").write_text(text)
    return path


def test_replace_dir_puts_the_new_directory_in_place_of_the_old(tmp_path):
    dest = tmp_path / "plan"
    replace_dir(_dir_with(tmp_path / ".new1", "first"), dest)  # no dest yet: one rename
    assert (dest / "f.txt").read_text() == "first"
    replace_dir(_dir_with(tmp_path / ".new2", "second"), dest)  # dest moved aside, then removed
    assert (dest / "f.txt").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_replace_dir_puts_the_old_directory_back_when_the_rename_fails(tmp_path):
    dest = _dir_with(tmp_path / "plan", "old")
    with pytest.raises(FileNotFoundError):
        replace_dir(tmp_path / ".never-written", dest)
    assert (dest / "f.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


@pytest.mark.parametrize("exists", [True, False], ids=["over-a-snapshot", "new"])
def test_swap_and_its_two_rename_fallback_leave_only_the_new_directory(tmp_path, exists):
    dest = tmp_path / "snap"
    if exists:
        _dir_with(dest, "old")
    _snapdir.swap(_dir_with(tmp_path / ".snap.1.x.tmp", "new"), dest)
    assert (dest / "f.txt").read_text() == "new"
    _snapdir.rename_over(_dir_with(tmp_path / ".snap.1.y.tmp", "newer"), dest)  # the fallback
    assert (dest / "f.txt").read_text() == "newer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]
