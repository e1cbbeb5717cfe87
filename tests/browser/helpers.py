"""Drive the live page in a real Chromium: start the server, open pages, click, read charts.

Used by the browser tests (tests/browser/conftest.py) and by the README screenshot
(``python -m tests.browser.screenshot docs/img/viz.png``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

# JavaScript: points in each chart, by the chart name stored in layout.meta
JS_POINTS = """() => {
  const out = {};
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    const name = gd.layout && gd.layout.meta && gd.layout.meta.chart;
    if (name) out[name] = (gd.data && gd.data[0] && gd.data[0].x) ? gd.data[0].x.length : 0;
  }
  return out;
}"""

# JavaScript: click Step, resolve with the ms until every time-series chart shows `n` points
JS_TIMED_STEP = """async ([n, charts]) => {
  const button = Array.from(document.querySelectorAll('button'))
    .find(b => b.textContent.trim().toLowerCase() === 'step');
  const ready = () => {
    const out = {};
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      const name = gd.layout && gd.layout.meta && gd.layout.meta.chart;
      if (name) out[name] = (gd.data && gd.data[0] && gd.data[0].x) ? gd.data[0].x.length : 0;
    }
    return charts.every(c => out[c] >= n);
  };
  const t0 = performance.now();
  button.click();
  return await new Promise((resolve, reject) => {
    const deadline = t0 + 20000;
    const check = () => {
      const now = performance.now();
      if (ready()) resolve(now - t0);
      else if (now > deadline) reject(new Error('charts did not update within 20 s'));
      else requestAnimationFrame(check);
    };
    check();
  });
}"""


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(timeout_s: float = 120.0) -> Iterator[str]:
    """Serve the page (``computemarket viz``'s command) on a free loopback port; yield its URL.

    Waits until the server answers; the server process is always terminated on exit.
    Its output goes to a temporary log whose tail is shown if it fails to start.
    """
    from sim.cli_viz import server_command, server_env

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tempfile.NamedTemporaryFile(prefix="computemarket-viz-", suffix=".log", delete=False)
    proc = subprocess.Popen(server_command("127.0.0.1", port), env=server_env(), stdout=log,
                            stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the viz server exited with {proc.returncode}:\n{_tail(log.name)}")
            try:
                with urllib.request.urlopen(url + "readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the viz server did not answer within {timeout_s:.0f} s:\n{_tail(log.name)}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()
        with contextlib.suppress(OSError):
            os.unlink(log.name)


def _tail(path: str, lines: int = 40) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def launch_chromium(playwright):
    """Debian's Chromium through Playwright (``playwright install`` cannot download browsers here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class PageWatch:
    """What a page asked the network for and complained about."""

    outside: list[str] = field(default_factory=list)      # non-loopback requests (all blocked)
    errors: list[str] = field(default_factory=list)       # console errors and uncaught exceptions


def open_page(context, url: str, watch: PageWatch, timeout_ms: int = 90_000):
    """Open the page with every non-loopback request blocked and recorded; wait until the charts are drawn."""
    page = context.new_page()

    def route(r):
        host = urlparse(r.request.url).hostname or ""
        if r.request.url.startswith(("data:", "blob:")) or host in LOOPBACK_HOSTS:
            r.continue_()
        else:
            watch.outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: watch.errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(f"pageerror: {e}"))
    page.goto(url)
    page.get_by_text("Controls").first.wait_for(timeout=timeout_ms)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 6", timeout=timeout_ms)
    return page


def month(page) -> str:
    """The month counter, e.g. "Month 5/120"."""
    return page.locator(".cm-month").inner_text()


def points(page) -> dict[str, int]:
    """Points shown in each chart."""
    return page.evaluate(JS_POINTS)


def step(page, times: int = 1) -> None:
    """Click Step ``times``, each time waiting until the month counter has moved on."""
    for _ in range(times):
        current = int(month(page).split()[1].split("/")[0])
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(
            "(n) => { const el = document.querySelector('.cm-month');"
            " return el && el.textContent.startsWith('Month ' + n + '/'); }", arg=current + 1, timeout=30_000)


def timed_step(page, expected_points: int, chart_names) -> float:
    """Click Step in the page itself; ms until every named chart shows ``expected_points`` points."""
    return page.evaluate(JS_TIMED_STEP, [expected_points, list(chart_names)])
