"""Licence and users, from server_settings["license"] and the users table.

Licence values arrive as numbers on some Connect versions and strings on others ("20",
"1", "true"); `expiration` is epoch milliseconds. Everything is parsed leniently: a value that
cannot be read becomes null rather than an error.
"""

from __future__ import annotations

import math

import pandas as pd

DAY = pd.Timedelta(days=1)
DEFAULT_ACTIVITY_DAYS = 365


def users_summary(users: pd.DataFrame) -> dict:
    """{total, by_role: {role: count}} (null role: "unknown")."""
    roles = users["user_role"].fillna("unknown")
    return {"total": int(len(users)),
            "by_role": {str(k): int(v) for k, v in sorted(roles.value_counts().items())}}


def licensed_users(users: pd.DataFrame, now: pd.Timestamp, activity_days: int) -> int:
    """Users who hold a licence seat: not locked and active within activity_days before now."""
    unlocked = ~users["locked"].fillna(False).astype(bool)
    recent = users["active_time"] >= now - activity_days * DAY
    return int((unlocked & recent.fillna(False).astype(bool)).sum())


def license_summary(server_settings: dict, users: pd.DataFrame, now: pd.Timestamp) -> dict | None:
    """The licence block, or None when the server gave none.

    expiration: ISO 8601 UTC; days_left: whole days from `now` to expiration (negative when
    expired; the server's own days-left when there is no expiration); user limits: 0 means
    the licence sets no limit, as Connect reports it.
    """
    lic = server_settings.get("license") if isinstance(server_settings, dict) else None
    if not isinstance(lic, dict) or not lic:
        return None
    expiration = _epoch_ms(lic.get("expiration"))
    if expiration is not None:
        days_left = math.floor((expiration - now) / DAY)
    else:
        days_left = _int(lic.get("days-left"))
    activity_days = _int(lic.get("user-activity-days")) or DEFAULT_ACTIVITY_DAYS
    return {
        "status": _str(lic.get("status")),
        "expiration": expiration.isoformat().replace("+00:00", "Z") if expiration is not None else None,
        "days_left": days_left,
        "tier": _str(lic.get("tier")),
        "edition": _str(lic.get("edition")),
        "type": _str(lic.get("type")),
        "has_trial": _bool(lic.get("has-trial")),
        "user_limit": _int(lic.get("users")),
        "shiny_user_limit": _int(lic.get("shiny-users")),
        "user_activity_days": activity_days,
        "licensed_users": licensed_users(users, now, activity_days),
    }


def _epoch_ms(value) -> pd.Timestamp | None:
    number = _float(value)
    if number is not None and number > 0:
        return pd.Timestamp(int(number), unit="ms", tz="UTC")
    if isinstance(value, str) and value.strip():
        try:
            ts = pd.Timestamp(value.strip())
        except ValueError:
            return None
        return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return None


def _float(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _int(value) -> int | None:
    f = _float(value)
    return int(f) if f is not None else None


def _bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str) and value.strip():
        return value.strip().lower() in ("1", "true", "yes", "t")
    return None


def _str(value) -> str | None:
    if value is None:
        return None
    return str(value)
