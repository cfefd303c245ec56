"""Benchmark: the JavaScript (and CSS) a phone downloads to show the citizen H5 app's first page, raw and gzipped.

    .venv/bin/python bench/h5_size.py [--build] [--page pages/index/index]

Serves miniprogram/dist/h5 at /m/ from a bare static server (no API: what is measured is the code, not the data),
opens the page in Debian's Chromium (as tests/browser does) at a phone's size, waits until the network is idle, and
sums every script and stylesheet the page fetched, each as served and gzipped (level 6, what nginx and most CDNs
use by default). Also lists what index.html itself names (the entry) and the whole build. --build runs
`npm run build:h5 -w miniprogram` first. Prints a table; figures in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
H5 = ROOT / "miniprogram" / "dist" / "h5"
CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


class _Handler(http.server.SimpleHTTPRequestHandler):
    """/m/<file> from the build; /m/ itself is index.html; anything else (the API) 404."""

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        if not path.startswith("/m/"):
            return str(H5 / "__missing__")
        relative = path[len("/m/") :] or "index.html"
        return str(H5 / relative)

    def log_message(self, *args) -> None:  # quiet
        pass


def serve() -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(H5)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def first_load(base: str, page_path: str) -> list[tuple[str, str, bytes]]:
    """(kind, file, body) of every script and stylesheet the page fetched until the network was idle."""
    from playwright.sync_api import sync_playwright

    fetched: list[tuple[str, str, bytes]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        context = browser.new_context(**PHONE)
        page = context.new_page()

        def keep(response) -> None:
            kind = response.request.resource_type
            if kind in ("script", "stylesheet") and response.ok:
                fetched.append((kind, response.url.split("/m/", 1)[-1], response.body()))

        page.on("response", keep)
        page.goto(f"{base}/m/#/{page_path}", wait_until="networkidle")
        browser.close()
    return fetched


def kib(size: int) -> str:
    return f"{size / 1024:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="npm run build:h5 -w miniprogram first")
    parser.add_argument("--page", default="pages/index/index", help="the page opened first (hash route)")
    args = parser.parse_args()
    if args.build:
        subprocess.run(["npm", "run", "build:h5", "-w", "miniprogram"], cwd=ROOT, check=True)
    if not (H5 / "index.html").is_file():
        print(f"{H5} is not built: npm run build:h5 -w miniprogram (or --build)", file=sys.stderr)
        return 2
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: make browser", file=sys.stderr)
        return 2
    server, base = serve()
    try:
        fetched = first_load(base, args.page)
    finally:
        server.shutdown()

    print(f"first load of /m/#/{args.page} at 375x812 (KiB)")
    print(f"{'kind':<11} {'file':<34} {'raw':>8} {'gzip':>8}")
    totals = {"script": [0, 0], "stylesheet": [0, 0]}
    for kind, name, body in sorted(fetched):
        raw, packed = len(body), gzipped(body)
        totals[kind][0] += raw
        totals[kind][1] += packed
        print(f"{kind:<11} {name:<34} {kib(raw):>8} {kib(packed):>8}")
    for kind, (raw, packed) in totals.items():
        print(f"{'total ' + kind:<46} {kib(raw):>8} {kib(packed):>8}")
    every_js = [path for path in H5.rglob("*.js")]
    whole = sum(path.stat().st_size for path in every_js)
    whole_gz = sum(gzipped(path.read_bytes()) for path in every_js)
    print(f"{'whole build: ' + str(len(every_js)) + ' JavaScript files':<46} {kib(whole):>8} {kib(whole_gz):>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
