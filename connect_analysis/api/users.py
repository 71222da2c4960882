"""Users and groups (offset-paged)."""

from __future__ import annotations

from concurrent.futures import Executor

import pandas as pd

from .._paging import fetch_offset
from ..client import Client
from ._rows import frame


def fetch_me(client: Client) -> dict:
    """The key's own user record (its role says what the snapshot can hold)."""
    me = client.get_json("v1/user")
    return me if isinstance(me, dict) else {}


def fetch_users(client: Client, pool: Executor | None = None) -> pd.DataFrame:
    """Every user the key may list."""
    items = fetch_offset(client, "v1/users", page_size=500, pool=pool, key=lambda r: r.get("guid"))
    return frame(items, "users")


def fetch_groups(client: Client, pool: Executor | None = None) -> pd.DataFrame:
    """Every group (an error when the server has groups turned off)."""
    items = fetch_offset(client, "v1/groups", page_size=500, pool=pool, key=lambda r: r.get("guid"))
    return frame(items, "groups")
