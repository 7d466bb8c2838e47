"""IMAP polling against a real Dovecot (Debian's dovecot-imapd) started by the test."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from satupintu.cases.models import Case, CaseEvent
from satupintu.inbox.models import InboundMessage, InboundStatus
from satupintu.mail import imap, services
from satupintu.mail.models import Mailbox
from satupintu.mail.tests.conftest import Dovecot, make_mail

pytestmark = pytest.mark.django_db

USER = "cs@alpha.example"


@pytest.fixture
def mailbox(dovecot: Dovecot, addresses: SimpleNamespace, org: SimpleNamespace) -> Mailbox:
    return services.save_mailbox(org.alpha, by=None, host="127.0.0.1", port=dovecot.port,
                                 use_tls=False, username=USER, password="rahasia-imap",
                                 address=addresses.alpha)


def append(dovecot: Dovecot, *raws: bytes) -> None:
    c = dovecot.client(USER)
    for raw in raws:
        c.append("INBOX", raw)
    c.logout()


def flags(dovecot: Dovecot) -> dict[int, tuple[bytes, ...]]:
    c = dovecot.client(USER)
    c.select_folder("INBOX", readonly=True)
    uids = c.search(["ALL"])
    found = {uid: data[b"FLAGS"] for uid, data in c.fetch(uids, ["FLAGS"]).items()}
    c.logout()
    return found


def test_poll_stores_processes_and_flags_seen(dovecot: Dovecot, mailbox: Mailbox,
                                              org: SimpleNamespace) -> None:
    assert Mailbox.objects.get().password == "rahasia-imap"
    append(dovecot, make_mail(message_id="<imap1@p.example>"),
           make_mail(message_id="<imap2@p.example>", subject="Pertanyaan lain",
                     sender="sari@p.example"))
    assert imap.poll_mailbox(mailbox) == 2
    assert InboundMessage.objects.filter(status=InboundStatus.PROCESSED).count() == 2
    assert Case.objects.filter(client=org.alpha, team=org.team_a).count() == 2
    assert all(b"\\Seen" in f for f in flags(dovecot).values())
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2 and mailbox.uidvalidity and mailbox.last_error == ""
    # Nothing new: nothing stored again.
    assert imap.poll_mailbox(mailbox) == 0
    append(dovecot, make_mail(message_id="<imap3@p.example>",
                              headers={"In-Reply-To": "<imap1@p.example>"}))
    assert imap.poll_mailbox(mailbox) == 1
    assert CaseEvent.objects.filter(kind="inbound").count() == 3 and Case.objects.count() == 2


def test_uidvalidity_change_reads_again_without_duplicates(dovecot: Dovecot,
                                                           mailbox: Mailbox) -> None:
    append(dovecot, make_mail(message_id="<uv1@p.example>"))
    imap.poll_mailbox(mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=1, last_uid=99)
    mailbox.refresh_from_db()
    append(dovecot, make_mail(message_id="<uv2@p.example>"))
    imap.poll_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity != 1 and mailbox.last_uid == 2
    assert InboundMessage.objects.count() == 2  # uv1 again was deduplicated
    assert CaseEvent.objects.filter(kind="inbound").count() == 2


def test_crash_before_flagging_loses_nothing(dovecot: Dovecot, mailbox: Mailbox,
                                            monkeypatch: Any) -> None:
    append(dovecot, make_mail(message_id="<cr1@p.example>"), make_mail(message_id="<cr2@p.e>"))
    from imapclient import IMAPClient

    def boom(self: Any, *args: Any, **kwargs: Any) -> None:
        raise ConnectionError("connection lost")

    monkeypatch.setattr(IMAPClient, "add_flags", boom)
    imap.poll_all()
    mailbox.refresh_from_db()
    assert "connection lost" in mailbox.last_error
    assert InboundMessage.objects.count() == 1  # stored before the flag failed
    monkeypatch.undo()
    imap.poll_all()
    assert InboundMessage.objects.count() == 2
    assert CaseEvent.objects.filter(kind="inbound").count() == 2
    assert all(b"\\Seen" in f for f in flags(dovecot).values())


def test_one_broken_mailbox_does_not_stop_the_others(dovecot: Dovecot, mailbox: Mailbox,
                                                     org: SimpleNamespace) -> None:
    broken = services.save_mailbox(org.bravo, by=None, host="127.0.0.1", port=dovecot.port,
                                   use_tls=False, username=USER, password="salah")
    append(dovecot, make_mail(message_id="<ok1@p.example>"))
    results = imap.poll_all()
    assert results[mailbox.pk] == 1
    broken.refresh_from_db()
    assert broken.last_error and broken.last_error_at is not None
    assert InboundMessage.objects.get().client == org.alpha


def test_oversized_message_left_in_the_mailbox(dovecot: Dovecot, mailbox: Mailbox,
                                               settings: Any) -> None:
    settings.MAIL_MAX_MESSAGE_BYTES = 2000
    append(dovecot, make_mail(message_id="<big@p.example>", body="x" * 5000),
           make_mail(message_id="<small@p.example>"))
    assert imap.poll_mailbox(mailbox) == 1
    mailbox.refresh_from_db()
    assert "UID 1" in mailbox.last_error and mailbox.last_uid == 2
    f = flags(dovecot)
    assert b"\\Seen" not in f[1] and b"\\Seen" in f[2]
