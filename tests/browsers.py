"""Headless Chromium for the browser tests, driven by Playwright through Debian's ``chromium``.

Playwright (the pip package) cannot download its own browsers here and needs not: it launches the
system's Chromium by ``executable_path``. Screenshots go to ``artifacts/`` (git-ignored) for a human look.
"""

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-extensions", "--mute-audio", "--hide-scrollbars"]
# A phone the room is designed for first: 390 x 844 CSS pixels (a current mid-size phone), touch.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def launch(playwright):
    """Chromium, headless, from Debian's package."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)


def wait_for(page, expression, timeout=30.0, explain="document.getElementById('status')?.textContent"):
    """Wait until ``expression`` is truthy in the page; fail with what the page says when it never is."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"() => ({expression})", timeout=timeout * 1000)  # a function: no eval, so the page's CSP holds
    except PlaywrightTimeout:
        pytest.fail(f"the page never showed {expression} (it says: {page.evaluate(explain)!r})")


def screenshot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))
