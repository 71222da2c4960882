"""Readiness: per content item, will it run on the new cluster, and if not, why and what to do.

CODES is the one definition of every reason code (severity, rule, remediation); the verdict
of an item is the worst severity among its codes (blocked > unknown > conditional > ready;
info codes never change it), and an item with no code is ready. An item never deployed has
only the code never-deployed and the verdict nothing-to-move. Waves (the rebuild order) are
in waves.py; docs/reference/readiness-codes.qmd is generated from CODES (codes_markdown).

    python -m connect_analysis.analysis.readiness_page   # prints the reference page
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .downtime import REBUILD_MINUTES
from .runtimes import LABEL, LANGUAGES, VERSION_COLUMN, deployed
from .versions import parse_version, sort_versions

BLOCKED, UNKNOWN, CONDITIONAL, INFO = "blocked", "unknown", "conditional", "info"
READY, NOTHING_TO_MOVE = "ready", "nothing-to-move"
VERDICTS = (BLOCKED, UNKNOWN, CONDITIONAL, READY, NOTHING_TO_MOVE)  # worst first
RANK = {BLOCKED: 3, UNKNOWN: 2, CONDITIONAL: 1, INFO: 0}

NAMESERVICE_VERSION = "2026.01.0"  # RunAsCurrentUser off-host needs the chart's nameservice
DEFAULT_RUN_AS = "rstudio-connect"  # Connect's Applications.RunAs default
NO_RUNTIME_MODES = frozenset({"static", "tensorflow-saved-model"})  # need no R, Python or Quarto
R_MODES = frozenset({"shiny", "rmd-shiny", "rmd-static", "api"})
PYTHON_MODES = frozenset({"jupyter-static", "jupyter-voila"})  # and every python-* mode

# readiness.csv's columns, in order, and what each holds (the docs page is generated from this).
COLUMNS = {
    "guid": "the content item's GUID",
    "title": "its title",
    "app_mode": "its app mode",
    "owner": "its owner's username",
    "verdict": "`ready`, `conditional`, `blocked`, `unknown` or `nothing-to-move`",
    "reasons": "its reason codes, `;`-joined and sorted (empty: none)",
    "important": "on the important-content list (`true`/`false`)",
    "image": "the image of the recommended set it is assigned to; empty when blocked by `no-image` "
             "or needing no runtime (provisional for `unknown-runtime`)",
    "wave": "its rebuild wave (1, 2, ...); empty for blocked and never-deployed items",
    "remediation": "one sentence per code: what to do",
    "wave_kind": "`canary`, `important` or `rest`",
    "rebuild_order": "its position in the whole rebuild order (empty: in no wave)",
    "rebuild_minutes": "minutes to rebuild it (empty when never deployed)",
    "rebuild_source": "where rebuild_minutes comes from: `measured (item)`, `measured (runtime median)` "
                      "or `assumed`",
    "runtime": "the heaviest runtime it records (`r`, `python`, `quarto`, `none`), for the medians",
    "r_version": "the R version it records",
    "py_version": "the Python version it records",
    "quarto_version": "the Quarto version it records",
    "events": "its visits and Shiny sessions in the usage window",
}
READINESS_COLUMNS = ["guid", "title", "app_mode", "owner", "verdict", "reasons", "important", "image",
                     "wave", "remediation", "r_version", "py_version", "quarto_version", "events"]
# summary.json: the keys the readiness adds (readiness.*, and downtime.*).
SUMMARY_KEYS = {
    "readiness.target_version": "the Connect version the verdicts assume for the new cluster",
    "readiness.counts": "items per verdict, every verdict listed",
    "readiness.recommended_images": "the recommended image set (the minimal set), in order",
    "readiness.waves": "per wave: `wave`, `kind`, `items`, `important_items`, `images`, "
                       "`measured_items`, `runtime_median_items`, `assumed_items`, `rebuild_minutes` "
                       "(the wave's time on `parallel_builds` builders), `starts_after_minutes`, "
                       "`ends_after_minutes` (after the move starts, the bundle copy first), `guids`",
    "readiness.not_in_a_wave": "the blocked items (in no wave), with `guid`, `title`, `verdict`, "
                               "`reasons`, `important`, `remediation`",
    "readiness.rebuild": "`parallel_builds`, `jobs_recorded` (false: the server gave no jobs), "
                         "`per_item_minutes_by_runtime` (per runtime `minutes`, `source`, "
                         "`measured_items`), `note`",
    "readiness.latest_builds": "for how many items `already-failing` was checked: `mode` (the fetch's "
                               "`--jobs`), `checked_items`, `deployed_items`, `failing_items`, `text`; "
                               "a sampled fetch checks some items (`fetch --jobs all`: every one)",
    "readiness.back_after": "`important_back_after_hours`, `everything_back_after_hours`, "
                            "`blocked_items`, `blocked_important_items`, `text`",
    "readiness.rows": "the rows of readiness.csv",
    "downtime.important_back_after_hours": "hours after the move starts until the last important "
                                           "item is rebuilt (null: none to rebuild)",
    "downtime.everything_back_after_hours": "hours until every item in a wave is rebuilt",
    "downtime.answer": "the same in words: \"important content back after X hours, everything after Y\"",
}


@dataclass(frozen=True)
class Code:
    """A reason code: name, severity, the rule that sets it, and what to do (a template)."""

    name: str
    severity: str
    rule: str
    remediation: str
    conditional_from: str | None = None  # target version from which the severity is conditional

    def severity_for(self, target_version: str | None) -> str:
        if self.conditional_from and at_least(target_version, self.conditional_from):
            return CONDITIONAL
        return self.severity


CODES: dict[str, Code] = {c.name: c for c in (
    Code("never-deployed", NOTHING_TO_MOVE,
         "The item has no bundle (never deployed); no other code applies.",
         "Nothing to move: it has no bundle to rebuild; delete it or deploy it after the move."),
    Code("no-image", BLOCKED,
         "The item records an R, Python or Quarto version and no single image of the image table "
         "serves all of them under the version-matching rule.",
         "Build a custom image with {needs}, or upgrade the content to {available} and redeploy it."),
    Code("run-as-current-user", BLOCKED,
         "run_as_current_user is true; off-host this needs the chart's nameservice (Connect >= "
         f"{NAMESERVICE_VERSION}) and an SSO provider (OAuth2, SAML or LDAP; not PAM).",
         "Move to Connect >= {nameservice} with the chart's nameservice and an SSO provider, "
         "or turn off running as the viewing user.", conditional_from=NAMESERVICE_VERSION),
    Code("custom-run-as", CONDITIONAL,
         f"run_as is set and is not the server's default run-as user ({DEFAULT_RUN_AS} unless "
         "the server says otherwise).",
         "Create the user {run_as} in the image with the UID and GID it has on the old host and "
         "match file ownership on shared storage, or clear run_as."),
    Code("host-packages", CONDITIONAL,
         "r_environment_management or py_environment_management is false (the item's own value, "
         "else the server default) for a language the item uses: its packages come from the old "
         "host, /v1/packages leaves them out and an image will not have them.",
         "Turn on {languages} environment management for the item and redeploy it, or install its "
         "{languages} packages in the image."),
    Code("unknown-runtime", UNKNOWN,
         "Deployed, of an app mode that needs a runtime (every mode but "
         f"{' and '.join(sorted(NO_RUNTIME_MODES))}), but no R, Python or Quarto version could be "
         "read (a viewer key, nulls); the image shown is provisional.",
         "Read the item's runtime versions with an administrator key and run the analysis again."),
    Code("already-failing", INFO,
         "The item's latest build or restore job on the old server failed (non-zero exit code or "
         "an error). Only the items whose jobs the fetch read are checked: by default a sample (the "
         "most recently deployed items of each runtime, or every item on a small server); "
         "`readiness.latest_builds` says how many, and `fetch --jobs all` checks every item.",
         "Its latest build already failed on the old server ({when}): fix it there first, so a "
         "failure after the move is not blamed on the move."),
)}


@dataclass(frozen=True)
class ReadinessOptions:
    """What the verdicts depend on besides the snapshot."""

    target_version: str | None = None  # the new cluster's Connect version; None: unknown (older)
    default_run_as: str = DEFAULT_RUN_AS
    r_environment_management: bool = True  # the server defaults for items that set none
    py_environment_management: bool = True


def at_least(version: str | None, minimum: str) -> bool:
    """True when version >= minimum, compared as versions; False when version is unknown."""
    a, b = parse_version(version), parse_version(minimum)
    if a is None or b is None:
        return False
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) >= b + (0,) * (width - len(b))


def options_from_settings(server_settings: dict, target_version: str | None) -> ReadinessOptions:
    """ReadinessOptions with the server's environment-management defaults when it says them."""
    s = server_settings or {}

    def flag(key: str) -> bool:
        v = s.get(key)
        if v is None or isinstance(v, bool):
            return v is not False
        return str(v).strip().lower() not in ("false", "0")

    return ReadinessOptions(target_version=target_version,
                            r_environment_management=flag("default_r_environment_management"),
                            py_environment_management=flag("default_py_environment_management"))


