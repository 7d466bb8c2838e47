"""Replies over real SMTP to a local sink: headers, threading, retries, loop protection."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from satupintu.cases import services as cases
from satupintu.cases.models import Case, CaseEvent
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundStatus, OutboundMessage, OutboundStatus
from satupintu.mail import services
from satupintu.mail.models import MailThread
from satupintu.mail.tests.conftest import Sink, make_mail

pytestmark = pytest.mark.django_db


def inbound(raw: bytes, to: str = "halo@alpha.example") -> Any:
    return services.receive_and_process(raw, recipients=[to], mail_from="budi@p.example",
                                        source="smtp")


def agent_reply(case: Case, user: Any, body: str, capture: Any) -> CaseEvent:
    with capture(execute=True):
        return cases.reply(Case.objects.get(pk=case.pk), body, by=user)


def test_reply_goes_out_threaded_with_every_header(addresses: SimpleNamespace,
                                                   org: SimpleNamespace, sink: Sink,
                                                   django_capture_on_commit_callbacks: Any,
                                                   settings: Any) -> None:
    first = inbound(make_mail(message_id="<cust1@p.example>"))
    case = first.case
    agent_reply(case, org.alice, "Baik Pak Budi, kartu Anda sudah kami buka kembali.",
                django_capture_on_commit_callbacks)
    assert len(sink.messages) == 1
    out = sink.messages[0]
    msg = out.msg
    assert out.rcpt_tos == ["budi@pelanggan.example"]
    assert msg["From"].addresses[0].addr_spec == "halo@alpha.example"
    assert msg["From"].addresses[0].display_name == "Alpha Bank CS"
    assert case.reference in str(msg["Subject"])
    assert msg["In-Reply-To"] == "<cust1@p.example>"
    assert "<cust1@p.example>" in msg["References"]
    assert msg[services.LOOP_HEADER] == settings.MAIL_LOOP_TOKEN
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "kartu Anda sudah kami buka kembali" in text and "kartu Anda" in html
    assert "/public/status/" in text and "/public/status/" in html
    message_id = msg["Message-ID"].strip("<>")
    row = OutboundMessage.objects.get()
    assert row.status == OutboundStatus.SENT and row.external_id == f"<{message_id}>"
    assert MailThread.objects.get(message_id=message_id).inbound is False
    # The customer answers our mail: it lands on the same case by In-Reply-To.
    answer = inbound(make_mail(subject="Re: terima kasih", message_id="<cust2@p.example>",
                               headers={"In-Reply-To": f"<{message_id}>"}))
    assert answer.case == case
    # A second reply references both customer messages and our first reply.
    agent_reply(case, org.alice, "Sama-sama.", django_capture_on_commit_callbacks)
    second = sink.messages[1].msg
    assert second["In-Reply-To"] == "<cust2@p.example>"
    refs = second["References"].split()
    assert refs == ["<cust1@p.example>", f"<{message_id}>", "<cust2@p.example>"]


def test_sink_down_then_back_sends_exactly_once(addresses: SimpleNamespace,
                                               org: SimpleNamespace, sink: Sink,
                                               django_capture_on_commit_callbacks: Any,
                                               client: Any, login: Any) -> None:
    case = inbound(make_mail(message_id="<down1@p.example>")).case
    sink.stop()
    agent_reply(case, org.alice, "Balasan pertama.", django_capture_on_commit_callbacks)
    agent_reply(case, org.alice, "Balasan kedua.", django_capture_on_commit_callbacks)
    rows = list(OutboundMessage.objects.order_by("id"))
    assert [r.status for r in rows] == [OutboundStatus.FAILED] * 2
    assert all(r.last_error and r.attempts == 1 for r in rows)
    login(client, org.alice)
    page = client.get(f"/cases/{case.reference}/").content.decode()
    assert "retrying" in page or "mencoba" in page
    # Not due yet: nothing is sent early.
    inbox.send_due()
    assert OutboundMessage.objects.filter(status=OutboundStatus.FAILED).count() == 2
    sink.start()
    later = timezone.now() + timedelta(hours=1)
    inbox.send_due(now=later)
    inbox.send_due(now=later + timedelta(hours=1))  # a second run sends nothing again
    assert [r.status for r in OutboundMessage.objects.order_by("id")] == ["sent", "sent"]
    bodies = [m.msg.get_body(("plain",)).get_content() for m in sink.messages]
    assert len(sink.messages) == 2  # zero lost, zero duplicated
    assert "Balasan pertama." in bodies[0] and "Balasan kedua." in bodies[1]
    page = client.get(f"/cases/{case.reference}/").content.decode()
    assert page.count("delivery-sent") == 2


def test_dead_message_shown_as_not_delivered(addresses: SimpleNamespace, org: SimpleNamespace,
                                             sink: Sink, django_capture_on_commit_callbacks: Any,
                                             client: Any, login: Any) -> None:
    case = inbound(make_mail(message_id="<dead1@p.example>")).case
    sink.stop()
    agent_reply(case, org.alice, "Tidak akan sampai.", django_capture_on_commit_callbacks)
    now = timezone.now()
    for step in range(1, inbox.MAX_ATTEMPTS + 1):
        inbox.send_due(now=now + timedelta(days=step))
    assert OutboundMessage.objects.get().status == OutboundStatus.DEAD
    login(client, org.alice)
    page = client.get(f"/cases/{case.reference}/").content.decode()
    assert "delivery-dead" in page


def test_auto_reply_to_our_reply_is_not_answered(addresses: SimpleNamespace,
                                                 org: SimpleNamespace, sink: Sink,
                                                 django_capture_on_commit_callbacks: Any) -> None:
    case = inbound(make_mail(message_id="<loop1@p.example>")).case
    agent_reply(case, org.alice, "Kami proses.", django_capture_on_commit_callbacks)
    ours = sink.messages[0].msg
    # The customer's out-of-office answers us; it would echo our headers back.
    auto = make_mail(subject=f"Automatic reply: {ours['Subject']}", message_id="<ooo@p.example>",
                     headers={"Auto-Submitted": "auto-replied",
                              "In-Reply-To": ours["Message-ID"]})
    with django_capture_on_commit_callbacks(execute=True):
        row = inbound(auto)
    assert row.status == InboundStatus.IGNORED
    assert CaseEvent.objects.filter(case=case, kind="inbound").count() == 1
    assert OutboundMessage.objects.count() == 1 and len(sink.messages) == 1
    # Our own mail delivered back to us (a forwarding loop) is ignored as well.
    with django_capture_on_commit_callbacks(execute=True):
        echoed = inbound(sink.messages[0].raw)
    assert echoed.status == InboundStatus.IGNORED
    assert Case.objects.count() == 1 and len(sink.messages) == 1


def test_web_form_case_replied_by_email_and_chat_case_not(addresses: SimpleNamespace,
                                                          org: SimpleNamespace, sink: Sink,
                                                          django_capture_on_commit_callbacks: Any,
                                                          ) -> None:
    from satupintu.customers.services import find_or_create_contact

    customer = find_or_create_contact(org.alpha, "email", "sari@p.example", name="Sari")
    web = cases.create_case(org.alpha, customer, "Formulir", by=None, body="Halo", channel="web")
    chat = cases.create_case(org.alpha, customer, "Chat", by=None, body="Halo", channel="chat")
    agent_reply(web, org.alice, "Balasan formulir.", django_capture_on_commit_callbacks)
    agent_reply(chat, org.alice, "Balasan chat.", django_capture_on_commit_callbacks)
    assert len(sink.messages) == 1
    assert sink.messages[0].rcpt_tos == ["sari@p.example"]


def test_outbound_language_follows_the_customer(addresses: SimpleNamespace,
                                                org: SimpleNamespace, sink: Sink) -> None:
    from satupintu.customers.services import find_or_create_contact

    customer = find_or_create_contact(org.bravo, "email", "john@p.example", name="John",
                                      language="en")
    case = cases.create_case(org.bravo, customer, "Billing", by=None, body="Hi", channel="email")
    row = inbox.queue_outbound(case, "email", "john@p.example", payload={
        "kind": "notice", "subject": "Your case", "text": "We got it.",
        "html": "<p>We got it.<script>x()</script></p>"})
    inbox.send_one(row)
    msg = sink.messages[0].msg
    assert "Case reference" in msg.get_body(("plain",)).get_content()
    assert msg["Auto-Submitted"] == "auto-generated"  # not a personal reply
    assert "<script>" not in msg.get_body(("html",)).get_content()
    assert str(msg["Subject"]).startswith(f"[{case.reference}]")
