"""Execution images: which content each image can run, what no image covers, and the smallest
set of images that covers all content, weighted by importance.

Rules (the README repeats them):
- Content needs an image when it is deployed and records at least one of r_version,
  py_version, quarto_version. An image can run it when, for every language the content
  recorded, the image carries a version that matches under the version-matching rule
  (versions.py: major.minor by default). Languages the content did not record are not needed.
- An image's `matching` works as for Connect execution environments: "any" (default) lets
  content be matched to it by version; "exact" runs only content whose image_name names this
  image; "none" runs nothing.
- The smallest set is greedy weighted set cover: repeatedly take the image that covers the
  most not-yet-covered weight, weight = 1 + the content's usage events in the window (ties: more
  content, then image name). Greedy is within a factor ln(n) of the true minimum; on image
  tables of a few dozen entries it is usually the minimum.
"""

from __future__ import annotations

import copy
import functools
import os
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import AnalysisError
from .runtimes import LANGUAGES, VERSION_COLUMN, deployed
from .versions import VERSION_MATCHING, best_match, sort_versions

POSIT = "posit"
SERVER = "server"
MATCHING_VALUES = ("any", "exact", "none")

IMAGE_COLUMNS = ["image", "matching", "r", "python", "quarto", "content_count", "events",
                 "in_minimal_set", "minimal_set_order", "adds_content", "adds_events", "note"]
CONTENT_IMAGE_COLUMNS = ["guid", "title", "app_mode", "r_version", "py_version", "quarto_version",
                         "events", "status", "image_count", "images", "assigned_image"]
WARM_COLUMNS = ["language", "version", "image", "content_count"]


def load_images(images, environments: pd.DataFrame, environment_runtimes: pd.DataFrame
                ) -> tuple[list[dict], str]:
    """The image table to use and a label for its source.

    images: None or "posit" (Posit's public content images shipped in the package), "server"
    (the snapshot's execution environments), or a path to a YAML file (format in the README).
    Each image: {name, matching, r: [..], python: [..], quarto: [..], note, paths}; paths:
    {language: {version: path}} where the file or the server gives them.
    """
    if images is None or images == POSIT:
        return copy.deepcopy(_posit_images()), POSIT
    if images == SERVER:
        return server_images(environments, environment_runtimes), SERVER
    path = Path(os.fspath(images))
    try:
        text = path.read_text()
    except OSError as e:
        raise AnalysisError(f"cannot read the images file {path}: {e.strerror or e}") from None
    return _parse_yaml(text, str(path)), str(path)


@functools.cache
def _posit_images() -> list[dict]:
    text = resources.files("connect_analysis").joinpath("data/images/posit-public.yaml").read_text()
    return _parse_yaml(text, "the built-in Posit image table")


def server_images(environments: pd.DataFrame, environment_runtimes: pd.DataFrame) -> list[dict]:
    """The server's execution environments as images (one per environment)."""
    out = []
    for env in environments.itertuples(index=False):
        rt = environment_runtimes[environment_runtimes["environment_guid"] == env.guid]
        lang = rt["language"].str.lower()
        matching = str(env.matching).lower() if isinstance(env.matching, str) else "any"
        out.append({
            "name": env.name if isinstance(env.name, str) else str(env.guid),
            "matching": matching if matching in MATCHING_VALUES else "any",
            **{lg: sort_versions(rt.loc[lang == lg, "version"].dropna()) for lg in LANGUAGES},
            "note": env.title if isinstance(env.title, str) else "",
            "paths": _server_paths(rt, lang),
        })
    return out


def _server_paths(rt: pd.DataFrame, lang: pd.Series) -> dict:
    """{language: {version: path}} of an environment's installations that give a path."""
    if "path" not in rt.columns:
        return {}
    out: dict = {}
    for lg, version, path in zip(lang, rt["version"], rt["path"], strict=True):
        if lg in LANGUAGES and isinstance(version, str) and isinstance(path, str) and path:
            out.setdefault(lg, {})[version] = path
    return out