def readiness(content: pd.DataFrame, content_images: pd.DataFrame, minimal_set: list[str],
              images: list[dict], important_guids, failing: dict[str, str] | None = None,
              options: ReadinessOptions | None = None) -> pd.DataFrame:
    """One row per content item (content order), columns READINESS_COLUMNS; wave is left empty
    (waves.py fills it). content_images: images.image_coverage's per-content table;
    minimal_set: the recommended image names in order; failing: {guid: when} of items whose
    latest build failed (jobs.py)."""
    options = options or ReadinessOptions()
    failing = failing or {}
    important = set(important_guids)
    per = {r["guid"]: r for r in content_images[["guid", "status", "assigned_image", "events"]].to_dict("records")}
    rows = []
    is_deployed = deployed(content).to_numpy()
    for i, c in enumerate(content.to_dict("records")):
        ci = per.get(c["guid"])
        found = _codes(c, bool(is_deployed[i]), ci, failing, options)
        image = _image(found, ci, minimal_set)
        rows.append({
            "guid": c["guid"], "title": c.get("title"), "app_mode": c.get("app_mode"),
            "owner": c.get("owner_username"), "verdict": verdict(found, options.target_version),
            "reasons": ";".join(sorted(found)), "important": c["guid"] in important, "image": image,
            "wave": None, "remediation": " ".join(remediation(code, detail, images, options)
                                                  for code, detail in sorted(found.items())),
            "r_version": c.get("r_version"), "py_version": c.get("py_version"),
            "quarto_version": c.get("quarto_version"),
            "events": int(ci["events"]) if ci is not None else 0,
        })
    out = pd.DataFrame(rows, columns=READINESS_COLUMNS)
    text = ["guid", "title", "app_mode", "owner", "verdict", "reasons", "image", "remediation",
            "r_version", "py_version", "quarto_version"]
    return out.astype({c: "string" for c in text} | {"important": "bool", "wave": "Int64", "events": "int64"})


