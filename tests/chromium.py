"""Open a page in headless Chromium and report what happened, over the DevTools protocol.

The protocol runs over a pipe (--remote-debugging-pipe: fd 3 in, fd 4 out, messages ended
by NUL), so no port is opened and nothing beyond the standard library is needed.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from suite import skip_or_fail

from connect_analysis.report.pdf import HEADLESS_FLAGS, find_browser

CHROMIUM = find_browser()  # the browser --pdf uses, so both kinds of test run or skip together
FLAGS = [*HEADLESS_FLAGS, "--remote-debugging-pipe", "--window-size=1280,2000"]


def available() -> bool:
    return CHROMIUM is not None


def need_chromium() -> None:
    """Skip the test when there is no Chromium; under CI=true, fail it (suite.skip_or_fail)."""
    if not available():
        skip_or_fail("no chromium: run `make system-deps`")


@dataclass
class PageVisit:
    """What a page did while it loaded."""

    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    facts: dict = field(default_factory=dict)  # the result of the probe expression
    screenshot: bytes = b""


class _Pipe:
    def __init__(self, proc, write_fd: int, read_fd: int):
        self.proc, self.write_fd, self.read_fd = proc, write_fd, read_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.write_fd, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for i, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(i)
        while True:
            ev = self._read(deadline)
            if ev.get("method") == method:
                return ev
            self.events.append(ev)

    def _read(self, deadline: float) -> dict:
        import select

        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self.read_fd], [], [], left)
            if ready:
                chunk = os.read(self.read_fd, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)


PROBE = """(() => ({
  charts: document.querySelectorAll('.ca-chart').length,
  charts_drawn: Array.from(document.querySelectorAll('.ca-chart'))
      .filter(d => d.querySelector('svg.main-svg')).length,
  tables: document.querySelectorAll('table.ca-table').length,
  tables_with_rows: Array.from(document.querySelectorAll('table.ca-table'))
      .filter(t => t.querySelectorAll('tbody tr:not(.ca-empty)').length > 0).length,
  script_elements: document.querySelectorAll('script').length,
  bold_elements_in_tables: document.querySelectorAll('table.ca-table b').length,
  title: document.title,
  text: document.body.innerText,
}))()"""


def visit(url: str, *, probe: str = PROBE, settle_s: float = 1.0, timeout: float = 60,
          full_page: bool = True) -> PageVisit:
    """Load url in a fresh headless Chromium profile; collect console errors, uncaught
    exceptions, every requested URL, the probe's result and a PNG screenshot."""
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    profile = tempfile.mkdtemp(prefix="ca-chromium-test-")
    proc = _start_chromium(profile, to_chrome_r, from_chrome_w)
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    pipe = _Pipe(proc, to_chrome_w, from_chrome_r)
    result = PageVisit()
    try:
        _load_and_probe(pipe, url, probe, settle_s, timeout, full_page, result)
        _collect_events(pipe.events, result)
        try:
            pipe.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError):
            pass
    finally:
        os.close(to_chrome_w)
        os.close(from_chrome_r)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return result


def _start_chromium(profile: str, to_chrome_r: int, from_chrome_w: int) -> subprocess.Popen:
    """Chromium with the DevTools pipe: it reads commands on fd 3 and writes replies on fd 4."""

    def child_fds():
        # move the pipe ends above 10 first so that placing one cannot overwrite the other
        high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
        os.dup2(high_r, 3)
        os.dup2(high_w, 4)

    return subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=child_fds, pass_fds=(3, 4))


def _load_and_probe(pipe: _Pipe, url: str, probe: str, settle_s: float, timeout: float,
                    full_page: bool, result: PageVisit) -> None:
    """Open url in a new tab, wait for load, then run the probe and take the screenshot."""
    target = pipe.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
    session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Runtime", "Log", "Network", "Page"):
        pipe.send(f"{domain}.enable", session=session)
    pipe.send("Page.navigate", {"url": url}, session=session)
    pipe.wait_for("Page.loadEventFired", timeout=timeout)
    time.sleep(settle_s)  # let charts finish drawing and late errors arrive
    facts = pipe.send("Runtime.evaluate", {"expression": probe, "returnByValue": True},
                      session=session)
    result.facts = facts.get("result", {}).get("value", {})
    shot = pipe.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": full_page},
                     session=session, timeout=timeout)
    result.screenshot = base64.b64decode(shot["data"])


def _collect_events(events: list, result: PageVisit) -> None:
    """Console errors, uncaught exceptions and requested URLs from the DevTools events."""
    for ev in events:
        m, p = ev.get("method"), ev.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            result.console_errors.append(" ".join(str(a.get("value", a.get("description")))
                                                  for a in p.get("args", [])))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            result.console_errors.append(p["entry"].get("text", ""))
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            result.exceptions.append(d.get("exception", {}).get("description") or d.get("text", ""))
        elif m == "Network.requestWillBeSent":
            result.requests.append(p.get("request", {}).get("url", ""))
