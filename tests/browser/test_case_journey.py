"""An agent works a case in a real browser: note, reply and the whole status lifecycle."""

from __future__ import annotations

import pytest

from satupintu.cases import services
from satupintu.cases.models import Case, CaseEvent
from satupintu.customers import services as customers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STEPS = [
    ("open", "New → Open"),
    ("pending_customer", "Open → Pending customer"),
    ("open", "Pending customer → Open"),
    ("resolved", "Open → Resolved"),
    ("closed", "Resolved → Closed"),
]
LABELS = {"open": "Open", "pending_customer": "Pending customer", "resolved": "Resolved",
          "closed": "Closed"}


def _status_chip(page) -> str:
    return page.inner_text(".lead .chip >> nth=0").strip()


def test_agent_works_a_case_from_new_to_closed(page, live_server, org, artifacts):
    dewi = customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                     identities=[("phone", "081234567890")])
    case = services.create_case(org.alpha, dewi, "Kartu kredit terblokir", by=org.alice,
                                body="Kartu saya tidak bisa dipakai sejak pagi.",
                                team=org.team_a, assignee=org.alice)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", org.password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/accounts/login/" not in page.url  # agents have no second factor

    page.goto(f"{live_server.url}/cases/{case.reference}/")
    assert case.reference in page.inner_text("h1")
    assert _status_chip(page) == "New"
    timeline = page.locator("#timeline")
    assert "Kartu saya tidak bisa dipakai sejak pagi." in timeline.inner_text()
    page.screenshot(path=str(artifacts / "case-new.png"), full_page=True)

    page.fill("#note-body", "Nasabah sudah diverifikasi lewat telepon.")
    with page.expect_navigation():
        page.click("button:has-text('Add note')")
    assert "Note added." in page.inner_text(".flash")
    note = timeline.locator("li.event-note")
    assert "Nasabah sudah diverifikasi lewat telepon." in note.inner_text()
    assert "internal, never shown to the customer" in note.inner_text()

    for i, (target, summary) in enumerate(STEPS):
        page.select_option("#status", target)
        with page.expect_navigation():
            page.click("form[action$='/status/'] button[type=submit]")
        assert "Status changed." in page.inner_text(".flash"), page.inner_text("main")
        assert _status_chip(page) == LABELS[target]
        assert summary in timeline.locator("li.event-status").nth(i).inner_text()
        if i == 0:
            page.fill("#reply-body", "Baik Bu Dewi, kartu Anda sedang kami buka blokirnya.")
            with page.expect_navigation():
                page.click("button:has-text('Send reply')")
            assert "Reply sent." in page.inner_text(".flash")
            reply = timeline.locator("li.event-outbound")
            assert "kartu Anda sedang kami buka blokirnya" in reply.inner_text()
            page.screenshot(path=str(artifacts / "case-open-replied.png"), full_page=True)
        if target == "resolved":
            page.screenshot(path=str(artifacts / "case-resolved.png"), full_page=True)

    assert "This case is closed." in page.inner_text("main")
    assert page.locator("#status").count() == 0
    statuses = [s for _t, s in STEPS]
    text = timeline.inner_text()
    positions = [text.index(s) for s in statuses]
    assert positions == sorted(positions)  # the timeline reads in order
    assert text.index("Internal note") < text.index("Reply to customer") < text.index(
        "Resolved → Closed")
    page.screenshot(path=str(artifacts / "case-closed.png"), full_page=True)

    case = Case.objects.get(pk=case.pk)
    assert case.status == "closed" and case.closed_at is not None
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds.count(CaseEvent.Kind.STATUS) == len(STEPS)
    assert CaseEvent.Kind.NOTE in kinds and CaseEvent.Kind.OUTBOUND in kinds
