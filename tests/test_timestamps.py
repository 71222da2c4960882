"""The kit's one timestamp format (connect_analysis/timestamps.py): summary.json's and the one
sent to Connect's from/to parameters."""

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from connect_analysis.api import usage as usage_api
from connect_analysis.timestamps import iso


def test_utc_with_a_z_from_any_offset_or_kind():
    plus_two = timezone(timedelta(hours=2))
    assert iso(datetime(2026, 1, 2, 3, 4, 5, tzinfo=plus_two)) == "2026-01-02T01:04:05Z"
    assert iso(pd.Timestamp("2026-01-02 03:04:05")) == "2026-01-02T03:04:05Z"  # naive is UTC
    assert iso("2026-01-02T03:04:05-01:00") == "2026-01-02T04:04:05Z"


@pytest.mark.parametrize("missing", [None, pd.NaT, float("nan")])
def test_a_missing_value_is_none(missing):
    assert iso(missing) is None


def test_a_fraction_is_kept_unless_whole_seconds():
    t = datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
    assert iso(t) == "2026-01-02T03:04:05.500000Z"
    assert iso(t, whole_seconds=True) == "2026-01-02T03:04:05Z"
    assert usage_api.iso(t) == "2026-01-02T03:04:05Z"  # what the fetch sends as from/to
