"""Regenerate the README screenshot of the live page.

    python -m tests.browser.screenshot docs/img/viz.png [--months 36] [--width 1440] [--height 1500]

Starts the page server on a free loopback port, opens it in Debian's Chromium
(/usr/bin/chromium), steps the baseline world ``--months`` times, and saves a
screenshot of the top of the page. Needs no network.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.browser.helpers import CHROMIUM, PageWatch, launch_chromium, live_server, open_page, step


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.browser.screenshot", description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="PNG file to write, e.g. docs/img/viz.png")
    p.add_argument("--months", type=int, default=36, help="months to simulate before the picture (default 36)")
    p.add_argument("--width", type=int, default=1440, help="viewport width in pixels (default 1440)")
    p.add_argument("--height", type=int, default=1500, help="height of the picture in pixels (default 1500)")
    args = p.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"error: {CHROMIUM} not found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with live_server() as url, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            context = browser.new_context(viewport={"width": args.width, "height": args.height})
            watch = PageWatch()
            page = open_page(context, url, watch)
            step(page, args.months)
            page.wait_for_timeout(800)      # let the last redraw settle
            tmp = args.out.with_suffix(".tmp.png")
            page.screenshot(path=str(tmp))
            tmp.replace(args.out)
        finally:
            browser.close()
    if watch.outside or watch.errors:
        print(f"warning: non-loopback requests {watch.outside}, console errors {watch.errors}", file=sys.stderr)
    print(f"wrote {args.out} ({args.months} months of baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