def verdict(codes, target_version: str | None = None) -> str:
    """The worst severity among codes (names); ready when none, nothing-to-move for never-deployed."""
    if "never-deployed" in codes:
        return NOTHING_TO_MOVE
    worst = max((CODES[c].severity_for(target_version) for c in codes), key=RANK.get, default=INFO)
    return READY if worst == INFO else worst


def _codes(c: dict, is_deployed: bool, ci, failing: dict, options: ReadinessOptions) -> dict[str, dict]:
    """{code: details for its remediation} of one content record."""
    if not is_deployed:
        return {"never-deployed": {}}
    found: dict[str, dict] = {}
    recorded = {lg: c.get(VERSION_COLUMN[lg]) for lg in LANGUAGES if _text(c.get(VERSION_COLUMN[lg]))}
    if ci is not None and ci["status"] == "not covered":
        found["no-image"] = {"needs": recorded}
    mode = c.get("app_mode") if _text(c.get("app_mode")) else "unknown"
    if not recorded and mode not in NO_RUNTIME_MODES:
        found["unknown-runtime"] = {}
    current = c.get("run_as_current_user")
    if current is not None and current is not pd.NA and bool(current):
        found["run-as-current-user"] = {}
    run_as = c.get("run_as")
    if _text(run_as) and run_as.strip() != options.default_run_as:
        found["custom-run-as"] = {"run_as": run_as.strip()}
    host = [lg for lg in ("r", "python") if _uses(c, lg, mode) and not _managed(c, lg, options)]
    if host:
        found["host-packages"] = {"languages": host}
    if c["guid"] in failing:
        found["already-failing"] = {"when": failing[c["guid"]]}
    return found


def _uses(c: dict, language: str, mode: str) -> bool:
    if _text(c.get(VERSION_COLUMN[language])):
        return True
    return mode in R_MODES if language == "r" else (mode in PYTHON_MODES or mode.startswith("python-"))


def _managed(c: dict, language: str, options: ReadinessOptions) -> bool:
    key = "r_environment_management" if language == "r" else "py_environment_management"
    value = c.get(key)
    return getattr(options, key) if value is None or value is pd.NA else bool(value)


