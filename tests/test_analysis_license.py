import pandas as pd
from analysis_fixtures import LICENSE_NUMBERS, LICENSE_STRINGS, small_snapshot

from connect_analysis.analysis import analyze
from connect_analysis.analysis.license import license_summary


def test_strings_and_numbers_parse_the_same():
    strings = analyze(small_snapshot(license=LICENSE_STRINGS)).summary["license"]
    numbers = analyze(small_snapshot(license=LICENSE_NUMBERS)).summary["license"]
    assert strings == numbers
    # expiration 1735689600000 ms = 2025-01-01; now = window end 2024-03-31: 1 + 275 days
    assert strings["expiration"] == "2025-01-01T00:00:00Z"
    assert strings["days_left"] == 276
    assert (strings["status"], strings["tier"], strings["type"]) == ("activated", "enterprise", "local")
    assert strings["user_limit"] == 20 and strings["shiny_user_limit"] == 20
    assert strings["has_trial"] is False and strings["user_activity_days"] == 365
    # licensed: unlocked and active within 365 days of 2024-03-31: u1, u2 and u6 (2023-04-01,
    # the first day inside); u3 too old, u4 locked, u5 never active
    assert strings["licensed_users"] == 3


def test_no_license_block():
    assert analyze(small_snapshot(license=None)).summary["license"] is None
    assert license_summary({}, small_snapshot().users, pd.Timestamp("2024-01-01", tz="UTC")) is None


def test_unreadable_values_become_null_and_days_left_falls_back():
    users = small_snapshot().users
    lic = license_summary({"license": {"expiration": "", "days-left": "12", "users": "lots",
                                       "has-trial": "1", "user-activity-days": None}},
                          users, pd.Timestamp("2024-03-31", tz="UTC"))
    assert lic["expiration"] is None and lic["days_left"] == 12
    assert lic["user_limit"] is None and lic["has_trial"] is True
    assert lic["user_activity_days"] == 365


def test_expired_license_has_negative_days():
    lic = license_summary({"license": {"expiration": 1704067200000}}, small_snapshot().users,
                          pd.Timestamp("2024-01-03T12:00:00Z"))
    assert lic["days_left"] == -3  # 2.5 days past, rounded down


def test_users_summary():
    assert analyze(small_snapshot()).summary["users"] == {
        "total": 6, "by_role": {"administrator": 1, "publisher": 2, "viewer": 3}}
