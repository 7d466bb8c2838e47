"""IMAP polling: UID based, UIDVALIDITY checked, raw stored before the message is flagged.

A mailbox keeps the last UID it stored. A new UIDVALIDITY (the server renumbered the folder)
starts again from UID 1; the Message-ID deduplication of the inbox core makes that safe.
``\\Seen`` is set only after the message is committed, so a crash in between means the next
poll stores it again (deduplicated), never that it is lost. A mailbox that fails records the
error on itself and does not stop the others.
"""

from __future__ import annotations

import contextlib
import logging

from django.utils import timezone
from django.utils.translation import gettext as _
from imapclient import IMAPClient

from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundStatus
from satupintu.mail import services
from satupintu.mail.models import Mailbox

log = logging.getLogger(__name__)

BATCH = 50
TIMEOUT = 30


def poll_mailbox(mailbox: Mailbox, *, limit: int = 500) -> int:
    """Fetch what is new in one mailbox; returns how many messages were stored."""
    stored = 0
    client = IMAPClient(mailbox.host, port=mailbox.port, ssl=mailbox.use_tls, timeout=TIMEOUT)
    try:
        client.login(mailbox.username, mailbox.password)
        info = client.select_folder(mailbox.folder)
        validity = int(info[b"UIDVALIDITY"])
        if mailbox.uidvalidity != validity:
            if mailbox.uidvalidity is not None:
                log.warning("mailbox %s: UIDVALIDITY changed, reading the folder again",
                            mailbox.pk)
            mailbox.uidvalidity, mailbox.last_uid = validity, 0
            mailbox.save(update_fields=["uidvalidity", "last_uid"])
        uids = sorted(u for u in client.search(["UID", f"{mailbox.last_uid + 1}:*"])
                      if u > mailbox.last_uid)[:limit]
        notes: list[str] = []
        for start in range(0, len(uids), BATCH):
            chunk = uids[start:start + BATCH]
            sizes = client.fetch(chunk, ["RFC822.SIZE"])
            small = [u for u in chunk if not services.too_large(int(sizes.get(u, {}).get(
                b"RFC822.SIZE", 0)))]
            for uid in chunk:
                if uid not in small:  # left in the mailbox, unflagged, for a person to see
                    notes.append(_("Message UID %(uid)d is larger than the limit; it was left "
                                   "in the mailbox.") % {"uid": uid})
            bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
            for uid in chunk:
                raw = bodies.get(uid, {}).get(b"BODY[]")
                if uid in small and isinstance(raw, bytes):
                    row, _created = services.receive(
                        raw, recipients=[mailbox.address.address] if mailbox.address else [],
                        mail_from=None, source="imap", address=mailbox.address,
                        client=mailbox.client)
                    client.add_flags([uid], [b"\\Seen"])
                    stored += 1
                    if row.status == InboundStatus.RECEIVED:
                        inbox.process(row)
                mailbox.last_uid = uid
                mailbox.save(update_fields=["last_uid"])
        mailbox.last_polled_at = timezone.now()
        mailbox.last_error = "\n".join(notes)[:2000]
        mailbox.save(update_fields=["last_polled_at", "last_error"])
    finally:
        with contextlib.suppress(Exception):  # the connection may already be gone
            client.logout()
    return stored


def poll_all() -> dict[int, int | str]:
    """Poll every active mailbox; one failing mailbox is recorded and skipped."""
    results: dict[int, int | str] = {}
    for mailbox in Mailbox.objects.filter(is_active=True).select_related("address", "client"):
        try:
            results[mailbox.pk] = poll_mailbox(mailbox)
        except Exception as exc:
            log.warning("polling mailbox %s failed: %s", mailbox.pk, exc)
            message = f"{type(exc).__name__}: {exc}"[:2000]
            Mailbox.objects.filter(pk=mailbox.pk).update(last_error=message,
                                                         last_error_at=timezone.now())
            results[mailbox.pk] = message
    return results
