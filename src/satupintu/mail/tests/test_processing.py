"""Processing into cases: threading rules, loop protection, quarantine reasons."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from satupintu.cases.models import Case, CaseEvent, Status
from satupintu.inbox.models import InboundMessage, InboundStatus, OutboundMessage
from satupintu.mail import services
from satupintu.mail.models import MailThread
from satupintu.mail.tests.conftest import make_mail

pytestmark = pytest.mark.django_db


def receive(raw: bytes, to: str = "halo@alpha.example", mail_from: str | None = "x@y.example",
            source: str = "smtp") -> InboundMessage:
    return services.receive_and_process(raw, recipients=[to], mail_from=mail_from,
                                        source=source)


def test_new_mail_opens_a_case_with_the_address_defaults(addresses: SimpleNamespace,
                                                         org: SimpleNamespace) -> None:
    row = receive(make_mail(message_id="<m1@pelanggan.example>"))
    assert row.status == InboundStatus.PROCESSED, row.reason
    case = row.case
    assert case.client == org.alpha and case.team == org.team_a and case.priority == "high"
    assert case.channel == "email" and case.subject == "Kartu kredit terblokir"
    assert case.customer.name == "Budi Santoso"
    assert row.event.body.startswith("Selamat siang")
    assert row.event.data["message_id"] == "m1@pelanggan.example"
    assert MailThread.objects.get(message_id="m1@pelanggan.example").case == case
    assert "mail_from" in row.meta and "x@y.example" not in str(row.meta)  # encrypted


def test_reply_threads_by_in_reply_to(addresses: SimpleNamespace) -> None:
    first = receive(make_mail(message_id="<t1@p.example>"))
    reply = receive(make_mail(subject="Re: sesuatu yang lain", message_id="<t2@p.example>",
                              sender="Orang Lain <lain@p.example>",
                              headers={"In-Reply-To": "<t1@p.example>"}))
    assert reply.case == first.case
    third = receive(make_mail(subject="lagi", message_id="<t3@p.example>",
                              headers={"References": "<zzz@x> <t2@p.example>"}))
    assert third.case == first.case
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(kind="inbound").count() == 3


def test_reference_in_subject_only_for_the_same_customer(addresses: SimpleNamespace) -> None:
    first = receive(make_mail(message_id="<r1@p.example>"))
    ref = first.case.reference
    same = receive(make_mail(subject=f"Re: [{ref}] kartu", message_id="<r2@p.example>"))
    assert same.case == first.case
    other = receive(make_mail(subject=f"Soal {ref}", message_id="<r3@p.example>",
                              sender="penipu@lain.example"))
    assert other.case != first.case  # a guessed reference does not reach someone's case


def test_message_id_of_another_client_does_not_thread(addresses: SimpleNamespace) -> None:
    first = receive(make_mail(message_id="<c1@p.example>"))
    other = receive(make_mail(to="cs@bravo.example", message_id="<c2@p.example>",
                              headers={"In-Reply-To": "<c1@p.example>"}), to="cs@bravo.example")
    assert other.case.client_id != first.case.client_id


def test_same_message_id_twice_is_one_interaction(addresses: SimpleNamespace) -> None:
    raw = make_mail(message_id="<dup@p.example>")
    a = receive(raw)
    b = receive(raw)
    assert a.pk == b.pk
    assert CaseEvent.objects.filter(kind="inbound").count() == 1
    assert InboundMessage.objects.count() == 1


@pytest.mark.parametrize("headers,mail_from,sender,raw_extra", [
    ({"Auto-Submitted": "auto-replied"}, "x@y.example", None, None),
    ({"X-Autoreply": "yes"}, "x@y.example", None, None),
    ({"Precedence": "bulk"}, "x@y.example", None, None),
    ({"Precedence": "list"}, "x@y.example", None, None),
    ({}, "", None, None),  # null envelope sender: a bounce
    ({}, "x@y.example", "MAILER-DAEMON@mx.example", None),
    ({services.LOOP_HEADER: "someone"}, "x@y.example", None, None),
    ({}, "x@y.example", None, "Balasan otomatis: Kartu kredit"),
])
def test_automatic_mail_never_opens_a_case(addresses: SimpleNamespace, headers: dict[str, str],
                                           mail_from: str, sender: str | None,
                                           raw_extra: str | None) -> None:
    raw = make_mail(headers=headers, sender=sender or "budi@p.example",
                    subject=raw_extra or "Kartu kredit")
    row = receive(raw, mail_from=mail_from)
    assert row.status == InboundStatus.IGNORED and row.reason
    assert not Case.objects.exists() and not OutboundMessage.objects.exists()


def test_delivery_status_notification_is_a_bounce(addresses: SimpleNamespace) -> None:
    raw = (b"From: Mail Delivery System <bounces@mx.example>\r\nTo: halo@alpha.example\r\n"
           b"Subject: Returned mail\r\nMessage-ID: <dsn1@mx.example>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n"
           b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--b\r\n"
           b"Content-Type: message/delivery-status\r\n\r\nAction: failed\r\n--b--\r\n")
    row = receive(raw)
    assert row.status == InboundStatus.IGNORED
    assert not Case.objects.exists()


def test_identical_messages_from_one_sender_are_rate_limited(addresses: SimpleNamespace,
                                                             settings: Any) -> None:
    settings.MAIL_IDENTICAL_PER_HOUR = 2
    rows = [receive(make_mail(message_id=f"<same{i}@p.example>")) for i in range(4)]
    assert [r.status for r in rows] == ["processed", "processed", "ignored", "ignored"]
    assert CaseEvent.objects.filter(kind="inbound").count() == 2


def test_unknown_address_is_quarantined_with_a_reason(addresses: SimpleNamespace) -> None:
    row = receive(make_mail(to="nobody@unknown.example"), to="nobody@unknown.example")
    assert row.status == InboundStatus.QUARANTINED and row.client is None
    assert "nobody@unknown.example" in row.reason
    assert row.raw.startswith(b"From:")  # kept, not dropped


def test_quarantined_then_address_added_and_retried(addresses: SimpleNamespace,
                                                    org: SimpleNamespace) -> None:
    from satupintu.inbox import services as inbox

    row = receive(make_mail(to="baru@alpha.example"), to="baru@alpha.example")
    assert row.status == InboundStatus.QUARANTINED
    services.save_address(org.alpha, "baru@alpha.example", by=None)
    row = inbox.retry_quarantined(row, by=org.root)
    assert row.status == InboundStatus.PROCESSED and row.client == org.alpha
    assert row.case.client == org.alpha


def test_invalid_sender_is_quarantined(addresses: SimpleNamespace) -> None:
    row = receive(make_mail(sender="not an address"))
    assert row.status == InboundStatus.QUARANTINED
    assert "sender" in row.reason.lower() or "pengirim" in row.reason.lower()


def test_attachments_kept_on_the_case(addresses: SimpleNamespace) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "budi@p.example", "halo@alpha.example", "Bukti"
    msg["Message-ID"] = "<att@p.example>"
    msg.set_content("Terlampir.")
    msg.add_alternative('<p>Terlampir <img src="cid:img1"></p>', subtype="html")
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
           b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
           b"\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
    msg.get_payload()[1].add_related(png, maintype="image", subtype="png", cid="<img1>")
    msg.add_attachment(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                       maintype="application", subtype="pdf", filename="bukti.pdf")
    msg.add_attachment(b"MZ\x90\x00evil", maintype="application", subtype="octet-stream",
                       filename="virus.exe")
    row = receive(msg.as_bytes())
    assert row.status == InboundStatus.PROCESSED, row.last_error
    names = sorted(a.original_name for a in row.case.attachments.all())
    assert "bukti.pdf" in names and any(n.endswith(".png") for n in names)
    assert "virus.exe" not in names  # not a type agents may open; still in the raw message
    assert "virus.exe" in row.event.data["attachments"]


def test_html_only_mail_keeps_sanitised_html(addresses: SimpleNamespace) -> None:
    raw = (b"From: budi@p.example\r\nTo: halo@alpha.example\r\nSubject: html\r\n"
           b"Message-ID: <h1@p.example>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           b"<p>Halo</p><script>alert(1)</script><p onmouseover=x()>dua</p>")
    row = receive(raw)
    assert row.event.body == "Halo\ndua"
    assert "script" not in row.event.data["html"] and "onmouseover" not in row.event.data["html"]


def test_resolved_case_reopens_on_reply(addresses: SimpleNamespace, org: SimpleNamespace) -> None:
    from satupintu.cases import services as cases

    first = receive(make_mail(message_id="<o1@p.example>"))
    cases.change_status(first.case, "open", by=org.alice)
    cases.change_status(first.case, "resolved", by=org.alice)
    again = receive(make_mail(message_id="<o2@p.example>",
                              headers={"In-Reply-To": "<o1@p.example>"}))
    assert again.case == first.case
    assert Case.objects.get(pk=first.case.pk).status == Status.OPEN