def _parse_yaml(text: str, where: str) -> list[dict]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise AnalysisError(f"{where} is not valid YAML: {str(e).splitlines()[0]}") from None
    items = doc.get("images") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise AnalysisError(f"{where}: expected a top-level `images:` list")
    out = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise AnalysisError(f"{where}: image {i} has no `name`")
        matching = str(item.get("matching", "any")).lower()
        if matching not in MATCHING_VALUES:
            raise AnalysisError(f"{where}: image {item['name']}: matching must be any, exact or none")
        image = {"name": item["name"], "matching": matching, "note": str(item.get("note") or "")}
        for lang in LANGUAGES:
            versions = item.get(lang) or []
            if isinstance(versions, str | int | float):
                versions = [versions]
            if not isinstance(versions, list):
                raise AnalysisError(f"{where}: image {item['name']}: `{lang}` must be a list of versions")
            image[lang] = sort_versions(str(v) for v in versions)
        image["paths"] = _parse_paths(item.get("paths"), image, f"{where}: image {item['name']}")
        out.append(image)
    return out


def _parse_paths(paths, image: dict, where: str) -> dict:
    """The optional `paths:` block: {language: {version: executable path}}, only for versions
    the image lists. Missing paths follow Posit's layout (plan/environments.py)."""
    if paths is None:
        return {}
    if not isinstance(paths, dict) or not set(paths) <= set(LANGUAGES):
        raise AnalysisError(f"{where}: `paths` must map r, python or quarto to {{version: path}}")
    out = {}
    for lang, by_version in paths.items():
        if not isinstance(by_version, dict) or not all(isinstance(v, str) and v.startswith("/")
                                                       for v in by_version.values()):
            raise AnalysisError(f"{where}: `paths.{lang}` must map versions to absolute paths")
        unknown = sorted(set(map(str, by_version)) - set(image[lang]))
        if unknown:
            raise AnalysisError(f"{where}: `paths.{lang}` names versions the image does not list: "
                                f"{', '.join(unknown)}")
        out[lang] = {str(v): path for v, path in by_version.items()}
    return out


