"""The public contact form: a case with a reference, e-mailed back; spam and bad input get a
clear refusal and leave nothing behind; a double submit is one case."""

from __future__ import annotations

import json
import re
import time

import pytest
from django.utils import translation

from satupintu.cases.models import Case, CaseEvent, ContactReason
from satupintu.customers.models import CustomerIdentity
from satupintu.inbox.models import InboundMessage, InboundStatus, OutboundMessage
from satupintu.portal import links
from satupintu.portal.services import issue_form_token

pytestmark = pytest.mark.django_db


def _t(text: str, language: str = "id") -> str:
    """The text as the visitor sees it (whatever the catalogue holds at test time)."""
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def reasons(org):
    billing = ContactReason.objects.create(client=org.alpha, name_id="Tagihan", name_en="Billing")
    ContactReason.objects.create(client=org.alpha, name_id="Lama", name_en="Old", is_active=False)
    ContactReason.objects.create(client=org.bravo, name_id="Jaringan", name_en="Network")
    return billing


def _linked_reference(text: str) -> str | None:
    match = re.search(r"/public/status/([^/\s\"]+)/", text)
    return links.reference_from_token(match.group(1)) if match else None


def _data(reason=None, token=None, **extra):
    data = {"name": "Dewi Lestari", "email": "Dewi@Example.co.id", "phone": "0812-3456-7890",
            "reason": str(reason.pk) if reason else "", "message": "Kartu saya terblokir.",
            "website": "",
            "token": issue_form_token("alpha", issued_at=time.time() - 10)
            if token is None else token}
    data.update(extra)
    return data


