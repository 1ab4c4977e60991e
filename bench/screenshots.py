"""Screenshots of the dashboard's overview on a `pulse demo` dataset, for the README (run by hand):

    .venv/bin/python bench/screenshots.py [--visitors 5000] [--days 60] [--out docs]

Starts embedded PostgreSQL and Redis in a scratch directory (never your configured servers),
writes the demo dataset, serves Pulse, logs in with the demo's query key in headless Chromium
(PULSE_CHROMIUM, default /usr/bin/chromium) and saves docs/dashboard-desktop.png and
docs/dashboard-phone.png.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
import warnings
from pathlib import Path

import uvicorn

CHROMIUM = os.environ.get("PULSE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
# (viewport, device scale, how much of the page to keep: the phone's first two screens are plenty)
VIEWPORTS = {"desktop": ({"width": 1280, "height": 900}, 1, None), "phone": ({"width": 390, "height": 844}, 2, 1500)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def shoot(base: str, key: str, out: Path) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for name, (viewport, scale, height) in VIEWPORTS.items():
            page = await browser.new_page(viewport=viewport, device_scale_factor=scale, color_scheme="light")
            await page.goto(f"{base}/dashboard")
            await page.fill("#key", key)
            await page.click("button[type=submit]")
            await page.wait_for_selector("[data-panel='events'] table")
            await page.wait_for_selector("main:not(.loading)")
            clip = {"x": 0, "y": 0, "width": viewport["width"], "height": height} if height else None
            await page.screenshot(path=str(out / f"dashboard-{name}.png"), full_page=True, clip=clip)
            await page.close()
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=5000)
    # Twice the overview's 30 days, so its previous period (the cards' comparison) is full too.
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()

    from pulse.app import create_app
    from pulse.config import Settings
    from pulse.demo import run_demo
    from pulse.embedded import embedded_services
    from pulse.migrate import upgrade
    from pulse.runtime import Runtime

    warnings.filterwarnings("ignore", module="platformdirs")
    root = Path(tempfile.mkdtemp(prefix="pulse-shots-"))
    try:
        with embedded_services(root, postgres=True, redis=True) as urls:
            settings = Settings(DATABASE_URL=urls["DATABASE_URL"], REDIS_URL=urls["REDIS_URL"],
                                PULSE_COOKIE_SECRET="screenshots", PULSE_ADMIN_TOKEN="screenshots-" + "x" * 32)
            upgrade(settings)

            async def demo():
                runtime = Runtime(settings)
                try:
                    return await run_demo(runtime, visitors=args.visitors, days=args.days, seed=7)
                finally:
                    await runtime.close()

            result = asyncio.run(demo())
            port = free_port()
            server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                                   log_level="warning"))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.05)
            try:
                args.out.mkdir(parents=True, exist_ok=True)
                asyncio.run(shoot(f"http://127.0.0.1:{port}", result.query_key, args.out))
            finally:
                server.should_exit = True
                thread.join(30)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"wrote {args.out}/dashboard-desktop.png and {args.out}/dashboard-phone.png")


if __name__ == "__main__":
    main()