def image_coverage(content: pd.DataFrame, events: pd.Series, images: list[dict],
                   rule: str = VERSION_MATCHING) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per image: IMAGE_COLUMNS, per content item: CONTENT_IMAGE_COLUMNS).

    content status: "never deployed", "no runtime" (deployed, records no version), "covered"
    or "not covered". assigned_image: the first image of the minimal set that runs it.
    """
    needs = _requirements(content)
    can_run = _can_run(content, needs, images, rule)  # content position -> [image index]
    weight = events.astype("int64").to_numpy() + 1
    n = len(content)
    runs = np.zeros((n, len(images)), dtype=bool)  # runs[i, k]: image k can run content i
    for i, imgs in can_run.items():
        runs[i, imgs] = True
    uncovered = runs.any(axis=1)
    order, adds = [], {}
    while uncovered.any():
        open_runs = runs & uncovered[:, None]
        gain_weight = weight @ open_runs
        gain_count = open_runs.sum(axis=0)
        best = min(range(len(images)), key=lambda k: (-int(gain_weight[k]), -int(gain_count[k]), images[k]["name"]))
        order.append(best)
        adds[best] = np.flatnonzero(open_runs[:, best])
        uncovered[adds[best]] = False

    assigned = {}
    for k in order:
        for i in adds[k]:
            assigned[int(i)] = images[k]["name"]
    covers = {k: np.flatnonzero(runs[:, k]) for k in range(len(images))}

    ev = events.astype("int64").to_numpy()
    image_rows = []
    for k, img in enumerate(images):
        ran = covers[k]
        image_rows.append({
            "image": img["name"], "matching": img["matching"],
            **{lg: ";".join(img[lg]) for lg in LANGUAGES},
            "content_count": len(ran), "events": int(ev[ran].sum()),
            "in_minimal_set": k in adds, "minimal_set_order": (order.index(k) + 1) if k in adds else None,
            "adds_content": len(adds.get(k, ())), "adds_events": int(ev[adds[k]].sum()) if k in adds else 0,
            "note": img.get("note", ""),
        })
    per_image = pd.DataFrame(image_rows, columns=IMAGE_COLUMNS).astype(
        {"minimal_set_order": "Int64", "content_count": "int64", "events": "int64",
         "adds_content": "int64", "adds_events": "int64", "in_minimal_set": "bool"})
    per_image = per_image.sort_values(["minimal_set_order", "image"], na_position="last",
                                      kind="stable").reset_index(drop=True)

    is_deployed = deployed(content).to_numpy()
    rows = []
    for i in range(len(content)):
        imgs = can_run.get(i, [])
        if not is_deployed[i]:
            status = "never deployed"
        elif not needs[i]:
            status = "no runtime"
        else:
            status = "covered" if imgs else "not covered"
        rows.append({"status": status, "image_count": len(imgs),
                     "images": ";".join(images[k]["name"] for k in imgs),
                     "assigned_image": assigned.get(i)})
    per_content = pd.concat([
        content[["guid", "title", "app_mode", "r_version", "py_version", "quarto_version"]].reset_index(drop=True),
        pd.DataFrame({"events": events.astype("int64").to_numpy()}),
        pd.DataFrame(rows, columns=["status", "image_count", "images", "assigned_image"]),
    ], axis=1)
    return per_image, per_content[CONTENT_IMAGE_COLUMNS]


def _requirements(content: pd.DataFrame) -> list[dict]:
    """Per content position: {language: version} it needs an image to carry (empty: none)."""
    is_deployed = deployed(content).to_numpy()
    cols = {lg: content[VERSION_COLUMN[lg]].to_numpy(dtype=object, na_value=None) for lg in LANGUAGES}
    out = []
    for i in range(len(content)):
        out.append({lg: cols[lg][i] for lg in LANGUAGES if is_deployed[i] and cols[lg][i]}
                   if is_deployed[i] else {})
    return out


def _can_run(content: pd.DataFrame, needs: list[dict], images: list[dict], rule: str) -> dict[int, list[int]]:
    """content position -> indexes of the images that can run it (only content with needs)."""
    image_names = content["image_name"].to_numpy(dtype=object, na_value=None)
    # Few distinct requirement combinations exist; decide each once.
    memo: dict[tuple, list[int]] = {}
    out = {}
    for i, need in enumerate(needs):
        if not need:
            continue
        key = tuple(sorted(need.items()))
        if key not in memo:
            memo[key] = [k for k, img in enumerate(images)
                         if img["matching"] != "none" and _versions_ok(need, img, rule)]
        out[i] = [k for k in memo[key]
                  if images[k]["matching"] == "any" or image_names[i] == images[k]["name"]]
    return out


def _versions_ok(need: dict, image: dict, rule: str) -> bool:
    return all(best_match(v, image[lg], rule) is not None for lg, v in need.items())


def uncovered_versions(per_content: pd.DataFrame) -> list[dict]:
    """Distinct (r, python, quarto) combinations no image covers, with content counts, most first."""
    miss = per_content[per_content["status"] == "not covered"]
    if miss.empty:
        return []
    keys = miss[["r_version", "py_version", "quarto_version"]].astype(object).where(
        miss[["r_version", "py_version", "quarto_version"]].notna(), None)
    groups = {}
    for r, py, q in keys.itertuples(index=False):
        groups[(r, py, q)] = groups.get((r, py, q), 0) + 1
    rows = [{"r": r, "python": py, "quarto": q, "content_count": n} for (r, py, q), n in groups.items()]
    return sorted(rows, key=lambda d: (-d["content_count"], str(d["r"]), str(d["python"]), str(d["quarto"])))


def warm_list(important: pd.DataFrame, content: pd.DataFrame, per_content: pd.DataFrame,
              images: list[dict], rule: str = VERSION_MATCHING) -> pd.DataFrame:
    """(language, version, image) the important content needs warm in the runtime cache.

    version is the image's version that runs the content; content_count counts important
    content needing it. Important content no image covers is left out (see image coverage).
    """
    by_name = {img["name"]: img for img in images}
    assigned = dict(zip(per_content["guid"], per_content["assigned_image"], strict=True))
    versions = content.set_index("guid")[[VERSION_COLUMN[lg] for lg in LANGUAGES]]
    counts: dict[tuple, int] = {}
    for guid in important["guid"]:
        image = assigned.get(guid)
        if not isinstance(image, str) or guid not in versions.index:
            continue
        row = versions.loc[guid]
        for lg in LANGUAGES:
            v = row[VERSION_COLUMN[lg]]
            if isinstance(v, str) and v:
                key = (lg, best_match(v, by_name[image][lg], rule), image)
                counts[key] = counts.get(key, 0) + 1
    rows = [{"language": lg, "version": v, "image": img, "content_count": n} for (lg, v, img), n in counts.items()]
    out = pd.DataFrame(rows, columns=WARM_COLUMNS)
    return out.sort_values(["image", "language", "version"], kind="stable").reset_index(drop=True).astype(
        {"content_count": "int64"})
