"""Deterministic generation of a simulated server's data for a scenario, a seed and a clock.

`generate_dataset("demo", seed=1, now=...)` always returns the same data for the same
arguments. Usage covers the year before `now`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from . import catalogue as cat
from .data import DAY_S, Dataset, epoch_seconds, usage_model
from .usage import generate_log

# name -> (users, content, visits per year, Shiny sessions per year, groups, deleted items)
SCENARIOS = {
    "tiny": (8, 12, 400, 80, 2, 1),  # a starting point for hand-edited test datasets
    "demo": (80, 150, 30_000, 6_000, 8, 6),
    "large": (5_200, 20_500, 2_100_000, 420_000, 300, 400),
}


def generate_dataset(scenario: str = "demo", seed: int = 1, now: datetime | None = None) -> Dataset:
    """Generate the dataset of a scenario ("demo" or "large"). `now` (tz-aware UTC;
    default: the current second) is the server clock; usage covers the year before it."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {sorted(SCENARIOS)}")
    n_users, n_content, n_visits, n_sessions, n_groups, n_deleted = SCENARIOS[scenario]
    now_ts = pd.Timestamp(now if now is not None else datetime.now(UTC)).tz_convert("UTC").floor("s")
    now_s = int(now_ts.timestamp())
    rng = np.random.default_rng([seed, 1])
    guid = _guid_factory(rng)

    users = _users(rng, guid, n_users, now_s)
    content = _content(rng, guid, users, n_content, now_s)
    bundles = _bundles(rng, content, now_s)
    active = bundles[bundles["active"]].set_index("content_guid")["id"]
    content["bundle_id"] = content["guid"].map(active).astype(object)
    content.loc[content["bundle_id"].isna(), "bundle_id"] = None
    tags, content_tags = _tags(rng, content, now_s)
    groups, members = _groups(rng, guid, users, n_groups)
    envs, env_runtimes = _environments(guid, now_s)
    deleted = [guid() for _ in range(n_deleted)]
    ds = Dataset(
        scenario=scenario, seed=seed, now=now_ts, users=users, groups=groups,
        group_members=members, content=content, bundles=bundles, tags=tags,
        content_tags=content_tags, vanities=_vanities(rng, content), packages=_packages(rng, content),
        server_runtimes=_server_runtimes(), environments=envs, environment_runtimes=env_runtimes,
        runtime_caches=_caches(),
        deleted_content_guids=deleted,
        usage_guids=np.array(content["guid"].tolist() + deleted, dtype=object),
        visit_log=None, shiny_log=None,  # type: ignore[arg-type]  (filled below)
        visits_per_day=n_visits / 365, sessions_per_day=n_sessions / 365,
    )
    model = usage_model(ds)
    start = now_s - 365 * DAY_S
    urng = np.random.default_rng([seed, 2, now_s])
    ds.visit_log = generate_log(urng, n_visits, start, now_s, content_weights=model["visit_weights"],
                                shiny=False, now=now_s, **model["common"])
    ds.shiny_log = generate_log(urng, n_sessions, start, now_s, content_weights=model["shiny_weights"],
                                shiny=True, now=now_s, **model["common"])
    return ds


def _guid_factory(rng: np.random.Generator):
    def guid() -> str:
        return str(uuid.UUID(bytes=rng.bytes(16), version=4))
    return guid


def _ts(seconds) -> pd.Series | pd.Timestamp:
    return pd.to_datetime(seconds, unit="s", utc=True)


def _picks(rng, pairs, n) -> list[str]:
    """n weighted draws from (value, weight) pairs."""
    values = [v for v, _ in pairs]
    w = np.array([w for _, w in pairs], dtype=float)
    return [values[j] for j in rng.choice(len(values), size=n, p=w / w.sum())]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text).lower()).strip("-") or "content"


def _users(rng, guid, n, now_s) -> pd.DataFrame:
    rows, seen = [], set()
    for i in range(n):
        first = "Admin" if i == 0 else cat.FIRST_NAMES[rng.integers(len(cat.FIRST_NAMES))]
        last = "User" if i == 0 else cat.LAST_NAMES[rng.integers(len(cat.LAST_NAMES))]
        base = "admin" if i == 0 else _slug(f"{first}{last[0]}").replace("-", "")
        username, k = base, 1
        while username in seen:
            k += 1
            username = f"{base}{k}"
        seen.add(username)
        r = rng.random()
        role = "administrator" if i == 0 or r < 0.02 else "publisher" if r < 0.27 else "viewer"
        created = now_s - int(rng.integers(30, 6 * 365) * DAY_S) - int(rng.integers(DAY_S))
        updated = created + int(rng.random() * (now_s - created))
        active = None if (i and rng.random() < 0.06) else now_s - int(rng.exponential(20) * DAY_S)
        if active is not None:
            active = max(active, created)
        rows.append({
            "guid": guid(), "username": username, "email": f"{username}@example.com",
            "first_name": first, "last_name": last, "user_role": role,
            "created_time": created, "updated_time": updated, "active_time": active,
            "confirmed": True, "locked": bool(i and rng.random() < 0.03),
        })
    df = pd.DataFrame(rows)
    for col in ("created_time", "updated_time", "active_time"):
        df[col] = _ts(df[col].astype("float64"))
    return df


