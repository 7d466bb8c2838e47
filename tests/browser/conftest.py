"""Playwright with Debian's Chromium: never a downloaded browser."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

class _InFlight:
    """Requests the in-process live server is still handling.

    A page's last action can start a request (the presence heartbeat, a reply's after-commit
    work) that the server is still writing when the test ends; flushing the database under it
    fails on SQLite's foreign keys. Teardown waits until every started request has finished.
    """

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def started(self, **_: Any) -> None:
        with self.lock:
            self.count += 1

    def finished(self, **_: Any) -> None:
        with self.lock:
            self.count = max(0, self.count - 1)

    def wait_idle(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.count == 0:
                    return
            time.sleep(0.05)


IN_FLIGHT = _InFlight()


@pytest.fixture(autouse=True)
def _live_server_idle_before_flush() -> Iterator[None]:
    """Autouse, so it is torn down after the pages close and before the database flush."""
    from django.core.signals import request_finished, request_started

    request_started.connect(IN_FLIGHT.started, dispatch_uid="browser-in-flight-start")
    request_finished.connect(IN_FLIGHT.finished, dispatch_uid="browser-in-flight-end")
    yield
    IN_FLIGHT.wait_idle()
    request_started.disconnect(dispatch_uid="browser-in-flight-start")
    request_finished.disconnect(dispatch_uid="browser-in-flight-end")
    with IN_FLIGHT.lock:
        IN_FLIGHT.count = 0


def chromium_path() -> str | None:
    return os.environ.get("SATUPINTU_CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("Chromium is required for the browser tests in CI")
        pytest.skip("Chromium not installed (Debian: apt-get install chromium): "
                    "browser tests skipped")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on the test's thread; the ORM calls a test
    # makes between page actions are still synchronous and safe. Only while the browser runs.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, headless=True,
                                              args=CHROMIUM_FLAGS)
        yield instance
        instance.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
