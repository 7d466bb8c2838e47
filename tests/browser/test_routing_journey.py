"""Issue 7 in real browsers: an agent goes ready from the presence bar, a customer writes
through the public web form, the offer pops up over the notifications WebSocket, the agent
accepts, replies, clicks Done, wraps up and ends the wrap-up — while a supervisor's wallboard
in a second browser shows the agent's state and the queue's answered count change live.

The ASGI application runs under daphne in a forked process (as in
``test_deviation_journey.py``); the customer's message is sent through that server, so the
routing pass and its notices happen where the browsers' WebSockets are.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.browser import test_deviation_journey as journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE = 8_000  # ms: "within a second" plus headroom for a loaded CI machine


# The daphne server, the extra browser contexts and the log-ins of the deviation journey.
asgi_url = journey.asgi_url
new_context = journey.new_context
_password_login = journey._password_login
_verified_session = journey._verified_session


RULES = """\
name: alpha
accept_timeout: 90
max_missed_offers: 3
vip_boost: 5
queues:
  default:
    strategy: longest_idle
    steps:
      - name: experts
        target: 'interaction.skills.all(s, s in agent.skills && agent.skills[s] >= 4)'
        timeout: 20
      - name: anyone of the client
"""


def test_agent_is_offered_accepts_handles_and_wraps_up(page, new_context, org, login,
                                                       asgi_url, artifacts):
    from playwright.sync_api import expect

    from satupintu.routing.models import AgentPresence, PresenceState, Queue, WorkItem
    from satupintu.routing.services import rules

    url = asgi_url
    Queue.objects.create(client=org.alpha, code="web", name_id="Formulir web",
                         name_en="Web form", channel="web", is_default=True,
                         team=org.team_a)
    rules.save_rules(org.alpha, RULES, by=org.sam, comment="journey")

    # The supervisor watches the wallboard from the start.
    sam_context = new_context()
    _verified_session(sam_context, org.sam, login)
    board = sam_context.new_page()
    board.goto(f"{url}/wallboard/")
    assert "/accounts/" not in board.url
    alice_state = board.locator("tr[data-agent=alice] [data-field=state]")
    answered = board.locator("tr[data-queue=web] [data-kpi=answered]")
    expect(alice_state).to_be_attached()
    expect(answered).to_have_text(re.compile(r"^\s*0\s*$"))
    expect(alice_state).not_to_contain_text("Ready")
    board.screenshot(path=str(artifacts / "routing-1-wallboard-before.png"), full_page=True)

    # A customer opens the client's contact form (a person takes a moment to write).
    customer = new_context()
    form_page = customer.new_page()
    contact = f"{url}/public/contact/alpha/"
    form_page.goto(contact)
    opened = time.monotonic()

    # The agent logs in and goes ready from the presence bar.
    _password_login(page, url, "alice", org.password)
    page.goto(f"{url}/cases/mine/")
    page.wait_for_selector("#presence-wrap[data-live-state=open]", state="attached")
    page.select_option("[data-testid=presence-select]", "ready")
    page.wait_for_selector("#presence-bar[data-state=ready]")
    expect(page.locator("[data-testid=presence-state]")).to_contain_text("Ready")
    presence = AgentPresence.objects.get(pk=org.alice.pk)
    assert presence.state == PresenceState.READY and presence.connection
    page.screenshot(path=str(artifacts / "routing-2-agent-ready.png"), full_page=True)
    expect(alice_state).to_contain_text("Ready", timeout=LIVE)

    # A customer writes through the public web form (served by the same server, so the
    # routing pass and its notices run where the WebSockets are). Chromium sends "Origin:
    # null" for a form posted under the portal's "Referrer-Policy: no-referrer", which
    # Django's CSRF check refuses; the customer's browser is therefore driven through its
    # request API with the page's own fields and an explicit same-site Origin.
    fields = form_page.eval_on_selector_all(
        "form input[type=hidden]", "els => Object.fromEntries(els.map(e => [e.name, e.value]))")
    fields.update({"name": "Dewi Lestari", "email": "dewi@example.id", "phone": "",
                   "message": "Kartu kredit saya terblokir, mohon dibantu.", "website": ""})
    time.sleep(max(0.0, 5 - (time.monotonic() - opened)))  # the form refuses bots' speed
    sent = customer.request.post(contact, form=fields,
                                 headers={"Origin": url, "Referer": contact})
    assert sent.ok and "/thanks/" in sent.url, re.findall(r"(?:error[^>]*>)([^<]+)", sent.text())

    # The offer pops up live, with a countdown.
    offer = page.locator("[data-testid=offer]")
    offer.wait_for(timeout=LIVE)
    item = WorkItem.objects.get(client=org.alpha, agent=org.alice)
    reference = item.case.reference
    expect(offer.locator("[data-offer=case]")).to_have_text(reference)
    expect(offer.locator("[data-offer=countdown]")).to_have_text(re.compile(r"\d+ s"))
    expect(offer.locator("[data-offer=queue]")).to_have_text("Web form")
    expect(offer.locator("[data-offer=subject]")).to_contain_text("Kartu kredit")
    page.screenshot(path=str(artifacts / "routing-3-offer.png"), full_page=True)

    # Accept: the case opens.
    offer.locator("[data-testid=offer-accept]").click()
    page.wait_for_url(f"**/cases/{reference}/")
    item.refresh_from_db()
    assert item.status == "assigned"
    expect(answered).to_have_text(re.compile(r"^\s*1\s*$"), timeout=LIVE)
    board.screenshot(path=str(artifacts / "routing-4-wallboard-answered.png"), full_page=True)

    # Reply, then Done: after-contact work with its countdown.
    page.fill("#reply-body", "Baik Bu Dewi, kartu Anda sudah kami buka kembali.")
    page.click("text=Send reply")
    page.wait_for_load_state("load")
    page.locator("[data-testid=work-done]").click()
    page.wait_for_selector("#presence-bar[data-state=acw]")
    expect(page.locator("[data-testid=acw-countdown]")).to_have_text(re.compile(r"\d+:\d\d"))
    page.screenshot(path=str(artifacts / "routing-5-wrap-up.png"), full_page=True)
    expect(alice_state).to_contain_text("After-contact work", timeout=LIVE)

    # End the wrap-up: ready again, and the wallboard follows.
    page.locator("[data-testid=wrap-up-end]").click()
    page.wait_for_selector("#presence-bar[data-state=ready]")
    item.refresh_from_db()
    assert item.status == "done"
    expect(alice_state).to_contain_text("Ready", timeout=LIVE)
    board.screenshot(path=str(artifacts / "routing-6-wallboard-ready.png"), full_page=True)
    page.screenshot(path=str(artifacts / "routing-6-agent-ready.png"), full_page=True)

    # The supervisor checks a rules change in the editor (htmx validate and preview) and
    # sees the floor on the team page.
    board.goto(f"{url}/routing/clients/{org.alpha.pk}/rules/")
    board.fill("#id_text", RULES.replace("        timeout: 20\n", ""))
    board.click("[data-testid=rules-validate]")
    expect(board.locator("[data-testid=error-line]")).to_have_attribute("data-line", "9")
    board.screenshot(path=str(artifacts / "routing-8-rules-invalid.png"), full_page=True)
    board.select_option("#id_queue", label="Web form (web)")
    board.click("[data-testid=preview-form] button[type=submit]")
    row = board.locator("[data-testid=preview-table] tr[data-agent=alice]")
    expect(row).to_have_attribute("data-eligible", "1")
    board.screenshot(path=str(artifacts / "routing-9-rules-preview.png"), full_page=True)
    board.goto(f"{url}/routing/team/")
    expect(board.locator("[data-testid=team-agents] tr[data-agent=alice]")).to_contain_text(
        "Ready")
    board.screenshot(path=str(artifacts / "routing-10-team.png"), full_page=True)


@pytest.fixture
def fast_heartbeat(settings: Any) -> None:
    """Set before the server forks, so that the pages it renders beat every second."""
    settings.ROUTING_HEARTBEAT_SECONDS = 1


def test_a_second_tab_takes_the_presence_over(browser, org, fast_heartbeat, asgi_url,
                                              artifacts):
    """One presence per agent: the tab opened last holds it; the first one says so and
    stops its heartbeat, and closing it does not log the agent out."""
    from playwright.sync_api import expect

    from satupintu.routing.models import AgentPresence, PresenceState

    url = asgi_url
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    try:
        first = context.new_page()
        _password_login(first, url, "alice", org.password)
        first.goto(f"{url}/")
        first.select_option("[data-testid=presence-select]", "ready")
        first.wait_for_selector("#presence-bar[data-state=ready]")
        held = AgentPresence.objects.get(pk=org.alice.pk).connection
        second = context.new_page()  # a new tab: its own sessionStorage, its own id
        second.goto(f"{url}/cases/mine/")
        second.wait_for_selector("#presence-bar[data-state=ready]")
        moved = first.locator("[data-testid=presence-moved]")
        expect(moved).to_be_visible(timeout=LIVE)
        expect(moved).to_have_text("Presence moved to another window.")
        expect(second.locator("[data-testid=presence-moved]")).to_be_hidden()
        first.screenshot(path=str(artifacts / "routing-7-presence-moved.png"), full_page=True)
        p = AgentPresence.objects.get(pk=org.alice.pk)
        assert p.connection != held and p.state == PresenceState.READY
        first.close()
        second.wait_for_timeout(1500)
        assert AgentPresence.objects.get(pk=org.alice.pk).state == PresenceState.READY
    finally:
        context.close()
