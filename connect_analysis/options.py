"""AnalysisOptions: the one definition of the analysis options.

The CLI options of `analyze` and `report` (cli.py, through `click_options`), build_report's
arguments, the notebooks' parameters (tests/test_notebooks.py checks each parameters cell
against `notebook_defaults`) and the docs' reference all come from the fields below. To add
an option, add a field with its `option(...)` metadata and pass it on in `analyze_kwargs`.

JOBS_*: the fetch's one option the commands that fetch share (fetch, demo, run: cli._jobs_option).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import ConfigError

NAMED_IMAGES = ("posit", "server")  # Posit's public images; the server's own environments

# The fetch's --jobs (fetch, demo and run take it from here): whose build and restore jobs it reads.
JOBS_MODES = ("sample", "all")
JOBS_DEFAULT = "sample"
JOBS_PER_RUNTIME = 10  # a sample: the most recently deployed items of each runtime (for its median)
JOBS_ALL_UP_TO = 500  # a sample of a server with this many deployed items or fewer is every item
JOBS_HELP = (f"Whose build jobs to read (one request per item): sample (the {JOBS_PER_RUNTIME} most recently "
             f"deployed items of each runtime; every item when {JOBS_ALL_UP_TO} or fewer are deployed) or all.")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def option(flag: str, help: str, *, metavar: str | None = None, minimum: int | None = None,
           repeatable: bool = False, notebooks: bool = True) -> dict:
    """A field's metadata: its CLI flag, help text, the range or repetition it allows, and
    whether the notebooks declare it as a parameter."""
    return {"flag": flag, "help": help, "metavar": metavar, "minimum": minimum,
            "repeatable": repeatable, "notebooks": notebooks}


@dataclass(frozen=True)
class AnalysisOptions:
    """What the analysis is asked, checked when made (ConfigError naming the bad field)."""

    top_n: int = field(default=20, metadata=option(
        "--top", "How many of the most used content items count as important.", minimum=0))
    images: str = field(default="posit", metadata=option(
        "--images", "Execution images: a YAML file, the server's own environments (server), "
        "or Posit's public images (posit).", metavar="FILE|server|posit"))
    must_keep: tuple[str, ...] = field(default=(), metadata=option(
        "--must-keep", "Content GUID that is important whatever its usage (repeatable).",
        metavar="GUID", repeatable=True))
    must_keep_tags: tuple[str, ...] = field(default=(), metadata=option(
        "--must-keep-tag", "Tag name (or id) whose content is important whatever its usage "
        "(repeatable).", metavar="TAG", repeatable=True))
    current_use_bytes: int | None = field(default=None, metadata=option(
        "--current-use-bytes", "Measured bytes in use (e.g. `du -sb` of the data directory); "
        "default: the bundle bytes.", metavar="BYTES", minimum=1))
    target_version: str | None = field(default=None, metadata=option(
        "--target-version", "Connect version of the new cluster (default: the old server's "
        "version).", metavar="YYYY.MM.PATCH", notebooks=False))

    def __post_init__(self):
        for f in fields(self):
            if f.metadata["repeatable"]:
                object.__setattr__(self, f.name, _strings(f.name, getattr(self, f.name)))
        _whole(self.top_n, "top_n", fields_by_name()["top_n"].metadata["minimum"])
        if self.current_use_bytes is not None:
            _whole(self.current_use_bytes, "current_use_bytes", 1, unit="bytes")
        bad = [g for g in self.must_keep if not _GUID.match(g)]
        if bad:
            raise ConfigError(f"must_keep: not a content GUID: {bad[0]!r}")
        if self.target_version is not None and not isinstance(self.target_version, str):
            raise ConfigError(f"target_version must be a version such as 2025.09.0, not "
                              f"{self.target_version!r}")
        if not isinstance(self.images, str) or not self.images:
            raise ConfigError("images must be posit, server or a YAML file")
        if self.images not in NAMED_IMAGES:
            path = Path(self.images).expanduser()
            if not path.is_file():
                raise ConfigError(f"images: no such file: {self.images}")
            object.__setattr__(self, "images", str(path.resolve()))

    @classmethod
    def from_parameters(cls, **values) -> AnalysisOptions:
        """From notebook parameters, where 0 bytes means "not measured" (papermill literals)."""
        if values.get("current_use_bytes") == 0 and not isinstance(values["current_use_bytes"], bool):
            values["current_use_bytes"] = None
        return cls(**{k: v for k, v in values.items() if k in fields_by_name()})

    def analyze_kwargs(self) -> dict:
        """The keyword arguments of connect_analysis.analysis.analyze."""
        return {"images": self.images, "must_keep_guids": self.must_keep,
                "must_keep_tags": self.must_keep_tags, "top_n": self.top_n,
                "current_use_bytes": self.current_use_bytes, "target_version": self.target_version}

    def notebook_parameters(self) -> dict:
        """The values papermill injects into every notebook's parameters cell (the fields the
        notebooks declare; target_version goes to summary.json's verdicts only)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.metadata["notebooks"]}
        values["must_keep"], values["must_keep_tags"] = list(self.must_keep), list(self.must_keep_tags)
        values["current_use_bytes"] = self.current_use_bytes or 0
        return values


def fields_by_name() -> dict:
    return {f.name: f for f in fields(AnalysisOptions)}


def notebook_defaults() -> dict[str, tuple[str, object]]:
    """{name: (type, default)} each notebook's parameters cell declares for these options."""
    types = {"top_n": "int", "images": "str", "must_keep": "list[str]",
             "must_keep_tags": "list[str]", "current_use_bytes": "int"}
    return {name: (types[name], value)
            for name, value in AnalysisOptions().notebook_parameters().items()}


def _strings(name: str, values) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, list | tuple) or not all(
            isinstance(v, str) and v for v in values):
        raise ConfigError(f"{name} must be a list of non-empty strings")
    return tuple(values)


def _whole(value, name: str, minimum: int, unit: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = f" of {unit}" if unit else ""
        raise ConfigError(f"{name} must be a whole number{what} >= {minimum}, not {value!r}")