def _content(rng, guid, users, n, now_s) -> pd.DataFrame:
    modes = list(cat.APP_MODES)
    mw = np.array([cat.APP_MODES[m][0] for m in modes])
    owners = users[users["user_role"] != "viewer"]["guid"].tolist()
    ow = 1.0 / (np.arange(len(owners)) + 1.0) ** 0.9  # a few publishers own most content
    mode_pick = rng.choice(len(modes), size=n, p=mw / mw.sum())
    r_pick, py_pick, q_pick = (_picks(rng, pairs, n) for pairs in (cat.R_VERSIONS, cat.PY_VERSIONS,
                                                                    cat.QUARTO_VERSIONS))
    owner_pick = rng.choice(len(owners), size=n, p=ow / ow.sum())
    rows = []
    for i in range(n):
        mode = modes[mode_pick[i]]
        family = cat.APP_MODES[mode][1]
        deployed = mode != "unknown"
        created = now_s - int(rng.integers(20 * DAY_S, 5 * 365 * DAY_S))
        last = created + int(rng.random() * (now_s - created)) if deployed else created
        r = py = quarto = None
        if deployed:
            if family == "r" or (family == "quarto" and rng.random() < 0.5):
                r = r_pick[i]
            if family == "py" or (family == "quarto" and r is None) or (
                    mode.startswith("rmd") and rng.random() < 0.1):
                py = py_pick[i]
            if family == "quarto":
                quarto = q_pick[i]
        title = _title(rng, family, i)
        interactive = mode not in cat.RENDERED_MODES and mode not in ("static", "unknown")
        rows.append({
            "id": str(1000 + i), "guid": guid(), "name": f"{_slug(title or 'untitled')}-{i}",
            "title": title,
            "description": "" if rng.random() < 0.8 else f"Owned by the {cat.TITLE_SUBJECTS[i % 9]} team.",
            "access_type": ["acl", "logged_in", "all"][rng.choice(3, p=[0.5, 0.35, 0.15])],
            "app_mode": mode,
            "content_category": "pin" if mode == "static" and rng.random() < 0.3 else "",
            "parameterized": bool(mode == "rmd-static" and rng.random() < 0.1),
            "created_time": created, "last_deployed_time": last, "bundle_id": None,
            "cluster_name": "Local" if deployed else None, "image_name": None,
            "r_version": r, "py_version": py, "quarto_version": quarto,
            # a few items use the host's packages (no rng draw: the other data stays as it was)
            "r_environment_management": (i % 31 != 7) if r else None,
            "py_environment_management": (i % 37 != 11) if py else None,
            "run_as": cat.RUN_AS_USERS[rng.integers(len(cat.RUN_AS_USERS))]
            if interactive and rng.random() < 0.05 else None,
            "run_as_current_user": bool(mode in ("shiny", "rmd-shiny", "api") and rng.random() < 0.04),
            "owner_guid": owners[owner_pick[i]],
            "locked": False, "locked_message": "",
            "variant_key": _key(rng) if mode in cat.RENDERED_MODES and deployed else None,
            "rendering_id": str(int(rng.integers(100, 90000))) if mode in cat.RENDERED_MODES and deployed else None,
        })
    df = pd.DataFrame(rows)
    df.loc[df.sample(frac=0.01, random_state=int(rng.integers(2**31))).index, "locked"] = True
    df.loc[df["locked"], "locked_message"] = "Locked during the migration freeze."
    df["created_time"] = _ts(df["created_time"])
    df["last_deployed_time"] = _ts(df["last_deployed_time"])
    return df


def _title(rng, family, i) -> str | None:
    r = rng.random()
    if r < 0.01:
        return None
    if r < 0.06:
        return cat.SPECIAL_TITLES[i % len(cat.SPECIAL_TITLES)]
    subject = cat.TITLE_SUBJECTS[rng.integers(len(cat.TITLE_SUBJECTS))]
    kinds = cat.TITLE_KINDS[family]
    return f"{subject} {kinds[rng.integers(len(kinds))]}"


