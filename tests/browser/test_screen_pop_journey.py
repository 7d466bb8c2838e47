"""Issue 6, calls, in a real browser: a PBX bridge posts a ringing event to the CTI API and
the agent's open workspace shows the screen pop, a link to the caller's customer 360.

The server is the ASGI application under daphne (HTTP and WebSockets, one process, so the
CTI request and the agent's socket share the channel layer), as in the deviation journey,
whose fixtures this module reuses.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.browser import test_deviation_journey as journey

asgi_url = journey.asgi_url
new_context = journey.new_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _post(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - the local test server
        f"{url}/api/v1/cti/events", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def test_ringing_call_pops_the_customer_on_the_agents_screen(asgi_url, new_context, org,
                                                              artifacts):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from satupintu.accounts.services import tokens
    from satupintu.telephony.models import AgentExtension, Call, CtiNumber

    CtiNumber.objects.create(client=org.alpha, number="+622150001234", queue="Kartu")
    AgentExtension.objects.create(user=org.alice, extension="201")
    _token, secret = tokens.create(org.root, "pbx bridge")

    page = new_context().new_page()
    journey._password_login(page, asgi_url, "alice", org.password)
    page.goto(f"{asgi_url}/cases/mine/")
    pop = page.locator("#live-notices .screen-pop a")
    # The page's socket connects asynchronously: ring until the pop shows (each ring is a
    # new call, so nothing is deduplicated away).
    for attempt in range(15):
        answer = _post(asgi_url, secret, {
            "event_id": f"ring-{attempt}", "call_id": f"call-{attempt}", "type": "ringing",
            "at": "2026-11-20T02:00:00Z", "caller": "+6281298765432",
            "dialled": "+622150001234", "agent": "201"})
        assert answer["state"] == "ringing"
        try:
            pop.first.wait_for(timeout=1000)
        except PlaywrightTimeout:
            continue  # the socket was not connected yet: ring again
        break
    text = pop.first.inner_text()
    call = Call.objects.select_related("case").filter(client=org.alpha).first()
    assert call is not None and call.case is not None
    assert call.case.reference in text and "Incoming call" in text
    page.screenshot(path=str(artifacts / "screen-pop.png"), full_page=True)
    pop.first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/customers/{call.customer_id}/")
