"""The wallboard in a real browser when its live channel is down: the page says so, keeps the
figures it has, polls the HTTP endpoint every 5 s, and keeps its clocks ticking; TV mode fills
the screen without navigation.

``live_server`` is a plain WSGI server: the WebSocket cannot open there, exactly what a
browser sees when the channel layer (Redis) is down.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _verified_session(context: Any, user: Any, login: Any, url: str) -> None:
    from django.conf import settings
    from django.test import Client

    client = Client()
    login(client, user)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "domain": urlparse(url).hostname, "path": "/"}])


def test_wallboard_degrades_to_polling_and_tv_mode_fits(page, live_server, org, login,
                                                         artifacts):
    from playwright.sync_api import expect

    from satupintu.wallboard.tests.factories import Builder, K, presence

    b = Builder(org.alpha, org.sam)
    now = timezone.now()
    b.item("general", [(K.ENQUEUED, now - timedelta(seconds=30), None)])
    presence(org.alice, ("ready", now - timedelta(minutes=3), ""))
    _verified_session(page.context, org.sam, login, live_server.url)

    page.goto(f"{live_server.url}/wallboard/")
    status = page.locator("[data-wb-status]")
    expect(status).to_contain_text(
        re.compile(r"Live updates interrupted — showing figures as of \d\d:\d\d:\d\d"))
    waiting = page.locator("tr[data-queue=general] [data-kpi=waiting]")
    longest = page.locator("tr[data-queue=general] [data-kpi=longest_wait]")
    expect(waiting).to_have_text("1")
    first = longest.inner_text()
    page.wait_for_timeout(2100)
    assert longest.inner_text() != first  # the clock ticks between frames
    assert re.fullmatch(r"0:3\d", longest.inner_text())
    expect(page.locator("tr[data-agent=alice] [data-field=state]")).to_have_text("Ready")

    # a new contact arrives: the page picks it up by polling /api/v1/wallboard/alpha/
    b.item("general", [(K.ENQUEUED, timezone.now(), None)])
    expect(waiting).to_have_text("2", timeout=12_000)
    page.screenshot(path=str(artifacts / "wallboard-degraded.png"), full_page=True)

    page.goto(f"{live_server.url}/wallboard/?tv=1")
    expect(page.locator("tr[data-queue=general] [data-kpi=waiting]")).to_have_text("2")
    assert page.locator(".mainnav").count() == 0
    fits = page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 2")
    assert fits
    page.screenshot(path=str(artifacts / "wallboard-tv.png"), full_page=True)
