"""Issue 6 web chat + the FAQ assistant, in a real browser: the chat page shows the client's
public FAQ answers before connecting; one customer finds the answer (no case), another still
needs a person and the chat opens with what they read on the case."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import test_deviation_journey as journey

asgi_url = journey.asgi_url
new_context = journey.new_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _publish_faq(org: Any) -> None:
    from satupintu.accounts.models import User
    from satupintu.knowledge.services import articles

    tina = User.objects.create_user(username="tina", role="team_leader", full_name="Tina",
                                    team=org.team_a, site=org.site, language="id")
    tina.clients.set([org.alpha])
    version = articles.create_article(
        by=tina, client=org.alpha, slug="faq-blokir", kind="faq", audience="public",
        language="id", title="Cara blokir kartu kredit hilang",
        body="Jika kartu kredit hilang, blokir kartu lewat aplikasi atau telepon 1500-100.")
    articles.submit(version, by=tina)
    articles.approve(version, by=org.sam)
    articles.publish(version, by=tina)


def _prechat(page: Any, name: str) -> None:
    page.fill("#pc-name", name)
    page.fill("#pc-contact", f"{name.split()[0].lower()}@example.co.id")
    page.fill("#pc-topic", "Kartu kredit hilang")
    page.fill("#pc-message", "Bagaimana cara blokir kartu kredit saya?")
    page.click("#prechat button[type=submit]")


def test_faq_answers_first_then_a_person_if_needed(new_context, org, asgi_url,
                                                   artifacts) -> None:
    from satupintu.cases.models import Case, CaseEvent
    from satupintu.knowledge.models import FaqQuestion, Helped

    _publish_faq(org)

    # The first customer reads the answer and is done: no case, one deflection.
    first = new_context().new_page()
    first.goto(f"{asgi_url}/chat/w/alpha/?lang=id")
    _prechat(first, "Budi Santoso")
    first.locator("#faq-list li:has-text('Cara blokir kartu kredit hilang')").wait_for()
    assert "1500-100" in first.inner_text("#faq-list")
    first.screenshot(path=str(artifacts / "webchat-faq-1-answers.png"))
    first.click("#faq-helped")
    first.wait_for_function(
        "document.getElementById('faq-message').textContent.length > 0")
    assert first.is_hidden("#faq-actions")
    assert FaqQuestion.objects.get().helped == Helped.YES
    assert not Case.objects.exists()

    # The second still needs a person: the chat connects, the case shows what was read.
    second = new_context().new_page()
    second.goto(f"{asgi_url}/chat/w/alpha/?lang=id")
    _prechat(second, "Dewi Lestari")
    second.locator("#faq-list li").first.wait_for()
    second.click("#faq-person")
    second.locator("li.chatw-visitor[data-seq='1']").wait_for()
    assert second.is_hidden("#faq") and second.is_visible("#chat")
    second.screenshot(path=str(artifacts / "webchat-faq-2-chat.png"))
    case = Case.objects.get()
    record = FaqQuestion.objects.get(handed_off=True)
    assert record.case_reference == case.reference and case.channel == "chat"
    note = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.NOTE)
    assert "Cara blokir kartu kredit hilang" in note.body