def _image(found: dict, ci, minimal_set: list[str]) -> str | None:
    """The assigned image; for an unknown runtime, provisionally the first recommended image."""
    if "never-deployed" in found or "no-image" in found:
        return None
    if ci is not None and isinstance(ci["assigned_image"], str):
        return ci["assigned_image"]
    if "unknown-runtime" in found and minimal_set:
        return minimal_set[0]
    return None


def remediation(code: str, detail: dict, images: list[dict], options: ReadinessOptions) -> str:
    """One plain sentence: what to do about code for one item."""
    template = CODES[code].remediation
    if code == "no-image":
        needs = " and ".join(f"{LABEL[lg]} {v}" for lg, v in detail["needs"].items())
        return template.format(needs=needs, available=_available(detail["needs"], images))
    if code == "run-as-current-user":
        if CODES[code].severity_for(options.target_version) == CONDITIONAL:
            return ("Configure the chart's nameservice and an SSO provider (OAuth2, SAML or LDAP; "
                    "not PAM) before rebuilding it.")
        return template.format(nameservice=NAMESERVICE_VERSION)
    if code == "host-packages":
        return template.format(languages=" and ".join(LABEL[lg] for lg in detail["languages"]))
    return template.format(**detail)


def _available(needs: dict, images: list[dict]) -> str:
    """ "R >= 4.3 and Python >= 3.11": the oldest major.minor any image carries, per language."""
    parts = []
    for lg in needs:
        versions = sort_versions(v for img in images if img.get("matching") != "none" for v in img.get(lg, []))
        if versions:
            oldest = parse_version(versions[0]) or (0,)
            parts.append(f"{LABEL[lg]} >= {'.'.join(str(p) for p in oldest[:2])}")
        else:
            parts.append(f"no {LABEL[lg]} (no image carries it)")
    return " and ".join(parts) or "versions an image carries"


def _text(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def counts(table: pd.DataFrame) -> dict[str, int]:
    """{verdict: items} for every verdict (zeros included), worst first."""
    found = table["verdict"].value_counts()
    return {v: int(found.get(v, 0)) for v in VERDICTS}


def codes_markdown() -> str:
    """The reference page of the reason codes (docs/reference/readiness-codes.qmd), from CODES."""
    lines = [
        "---", 'title: "Readiness codes"', "---", "",
        "<!-- Generated by `python -m connect_analysis.analysis.readiness_page`; do not edit. -->",
        "",
        "`analyze` gives every content item a verdict (`readiness.csv`, `summary.json` key "
        "`readiness`). The verdict is the worst severity among the item's reason codes: "
        "`blocked` > `unknown` > `conditional` > `ready`; `info` codes never change it, and an "
        "item with no code is `ready`. An item never deployed has only `never-deployed` and the "
        "verdict `nothing-to-move`.", "",
        "| code | severity | rule | remediation |", "|---|---|---|---|",
    ]
    for c in sorted(CODES.values(), key=lambda c: c.name):
        severity = c.severity + (f" (conditional when `--target-version` >= {c.conditional_from})"
                                 if c.conditional_from else "")
        lines.append(f"| `{c.name}` | {severity} | {_cell(c.rule)} | {_cell(c.remediation)} |")
    lines += ["", "Placeholders in braces are filled per item (versions, user, languages, dates).", "",
              "## Rebuild waves", "", _waves_rules(), "", "## `readiness.csv`", "",
              "One row per content item, in rebuild order (items in no wave last).", "",
              "| column | what |", "|---|---|"]
    lines += [f"| `{name}` | {_cell(text)} |" for name, text in COLUMNS.items()]
    lines += ["", "## `summary.json`", "", "| key | what |", "|---|---|"]
    lines += [f"| `{name}` | {_cell(text)} |" for name, text in SUMMARY_KEYS.items()]
    return "\n".join(lines) + "\n"


def _waves_rules() -> str:
    """The rules in waves.py's docstring, as a list."""
    from . import waves

    doc = waves.__doc__.split("Rules (", 1)[1].split("\n", 1)[1]
    assumed = ", ".join(f"{k} {v:g}" for k, v in REBUILD_MINUTES.items())
    doc = doc.replace("CANARIES_PER_IMAGE", str(waves.CANARIES_PER_IMAGE)).replace(
        "REBUILD_MINUTES (downtime.py)", f"minutes per item by runtime ({assumed})")
    return "\n".join(line.strip() if line.startswith("- ") else "  " + line.strip()
                     for line in doc.strip().splitlines())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")