def _key(rng) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(letters[j] for j in rng.integers(len(letters), size=8))


def _bundles(rng, content, now_s) -> pd.DataFrame:
    deployed = content[content["app_mode"] != "unknown"]
    counts = np.clip(1 + np.floor(rng.lognormal(0.6, 0.9, size=len(deployed))), 1, 60).astype(int)
    rows = []
    cols = ["guid", "app_mode", "created_time", "last_deployed_time", "r_version", "py_version",
            "quarto_version", "r_environment_management", "py_environment_management"]
    lists = {k: deployed[k].tolist() for k in cols}
    lists["created_time"] = epoch_seconds(deployed["created_time"]).tolist()
    lists["last_deployed_time"] = epoch_seconds(deployed["last_deployed_time"]).tolist()
    recent = now_s - 4 * 365 * DAY_S
    for idx, k in enumerate(counts):
        c = {name: _none(lists[name][idx]) for name in cols}
        created, last = c["created_time"], c["last_deployed_time"]
        times = np.sort(created + (rng.random(k - 1) * max(last - created, 1)).astype(np.int64)).tolist()
        times.append(last)
        heavy = c["app_mode"].startswith(("python", "jupyter", "tensorflow"))
        sizes = np.clip(rng.lognormal(np.log(2.5e6 if heavy else 4e5), 1.6, size=k), 2e3, 3e9).tolist()
        older = (rng.random(k) < 0.3).tolist()
        zero = (rng.random(k) < 0.02).tolist()
        git = (rng.random(k) < 0.1).tolist()
        for j, t in enumerate(times):
            old = older[j] and j < k - 1
            rows.append({
                "content_guid": c["guid"], "created_time": t,
                "size": 0 if zero[j] else int(sizes[j]), "active": j == k - 1,
                "cluster_name": "Local", "image_name": "Local",
                "r_version": _older(c["r_version"], cat.R_VERSIONS) if old else c["r_version"],
                "py_version": _older(c["py_version"], cat.PY_VERSIONS) if old else c["py_version"],
                "quarto_version": c["quarto_version"],
                "r_environment_management": c["r_environment_management"],
                "py_environment_management": c["py_environment_management"],
                "source": "git" if git[j] else None,
                "archive_md5": hashlib.md5(f"{c['guid']}{j}".encode()).hexdigest() if t > recent else None,
            })
    df = pd.DataFrame(rows).sort_values(["created_time", "content_guid"], kind="stable")
    df.insert(0, "id", [str(5000 + i) for i in range(len(df))])  # ids grow with time
    df["created_time"] = _ts(df["created_time"])
    return df.reset_index(drop=True)


def _none(value):
    return None if value is None or (isinstance(value, float) and value != value) else value


def _older(version, pairs):
    if version is None:
        return None
    values = [v for v, _ in pairs]
    return values[max(values.index(version) - 1, 0)]


def _tags(rng, content, now_s):
    rows, leaf_ids, next_id = [], [], 1
    base = now_s - 4 * 365 * DAY_S
    for category, children in cat.TAG_TREE.items():
        cid = str(next_id)
        rows.append({"id": cid, "name": category, "parent_id": None, "created_time": base + next_id * 3600})
        next_id += 1
        for child in children:
            rows.append({"id": str(next_id), "name": child, "parent_id": cid,
                         "created_time": base + next_id * 3600})
            leaf_ids.append(str(next_id))
            next_id += 1
    tags = pd.DataFrame(rows)
    tags["created_time"] = _ts(tags["created_time"])
    tags["updated_time"] = tags["created_time"]
    links = []
    for g in content["guid"]:
        k = rng.choice(4, p=[0.4, 0.35, 0.18, 0.07])
        for t in sorted(rng.choice(len(leaf_ids), size=k, replace=False)):
            links.append({"content_guid": g, "tag_id": leaf_ids[t]})
    return tags, pd.DataFrame(links, columns=["content_guid", "tag_id"])


def _vanities(rng, content) -> pd.DataFrame:
    deployed = content[content["bundle_id"].notna()]
    chosen = deployed[rng.random(len(deployed)) < 0.08]
    return pd.DataFrame({
        "content_guid": chosen["guid"].to_numpy(),
        "path": [f"/{n}/" for n in chosen["name"]],
        "created_time": (chosen["last_deployed_time"] + pd.Timedelta(seconds=5)).to_numpy(),
    })


