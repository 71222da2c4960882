"""The verdicts the report opens with: one sentence each, with a status word and a colour.

    verdicts(summary) -> [Verdict(topic, status, sentence_html)]
    verdicts_html(summary) -> the list as HTML (status words shown, never colour alone)

Every figure in a sentence is written by fig(), which marks it with the summary.json key
it came from (data-key) and its exact value (data-value): a test reads both files and
checks that each figure on the page is the one in summary.json. All text is escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass

from ..analysis.jobs import sampled
from ..tables import day, human_bytes, limit, number

# status -> the word shown before the sentence
STATUS_WORDS = {"ok": "OK", "todo": "To do", "warn": "Warning", "bad": "Blocked",
                "unknown": "Unknown"}
EXPIRY_WARNING_DAYS = 90


@dataclass(frozen=True)
class Verdict:
    topic: str
    status: str  # a key of STATUS_WORDS
    sentence: str  # HTML, escaped, figures marked by fig()
    word: str = ""  # the status word; STATUS_WORDS[status] when empty

    @property
    def status_word(self) -> str:
        return self.word or STATUS_WORDS[self.status]


def key_path(key: str | tuple) -> list:
    """A key as its list of parts: "license.user_limit" or ("system_requirements", "ubuntu-22.04")."""
    return list(key) if isinstance(key, tuple | list) else key.split(".")


def lookup(summary: dict, key: str | tuple):
    """The value at a key ("license.user_limit", "important_content.0.title", or a tuple)."""
    value = summary
    for part in key_path(key):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def fig(summary: dict, key: str | tuple, show: Callable = number) -> str:
    """A figure from summary.json as HTML, marked with its key (a JSON list of the parts)
    and its exact value (JSON)."""
    value = lookup(summary, key)
    return (f'<span class="ca-fig" data-key="{html.escape(json.dumps(key_path(key)))}" '
            f'data-value="{html.escape(json.dumps(value))}">{html.escape(show(value))}</span>')


def _e(text) -> str:
    return html.escape(str(text))


def licence_verdict(s: dict) -> Verdict:
    lic = s.get("license")
    if not lic:
        return Verdict("Licence", "unknown", "The server sent no licence block: check the "
                       "licence for the new cluster by hand.")
    problems, status, word = [], "ok", "OK"
    days_left, users, cap = lic.get("days_left"), lic.get("licensed_users"), lic.get("user_limit")
    if days_left is not None and days_left < 0:
        status, word = "bad", "Expired"
        problems.append(f"expired on {fig(s, 'license.expiration', day)} "
                        f"({fig(s, 'license.days_left', lambda d: number(-d))} days ago)")
    elif days_left is not None and days_left <= EXPIRY_WARNING_DAYS:
        status, word = "warn", "Expiring"
        problems.append(f"expires within {EXPIRY_WARNING_DAYS} days, on "
                        f"{fig(s, 'license.expiration', day)} "
                        f"({fig(s, 'license.days_left')} days left)")
    if cap and users is not None and users > cap:
        if status != "bad":
            status, word = "bad", "Over the limit"
        problems.append(f"{fig(s, 'license.licensed_users')} users hold a seat, over the "
                        f"user limit of {fig(s, 'license.user_limit', limit)}")
    seats = (f"{fig(s, 'license.licensed_users')} licensed users against a user limit of "
             f"{fig(s, 'license.user_limit', limit)} (Shiny users: "
             f"{fig(s, 'license.shiny_user_limit', limit)})")
    if problems:
        return Verdict("Licence", status, "The licence " + "; and ".join(problems) + ".", word)
    until = (f", valid until {fig(s, 'license.expiration', day)} "
             f"({fig(s, 'license.days_left')} days left)" if lic.get("expiration") else "")
    return Verdict("Licence", "ok", f"The licence is {_e(lic.get('status') or 'present')}{until}; "
                   f"{seats}.")


def coverage_verdict(s: dict) -> Verdict:
    images = s.get("images") or {}
    if not images.get("image_count"):
        return Verdict("Images", "unknown", "No execution images were given, so no runtime "
                       "coverage could be worked out (--images).")
    missing = images.get("content_not_covered") or 0
    chosen = fig(s, "images.minimal_set", lambda v: number(len(v)))
    if not missing:
        return Verdict("Images", "ok", f"Every deployed item that records a runtime runs on the "
                       f"{chosen} images of the smallest set.")
    combos = images.get("not_covered_versions") or []
    named = ", ".join(_combo(c) + f" ({number(c.get('content_count', 0))})" for c in combos[:6])
    more = f", and {number(len(combos) - 6)} more combinations" if len(combos) > 6 else ""
    return Verdict("Images", "bad", f"{fig(s, 'images.content_not_covered')} deployed items use "
                   f"runtimes no image covers: {named}{more}. The other "
                   f"{fig(s, 'images.content_covered')} run on the {chosen} images of the "
                   "smallest set.", "Not covered")


def storage_verdict(s: dict) -> Verdict:
    st = s.get("storage") or {}
    if "recommended_bytes" not in st:
        return Verdict("Storage", "unknown", "Bundle storage could not be read.")
    source = "measured" if st.get("current_use_source") == "measured" else "bundles"
    return Verdict("Storage", "todo", f"Provision {fig(s, 'storage.recommended_bytes', human_bytes)} "
                   "of shared storage: at least 100 GB, and twice the "
                   f"{fig(s, 'storage.current_use_bytes', human_bytes)} in use now "
                   f"({'measured' if source == 'measured' else 'bundle bytes'}).", "Provision")


def os_packages_verdict(s: dict) -> Verdict:
    reqs = s.get("system_requirements") or {}
    gaps = s.get("package_gaps") or {}
    if gaps.get("packages_unavailable"):
        return Verdict("OS packages", "unknown", "The server gave no package data "
                       f"({_e(gaps['packages_unavailable'])}): the OS packages the images need "
                       "are unknown.")
    if not reqs:
        return Verdict("OS packages", "unknown", "No image OS was resolved.")
    per_os = "; ".join(f"{_e(os_name)}: {fig(s, ('system_requirements', os_name), lambda v: number(len(v)))}"
                       for os_name in reqs)
    unknown = gaps.get("unknown_content") or 0
    tail = (f" The packages of {fig(s, 'package_gaps.unknown_content')} items are unknown: "
            "check them by hand." if unknown else "")
    count = max(len(v) for v in reqs.values())
    status = "warn" if unknown else ("todo" if count else "ok")
    first = next(iter(reqs))
    names = ", ".join(map(_e, reqs[first][:8])) + (" and more" if len(reqs[first]) > 8 else "")
    lead = (f"The images must add OS packages ({per_os}), e.g. {names}."
            if count else "The content needs no OS packages beyond a build toolchain.")
    return Verdict("OS packages", status, lead + tail, "Add" if status == "todo" else "")


def readiness_verdict(s: dict) -> Verdict | None:
    """Items blocked / conditional / ready on the new cluster, the blocked important ones
    named and linked (their content URLs); None when the analysis has no readiness."""
    rd = s.get("readiness")
    if not rd or not rd.get("counts"):
        return None
    counts = rd["counts"]
    urls = {c.get("guid"): c.get("content_url") for c in s.get("important_content") or []}
    blocked = [(i, r) for i, r in enumerate(rd.get("not_in_a_wave") or [])
               if r.get("verdict") == "blocked" and r.get("important")]
    parts = [f"{fig(s, 'readiness.counts.blocked')} items blocked",
             f"{fig(s, 'readiness.counts.conditional')} conditional",
             f"{fig(s, 'readiness.counts.ready')} ready",
             f"{fig(s, 'readiness.counts.unknown')} unknown",
             f"{fig(s, ('readiness', 'counts', 'nothing-to-move'))} with nothing to move"]
    text = (f"On Connect {_e(rd.get('target_version') or 'the new version')}: "
            + ", ".join(parts) + ".")
    if blocked:
        names = ", ".join(_linked(r.get("title") or r.get("guid"), urls.get(r.get("guid")))
                          for _, r in blocked[:8])
        more = f" and {number(len(blocked) - 8)} more" if len(blocked) > 8 else ""
        text += f" Blocked important content: {names}{more} (see the readiness table)."
    builds = rd.get("latest_builds") or {}
    if sampled(builds):
        text += (f" Latest builds were checked for {fig(s, 'readiness.latest_builds.checked_items')} of "
                 f"{fig(s, 'readiness.latest_builds.deployed_items')} deployed items "
                 f"({fig(s, 'readiness.latest_builds.failing_items')} failing): fetch with --jobs all "
                 "to check every item.")
    status = "bad" if counts.get("blocked") else ("warn" if counts.get("unknown") or
                                                  counts.get("conditional") else "ok")
    return Verdict("Readiness", status, text)


def rebuild_verdict(s: dict) -> Verdict | None:
    """How long until important content is back, and everything."""
    back = (s.get("readiness") or {}).get("back_after")
    if not back or back.get("everything_back_after_hours") is None:
        return None
    hours_of = lambda h: f"{h:,.1f}"  # noqa: E731
    if back.get("important_back_after_hours") is None:
        first = "No important content is back by rebuilding alone (it is blocked or there is none)"
    else:
        first = ("Important content is back after "
                 f"{fig(s, 'readiness.back_after.important_back_after_hours', hours_of)} hours of rebuilding")
    text = (f"{first}, everything after "
            f"{fig(s, 'readiness.back_after.everything_back_after_hours', hours_of)} hours")
    if back.get("blocked_items"):
        text += (f"; {fig(s, 'readiness.back_after.blocked_items')} blocked items are not back "
                 "until their blockers are fixed")
    return Verdict("Rebuild time", "todo", text + ".", "Plan")


def verdicts(summary: dict) -> list[Verdict]:
    """The verdicts, most important first."""
    found = [readiness_verdict(summary), rebuild_verdict(summary), licence_verdict(summary),
             coverage_verdict(summary), storage_verdict(summary), os_packages_verdict(summary)]
    return [v for v in found if v is not None]


def verdicts_html(summary: dict) -> str:
    """The verdicts section: a heading and one list item per verdict."""
    items = "".join(
        f'<li class="ca-verdict ca-{v.status}"><span class="ca-status">{_e(v.status_word)}</span> '
        f'<span class="ca-topic">{_e(v.topic)}:</span> {v.sentence}</li>'
        for v in verdicts(summary))
    return (f'<section class="ca-verdicts" aria-labelledby="verdicts">'
            f'<h2 id="verdicts">Verdicts</h2><ul class="ca-verdict-list">{items}</ul></section>')


def _linked(name, url) -> str:
    """name as a link to its content on the server (http(s) URLs only), escaped."""
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return f'<a href="{_e(url)}">{_e(name)}</a>'
    return _e(name)


def _combo(c: dict) -> str:
    parts = [f"{name} {c[key]}" for key, name in (("r", "R"), ("python", "Python"),
                                                  ("quarto", "Quarto")) if c.get(key)]
    return _e(" + ".join(parts) or "no runtime")
