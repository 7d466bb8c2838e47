"""Real SMTP and LMTP: smtplib to our aiosmtpd endpoint on a free port."""

from __future__ import annotations

import smtplib
import socket
from types import SimpleNamespace
from typing import Any

import pytest

from satupintu.cases.models import Case, CaseEvent
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage, InboundStatus
from satupintu.mail.tests.conftest import make_mail


def send(endpoint: SimpleNamespace, raw: bytes, to: str = "halo@alpha.example",
         mail_from: str = "budi@pelanggan.example") -> dict[str, Any]:
    with smtplib.SMTP(endpoint.host, endpoint.port, timeout=30) as smtp:
        refused = smtp.sendmail(mail_from, [to], raw)
    assert endpoint.handler.wait_idle(20)
    return refused


def test_mail_over_smtp_becomes_a_case_on_the_timeline(endpoint: SimpleNamespace,
                                                       addresses: SimpleNamespace,
                                                       org: SimpleNamespace, client: Any,
                                                       login: Any) -> None:
    send(endpoint, make_mail(message_id="<smtp1@p.example>",
                             html="<p>Selamat siang, <b>kartu</b> saya terblokir.</p>"))
    row = InboundMessage.objects.get()
    assert row.status == InboundStatus.PROCESSED and row.meta["source"] == "smtp"
    case = Case.objects.get()
    assert case.client == org.alpha and case.team == org.team_a
    login(client, org.alice)
    page = client.get(f"/cases/{case.reference}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "kartu saya terblokir" in html
    assert "<b>kartu</b>" in html  # the sanitised HTML view of the e-mail


def test_same_message_twice_over_smtp_is_one_interaction(endpoint: SimpleNamespace,
                                                         addresses: SimpleNamespace) -> None:
    raw = make_mail(message_id="<twice@p.example>")
    send(endpoint, raw)
    send(endpoint, raw)
    assert InboundMessage.objects.count() == 1
    assert CaseEvent.objects.filter(kind="inbound").count() == 1


def test_fifty_megabytes_refused_cleanly(endpoint: SimpleNamespace,
                                         addresses: SimpleNamespace) -> None:
    big = make_mail(body="x" * 10) + (b"A" * 76 + b"\r\n") * (50 * 1024 * 1024 // 78)
    with smtplib.SMTP(endpoint.host, endpoint.port, timeout=60) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("size")
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # SIZE announced: refused
            smtp.sendmail("budi@p.example", ["halo@alpha.example"], big)
        assert refused.value.smtp_code == 552
        # A client that does not announce the size is refused after DATA.
        smtp.rset()
        code, _msg = smtp.mail("budi@p.example")
        assert code == 250
        smtp.rcpt("halo@alpha.example")
        code, _msg = smtp.data(big)
        assert code == 552
        # The connection still works afterwards.
        assert smtp.noop()[0] == 250
    assert not InboundMessage.objects.exists()
    send(endpoint, make_mail(message_id="<after-big@p.example>"))
    assert InboundMessage.objects.get().status == InboundStatus.PROCESSED


def test_bad_bytes_never_break_the_server(endpoint: SimpleNamespace,
                                          addresses: SimpleNamespace) -> None:
    bad = [
        b"From: budi@p.example\r\nSubject: \xff\xfe\r\nMessage-ID: <bad1@p.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nsaldo \xc3\x28 hilang\r\n",
        b"From: budi@p.example\r\nMessage-ID: <bad2@p.example>\r\nContent-Type: multipart/"
        b"mixed; boundary=zz\r\n\r\n--qq\r\nnot closed",
        b"\x00\x01\x02 total garbage, no headers at all\r\n",
    ]
    for raw in bad:
        send(endpoint, raw)
    rows = list(InboundMessage.objects.order_by("id"))
    assert len(rows) == 3  # every one stored: none lost
    assert rows[0].status == InboundStatus.PROCESSED
    assert "hilang" in rows[0].event.body
    assert rows[1].status == InboundStatus.PROCESSED
    assert rows[2].status == InboundStatus.QUARANTINED and rows[2].reason
    send(endpoint, make_mail(message_id="<still-alive@p.example>"))
    assert InboundMessage.objects.count() == 4


def test_unknown_address_stored_as_quarantined(endpoint: SimpleNamespace,
                                               addresses: SimpleNamespace) -> None:
    send(endpoint, make_mail(to="siapa@tidak-ada.example"), to="siapa@tidak-ada.example")
    row = InboundMessage.objects.get()
    assert row.status == InboundStatus.QUARANTINED
    assert "siapa@tidak-ada.example" in row.reason


def test_unknown_address_rejected_at_rcpt_when_configured(endpoint: SimpleNamespace,
                                                          addresses: SimpleNamespace,
                                                          settings: Any) -> None:
    settings.MAIL_UNKNOWN_RECIPIENT = "reject"
    with smtplib.SMTP(endpoint.host, endpoint.port, timeout=30) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail("a@p.example", ["siapa@tidak-ada.example"], make_mail())
        assert refused.value.recipients["siapa@tidak-ada.example"][0] == 550
    assert not InboundMessage.objects.exists()


def test_processing_failure_keeps_the_message_and_recover_retries(
        endpoint: SimpleNamespace, addresses: SimpleNamespace, monkeypatch: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from satupintu.mail import services

    real = services.process_email
    calls = {"n": 0}

    def flaky(message: InboundMessage) -> Any:
        calls["n"] += 1
        if calls["n"] <= 3:
            raise RuntimeError("database hiccup")
        return real(message)

    monkeypatch.setitem(inbox._PROCESSORS, "email", flaky)
    for i in range(3):
        send(endpoint, make_mail(message_id=f"<flaky{i}@p.example>", subject=f"Soal {i}"))
    rows = list(InboundMessage.objects.all())
    assert len(rows) == 3 and all(r.status == InboundStatus.FAILED for r in rows)
    assert not Case.objects.exists()  # the failed processing wrote nothing
    inbox.recover(now=timezone.now() + timedelta(hours=1))
    assert InboundMessage.objects.filter(status=InboundStatus.PROCESSED).count() == 3
    assert Case.objects.count() == 3  # zero lost, zero duplicated
    assert CaseEvent.objects.filter(kind="inbound").count() == 3


def test_lmtp_answers_per_recipient(lmtp_endpoint: SimpleNamespace,
                                    addresses: SimpleNamespace) -> None:
    # smtplib.LMTP reads one reply after DATA; RFC 2033 sends one per recipient, so talk
    # the protocol by hand.
    raw = make_mail(message_id="<lmtp1@p.example>")
    with socket.create_connection((lmtp_endpoint.host, lmtp_endpoint.port), timeout=30) as s:
        f = s.makefile("rb")

        def reply() -> bytes:
            lines = [f.readline()]
            while lines[-1][3:4] == b"-":
                lines.append(f.readline())
            return lines[-1]

        assert reply().startswith(b"220")
        for line in (b"LHLO mx.example\r\n", b"MAIL FROM:<budi@p.example>\r\n",
                     b"RCPT TO:<halo@alpha.example>\r\n", b"RCPT TO:<cs@bravo.example>\r\n",
                     b"DATA\r\n"):
            s.sendall(line)
            assert reply()[:1] in {b"2", b"3"}
        s.sendall(raw.replace(b"\n.", b"\n..") + b"\r\n.\r\n")
        assert reply().startswith(b"250") and reply().startswith(b"250")  # one per recipient
        s.sendall(b"QUIT\r\n")
    assert lmtp_endpoint.handler.wait_idle(20)
    row = InboundMessage.objects.get()
    assert row.status == InboundStatus.PROCESSED and row.meta["source"] == "lmtp"


def test_connection_dropped_mid_data_stores_nothing_and_server_survives(
        endpoint: SimpleNamespace, addresses: SimpleNamespace) -> None:
    with socket.create_connection((endpoint.host, endpoint.port), timeout=10) as s:
        s.recv(1000)
        for line in (b"EHLO x\r\n", b"MAIL FROM:<a@p.example>\r\n",
                     b"RCPT TO:<halo@alpha.example>\r\n", b"DATA\r\n"):
            s.sendall(line)
            s.recv(1000)
        s.sendall(b"Subject: half\r\n\r\nonly half of it")
    send(endpoint, make_mail(message_id="<after-drop@p.example>"))
    assert InboundMessage.objects.count() == 1  # the half message was never acknowledged


def test_killed_after_250_before_processing_is_recovered(endpoint: SimpleNamespace,
                                                         addresses: SimpleNamespace) -> None:
    """The process dies right after answering 250: the stored rows are processed by the
    periodic recovery, once each."""
    from datetime import timedelta

    from django.utils import timezone

    endpoint.handler.process = False  # as if the process were killed after the answer
    for i in range(5):
        send(endpoint, make_mail(message_id=f"<killed{i}@p.example>", subject=f"Soal {i}"))
    assert InboundMessage.objects.filter(status=InboundStatus.RECEIVED).count() == 5
    assert inbox.recover() == 0  # not stale yet: a live process may still be on it
    inbox.recover(now=timezone.now() + timedelta(minutes=5))
    inbox.recover(now=timezone.now() + timedelta(minutes=10))
    assert InboundMessage.objects.filter(status=InboundStatus.PROCESSED).count() == 5
    assert CaseEvent.objects.filter(kind="inbound").count() == 5