def _groups(rng, guid, users, n):
    names = ["Data Science", "Finance analysts", "Marketing", "Platform admins", "Clinical",
             "Opérations", "Interns", "Executives"]
    rows, members = [], []
    owners = users[users["user_role"] != "viewer"]["guid"].tolist()
    for i in range(n):
        g = guid()
        name = names[i % len(names)] + ("" if i < len(names) else f" {i // len(names) + 1}")
        rows.append({"guid": g, "name": name,
                     "owner_guid": None if rng.random() < 0.2 else owners[rng.integers(len(owners))]})
        size = int(min(len(users), rng.integers(0, 40)))
        for u in sorted(rng.choice(len(users), size=size, replace=False)):
            members.append({"group_guid": g, "user_guid": users["guid"].iloc[u]})
    return pd.DataFrame(rows), pd.DataFrame(members, columns=["group_guid", "user_guid"])


def _packages(rng, content) -> pd.DataFrame:
    guids, langs, names, versions = [], [], [], []

    def add(g, lang, pkgs):
        for name, version in pkgs:
            guids.append(g)
            langs.append(lang)
            names.append(name)
            versions.append(version)

    for g, mode, r, py in content[["guid", "app_mode", "r_version", "py_version"]].itertuples(index=False):
        if isinstance(r, str):
            common = cat.R_PACKAGES_COMMON
            picks = [common[j] for j in sorted(rng.choice(len(common), size=rng.integers(6, len(common)), replace=False))]
            picks += cat.R_PACKAGES_BY_MODE.get("shiny" if "shiny" in mode else mode, [])
            picks += [(n, v) for n, v, w in cat.R_PACKAGES_SYSREQ if rng.random() < w / 100]
            add(g, "r", sorted(set(picks)))
        if isinstance(py, str):
            common = cat.PY_PACKAGES_COMMON
            picks = [common[j] for j in sorted(rng.choice(len(common), size=rng.integers(4, len(common)), replace=False))]
            picks += cat.PY_PACKAGES_BY_MODE.get(mode, [])
            picks += [(n, v) for n, v, w in cat.PY_PACKAGES_SYSREQ if rng.random() < w / 100]
            add(g, "python", sorted(set(picks)))
    df = pd.DataFrame({"content_guid": guids, "language": langs, "name": names, "version": versions})
    df["hash"] = [hashlib.md5(f"{n}{v}".encode()).hexdigest() if lang == "r" else None
                  for lang, n, v in zip(langs, names, versions, strict=True)]
    return df


def _server_runtimes() -> pd.DataFrame:
    rows = [(lang, v) for lang, vs in (("r", cat.SERVER_R), ("python", cat.SERVER_PY),
                                       ("quarto", cat.SERVER_QUARTO)) for v in vs]
    df = pd.DataFrame(rows, columns=["language", "version"])
    df["cluster_name"] = "Local"
    df["image_name"] = "Local"
    return df


def _caches() -> pd.DataFrame:
    rows = [("R", v) for v in cat.SERVER_R] + [("Python", v) for v in cat.SERVER_PY[1:]]
    df = pd.DataFrame(rows, columns=["language", "version"])
    df["image_name"] = "Local"
    return df


def _environments(guid, now_s):
    specs = [
        ("Standard (R 4.4.1, Python 3.12.4)", "ghcr.io/rstudio/content-base:r4.4.1-py3.12.4-ubuntu2204",
         {"r": ["4.4.1"], "python": ["3.12.4"], "quarto": ["1.5.57"]}),
        ("Legacy (R 4.2.3, Python 3.10.13)", "ghcr.io/rstudio/content-base:r4.2.3-py3.10.13-ubuntu2204",
         {"r": ["4.2.3"], "python": ["3.10.13"], "quarto": []}),
        ("Geospatial R 4.3.2", "registry.example.com/connect/geo:r4.3.2-ubuntu2204",
         {"r": ["4.3.2"], "python": [], "quarto": ["1.4.549"]}),
    ]
    envs, runtimes = [], []
    for i, (title, image, langs) in enumerate(specs):
        g = guid()
        t = now_s - (30 - i) * DAY_S
        envs.append({"id": str(300 + i), "guid": g, "title": title, "description": f"Image for {title}",
                     "name": image, "cluster_name": "Kubernetes", "environment_type": "Kubernetes",
                     "matching": "any", "supervisor": None, "created_time": t, "updated_time": t})
        for lang, versions in langs.items():
            for v in versions:
                path = {"r": f"/opt/R/{v}/bin/R", "python": f"/opt/python/{v}/bin/python3",
                        "quarto": "/opt/quarto/bin/quarto"}[lang]
                runtimes.append({"environment_guid": g, "language": lang, "version": v, "path": path})
    env = pd.DataFrame(envs)
    env["created_time"] = _ts(env["created_time"])
    env["updated_time"] = _ts(env["updated_time"])
    return env, pd.DataFrame(runtimes)