def test_the_form_page_is_public_bilingual_and_lists_active_topics(client, org, reasons):
    page = client.get("/public/contact/alpha/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tagihan" in html and "Lama" not in html and "Jaringan" not in html
    assert 'name="website"' in html and 'name="token"' in html
    assert 'lang="id"' in html
    english = client.get("/public/contact/alpha/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Billing" in english.content.decode()
    client.post("/accounts/language/", {"language": "en", "next": "/public/contact/alpha/"})
    assert 'lang="en"' in client.get("/public/contact/alpha/").content.decode()


def test_happy_path_opens_one_case_and_queues_the_reference_by_email(
        client, org, reasons, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/public/contact/alpha/", _data(reasons))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.client == org.alpha and case.channel == "web" and case.reason == reasons
    assert case.subject == "Tagihan"
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.INBOUND)
    assert event.body == "Kartu saya terblokir."
    customer = case.customer
    kinds = set(CustomerIdentity.objects.filter(customer=customer).values_list("kind", flat=True))
    assert kinds == {"email", "phone"}
    message = InboundMessage.objects.get(channel="web")
    assert message.status == InboundStatus.PROCESSED and message.case == case
    assert json.loads(message.raw)["email"] == "dewi@example.co.id"
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    html = thanks.content.decode()
    assert case.reference in html
    assert _linked_reference(html) == case.reference
    outbound = OutboundMessage.objects.get(case=case)
    assert outbound.channel == "email" and outbound.recipient == "dewi@example.co.id"
    assert outbound.payload["kind"] == "notice"
    assert case.reference in outbound.payload["subject"]
    assert _linked_reference(outbound.payload["text"]) == case.reference
    assert "http://127.0.0.1:8000/public/status/" in outbound.payload["text"]
    assert outbound.payload["subject"] == _t("[%(reference)s] We received your message") % {
        "reference": case.reference}  # the visitor's language: Indonesian by default


def test_notice_is_in_english_for_an_english_visitor(client, org, reasons):
    client.post("/public/contact/alpha/", _data(reasons), HTTP_ACCEPT_LANGUAGE="en")
    payload = OutboundMessage.objects.get().payload
    assert "We received your message" in payload["subject"]
    assert Case.objects.get().customer.language == "en"


def test_double_submit_is_one_message_one_case_same_reference(client, org, reasons):
    data = _data(reasons)
    first = client.post("/public/contact/alpha/", data)
    second = client.post("/public/contact/alpha/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1 and InboundMessage.objects.count() == 1
    assert OutboundMessage.objects.count() == 1


def test_honeypot_is_refused_and_stores_nothing(client, org, reasons):
    response = client.post("/public/contact/alpha/", _data(reasons, website="http://spam"),
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "could not be accepted" in response.content.decode()
    assert not InboundMessage.objects.exists() and not Case.objects.exists()


def test_too_fast_is_refused_with_a_fresh_token_and_the_text_kept(client, org, reasons):
    token = issue_form_token("alpha")  # issued now: a bot posts at once
    response = client.post("/public/contact/alpha/", _data(reasons, token=token))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Kartu saya terblokir." in html
    assert not Case.objects.exists()
    new_token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert new_token != token


@pytest.mark.parametrize("token", ["", "forged", None])
def test_forged_or_old_token_is_refused(client, org, reasons, token):
    if token is None:
        token = issue_form_token("alpha", issued_at=time.time() - 7 * 3600)
    response = client.post("/public/contact/alpha/", _data(reasons, token=token))
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_a_token_of_another_clients_form_is_refused(client, org, reasons):
    token = issue_form_token("bravo", issued_at=time.time() - 10)
    assert client.post("/public/contact/alpha/", _data(reasons, token=token)).status_code == 400
    assert not Case.objects.exists()


def test_rate_limit_per_email_and_per_ip_answers_429(client, org, reasons, settings):
    settings.PORTAL_RATE_LIMITS = {"form_email": (2, 3600), "form_ip": (3, 3600)}
    for _ in range(2):
        assert client.post("/public/contact/alpha/", _data(reasons)).status_code == 302
    refused = client.post("/public/contact/alpha/", _data(reasons))
    assert refused.status_code == 429
    assert _t("Too many attempts. Please wait a few minutes and try again.") in \
        refused.content.decode()
    assert Case.objects.count() == 2
    assert client.post("/public/contact/alpha/",
                       _data(reasons, email="other@example.com")).status_code == 302
    assert client.post("/public/contact/alpha/",
                       _data(reasons, email="third@example.com")).status_code == 429
    assert Case.objects.count() == 3


@pytest.mark.parametrize("field, value, error", [
    ("email", "", "e-mail address"),
    ("email", "not-an-address", "valid e-mail address"),
    ("message", "   ", "message"),
    ("message", "x" * 5001, "5000"),
    ("name", "", "name"),
    ("phone", "12", "valid phone number"),
    ("reason", "", ""),
])
def test_bad_input_is_a_form_error_and_nothing_is_stored(client, org, reasons, field, value,
                                                         error):
    data = _data(reasons)
    data[field] = value
    response = client.post("/public/contact/alpha/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert error.lower() in response.content.decode().lower()
    assert 'class="field-error"' in response.content.decode()
    assert not InboundMessage.objects.exists() and not Case.objects.exists()


def test_a_topic_of_another_client_is_refused(client, org, reasons):
    other = ContactReason.objects.get(client=org.bravo)
    response = client.post("/public/contact/alpha/", _data(other))
    assert response.status_code == 400 and not Case.objects.exists()


def test_form_then_fixing_the_error_keeps_the_nonce_so_one_case(client, org, reasons):
    data = _data(reasons, email="bad")
    assert client.post("/public/contact/alpha/", data).status_code == 400
    data["email"] = "dewi@example.co.id"
    assert client.post("/public/contact/alpha/", data).status_code == 302
    assert client.post("/public/contact/alpha/", data).status_code == 302
    assert Case.objects.count() == 1


def test_unknown_or_inactive_client_is_404(client, org):
    assert client.get("/public/contact/nobody/").status_code == 404
    org.bravo.is_active = False
    org.bravo.save()
    assert client.get("/public/contact/bravo/").status_code == 404
    assert client.post("/public/contact/bravo/", {}).status_code == 404


def test_huge_request_body_is_refused_before_reading(client, org, reasons):
    response = client.post("/public/contact/alpha/", _data(reasons, message="x" * 2_000_000))
    assert response.status_code in (400, 413)
    assert not Case.objects.exists()


def test_a_thanks_link_cannot_be_forged(client, org):
    assert client.get("/public/contact/alpha/thanks/forged/").status_code == 404


def test_no_client_without_a_form_topic_works_without_topic(client, org):
    data = _data(None)
    data["reason"] = ""
    assert client.post("/public/contact/alpha/", data).status_code == 302
    case = Case.objects.get()
    assert case.reason is None and case.subject == "Kartu saya terblokir."


def test_a_processing_failure_still_thanks_the_visitor_and_keeps_the_message(
        client, org, reasons, monkeypatch):
    from satupintu.portal import services

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(services.inbox, "deliver", broken)
    response = client.post("/public/contact/alpha/", _data(reasons))
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200 and "SP-" not in page.content.decode()
    message = InboundMessage.objects.get()
    assert message.status == InboundStatus.FAILED
    monkeypatch.undo()
    from satupintu.inbox import services as inbox

    inbox.process(message)
    assert Case.objects.count() == 1
    assert Case.objects.get().reference in client.get(response["Location"]).content.decode()


def test_the_notice_is_a_proper_email_through_the_mail_channel(client, org, reasons):
    mail = pytest.importorskip("satupintu.mail.services")
    client.post("/public/contact/alpha/", _data(reasons))
    case = Case.objects.get()
    message = mail.build_email(OutboundMessage.objects.get(kind="notice"))
    assert case.reference in message["Subject"] and message["To"] == "dewi@example.co.id"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert case.reference in text and _linked_reference(text) == case.reference
    assert case.reference in html and "<strong>" in html
