"""Raw first, then process; queue, then send. The one path every channel uses.

A channel adapter (mail, whatsapp, webchat, portal, telephony) does three things:

1. ``store_raw(channel, external_id, raw, client=..., meta=...)`` as soon as the bytes
   arrive: committed on its own, idempotent on (channel, external_id). Only after it
   returns does the adapter acknowledge the delivery (SMTP 250, HTTP 200, chat ack).
2. ``register_processor(channel, fn)`` once at start-up; ``fn(message)`` turns the raw
   message into a case timeline entry (usually through ``deliver``) and returns the
   ``CaseEvent`` (or None when there is nothing to show, e.g. a delivery receipt). It runs
   inside a transaction with the message row locked; raising ``Quarantine`` parks the
   message for an administrator, raising ``Ignore`` marks it ignored (auto-replies, loops),
   any other exception rolls back its writes and schedules a retry.
3. ``process(message)`` right after storing (or let ``recover`` pick it up).

Outbound: ``register_sender(channel, fn)``; ``queue_outbound`` writes an OutboundMessage in
the caller's transaction; ``send_due`` sends what is due with exponential back-off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client
from satupintu.audit import services as audit
from satupintu.cases import services as cases
from satupintu.cases.models import Case, CaseEvent, ContactReason, Priority
from satupintu.customers.services import find_or_create_contact
from satupintu.inbox.models import (
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
    encrypt_bytes,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 30
# A received message not processed after this long is picked up by ``recover``: its
# adapter crashed (or was killed) between storing and processing.
STALE_AFTER = timedelta(seconds=60)


class Quarantine(Exception):
    """Park the message for an administrator (unknown address, unreadable content)."""


class Ignore(Exception):
    """Keep the message but act on nothing (auto-reply, bounce, mail loop, receipt)."""


Processor = Callable[[InboundMessage], CaseEvent | None]
Sender = Callable[[OutboundMessage], str]

_PROCESSORS: dict[str, Processor] = {}
_SENDERS: dict[str, Sender] = {}


def register_processor(channel: str, fn: Processor) -> None:
    _PROCESSORS[channel] = fn


def register_sender(channel: str, fn: Sender) -> None:
    """``fn(outbound)`` sends and returns the channel's id for it (Message-ID, wamid); it
    raises on failure (then the message is retried with back-off)."""
    _SENDERS[channel] = fn


def has_sender(channel: str) -> bool:
    return channel in _SENDERS


# --- inbound --------------------------------------------------------------------------------

def store_raw(channel: str, external_id: str, raw: bytes, *, client: Client | None = None,
              meta: dict[str, Any] | None = None,
              status: str = InboundStatus.RECEIVED, reason: str = "",
              now: datetime | None = None) -> tuple[InboundMessage, bool]:
    """Commit the bytes as received. Returns (message, created); a repeated delivery of
    the same id returns the first row and ``created=False``. Must not run inside another
    transaction: the point is that the row is durable before the sender is told 'ok'."""
    external_id = (external_id or "")[:255]
    if not external_id:
        raise ValueError("an inbound message needs the channel's id for it")
    existing = InboundMessage.objects.filter(channel=channel, external_id=external_id).first()
    if existing is not None:
        return existing, False
    row = InboundMessage(channel=channel, external_id=external_id, client=client,
                         raw_encrypted=encrypt_bytes(raw), size=len(raw), meta=meta or {},
                         status=status, reason=reason[:200], received_at=now or timezone.now())
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # the same delivery, concurrently
        return InboundMessage.objects.get(channel=channel, external_id=external_id), False
    if status == InboundStatus.QUARANTINED:
        _audit_quarantine(row)
    return row, True


def _audit_quarantine(row: InboundMessage) -> None:
    audit.record("inbox.quarantined", actor=None, obj=row, client=row.client,
                 data={"channel": row.channel, "reason": row.reason})


def process(message: InboundMessage) -> InboundMessage:
    """Turn one stored message into its case entry, exactly once."""
    fn = _PROCESSORS.get(message.channel)
    if fn is None:
        raise LookupError(f"no processor registered for channel {message.channel!r}")
    try:
        with transaction.atomic():
            row = InboundMessage.objects.select_for_update().get(pk=message.pk)
            if row.status not in (InboundStatus.RECEIVED, InboundStatus.FAILED):
                return row
            try:
                with transaction.atomic():  # a quarantined/ignored message leaves no writes
                    event = fn(row)
            except Quarantine as exc:
                row.status, row.reason = InboundStatus.QUARANTINED, str(exc)[:200]
                row.processed_at = timezone.now()
                row.save(update_fields=["status", "reason", "processed_at"])
                _audit_quarantine(row)
                return row
            except Ignore as exc:
                row.status, row.reason = InboundStatus.IGNORED, str(exc)[:200]
                row.processed_at = timezone.now()
                row.save(update_fields=["status", "reason", "processed_at"])
                return row
            row.status, row.processed_at = InboundStatus.PROCESSED, timezone.now()
            if event is not None:
                row.event, row.case = event, event.case
            row.save(update_fields=["status", "processed_at", "event", "case"])
            return row
    except Exception as exc:  # the processor's writes are rolled back; retry later
        log.exception("processing %s failed", message)
        return _failed(message, exc)


def _failed(message: InboundMessage, exc: Exception) -> InboundMessage:
    row = InboundMessage.objects.get(pk=message.pk)
    row.attempts += 1
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = InboundStatus.QUARANTINED
        row.reason = _("Processing failed %(n)d times.") % {"n": row.attempts}
        _audit_quarantine(row)
    else:
        row.status = InboundStatus.FAILED
        row.next_attempt_at = timezone.now() + timedelta(
            seconds=RETRY_BASE_SECONDS * 2 ** (row.attempts - 1))
    row.save(update_fields=["attempts", "last_error", "status", "reason", "next_attempt_at"])
    return row


def recover(now: datetime | None = None, limit: int = 500) -> int:
    """Process what was stored but not processed (a crash, a kill) and retry failures that
    are due. Returns how many messages were looked at. Run periodically."""
    now = now or timezone.now()
    due = (InboundMessage.objects
           .filter(Q(status=InboundStatus.RECEIVED, received_at__lte=now - STALE_AFTER)
                   | Q(status=InboundStatus.FAILED, next_attempt_at__lte=now))
           .order_by("received_at", "id")[:limit])
    count = 0
    for message in due:
        if message.channel in _PROCESSORS:
            process(message)
            count += 1
    return count


def retry_quarantined(message: InboundMessage, *, by: Any) -> InboundMessage:
    """An administrator sends a quarantined message through processing again (after fixing
    what was wrong, e.g. adding the client's address)."""
    with transaction.atomic():
        row = InboundMessage.objects.select_for_update().get(pk=message.pk)
        if row.status != InboundStatus.QUARANTINED:
            return row
        row.status, row.attempts, row.reason = InboundStatus.RECEIVED, 0, ""
        row.save(update_fields=["status", "attempts", "reason"])
        audit.record("inbox.retried", actor=by, obj=row, client=row.client,
                     data={"channel": row.channel})
    return process(row)


def reveal_raw(message: InboundMessage, *, by: Any, request: Any = None,
               limit: int = 256 * 1024) -> tuple[str, bool]:
    """The raw message as text for an administrator who must see why it failed; audited.
    Returns (text, truncated); undecodable bytes are shown as replacement characters."""
    from django.core.exceptions import PermissionDenied

    from satupintu.accounts.roles import Perm

    if Perm.VIEW_RAW_MESSAGES not in getattr(by, "permissions", ()):
        raise PermissionDenied(_("Your role does not allow this."))
    raw = message.raw
    audit.record("inbox.raw_viewed", actor=by, obj=message, client=message.client,
                 request=request, data={"channel": message.channel, "size": len(raw)})
    return raw[:limit].decode("utf-8", errors="replace"), len(raw) > limit


@dataclass
class Contact:
    """Who wrote and what, as the adapter understood it."""

    client: Client
    channel: str
    identity_kind: str          # an IdentityKind value: email, phone, whatsapp, chat_visitor
    identity_value: str
    body: str
    name: str = ""
    subject: str = ""
    language: str = "id"
    priority: str = Priority.NORMAL
    data: dict[str, Any] = field(default_factory=dict)
    case: Case | None = None    # the case the adapter threaded the message to, if any
    when: datetime | None = None
    reason: ContactReason | None = None  # the topic the customer chose (web form, pre-chat)
    team: Any = None            # a new case's team (e-mail: the receiving address's default)


def deliver(contact: Contact) -> CaseEvent:
    """Put a customer's message on the case timeline: on the threaded case (which reopens
    or spawns a follow-up by the cases rules), else on a new case of the customer found or
    created by identity. Call inside ``process`` (the caller's transaction)."""
    client = contact.client
    body = (contact.body or "").strip() or _("(no text)")
    if len(body) > cases.MAX_BODY:
        contact.data.setdefault("truncated_from", len(body))
        body = body[: cases.MAX_BODY - 1] + "…"
    if contact.case is not None:
        case = cases.receive_customer_message(contact.case, body, channel=contact.channel,
                                              now=contact.when, data=contact.data)
    else:
        customer = find_or_create_contact(client, contact.identity_kind, contact.identity_value,
                                          name=contact.name, language=contact.language)
        subject = " ".join((contact.subject or "").split()) or _first_line(body)
        case = cases.create_case(client, customer, subject, by=None, body=body,
                                 channel=contact.channel, priority=contact.priority,
                                 reason=contact.reason, team=contact.team, now=contact.when,
                                 data=contact.data)
    event = (CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.INBOUND)
             .order_by("-created_at", "-id").first())
    assert event is not None
    event.case = case  # the caller's next read of it needs no query
    return event


def _first_line(body: str) -> str:
    line = body.strip().splitlines()[0] if body.strip() else ""
    return (line[:80] + "…") if len(line) > 80 else (line or _("(no subject)"))


# --- outbound -------------------------------------------------------------------------------

def queue_outbound(case: Case, channel: str, recipient: str, *,
                   event: CaseEvent | None = None,
                   payload: dict[str, Any] | None = None) -> OutboundMessage:
    """Write a message to send in the caller's transaction (it is sent after commit by the
    worker or ``send_due``); the case shows its delivery state."""
    row = OutboundMessage(channel=channel, case=case, event=event, payload=payload or {},
                          created_at=timezone.now(), next_attempt_at=timezone.now())
    row.recipient = recipient
    row.save()
    transaction.on_commit(lambda: _send_soon(row.pk))
    return row


def _send_soon(pk: int) -> None:
    from satupintu.inbox.tasks import send_outbound

    try:
        send_outbound(pk)
    except Exception:  # the periodic ``send_due`` sends it later
        log.exception("could not hand outbound message %s to the task queue", pk)


def send_one(message: OutboundMessage, now: datetime | None = None) -> OutboundMessage:
    fn = _SENDERS.get(message.channel)
    if fn is None:
        raise LookupError(f"no sender registered for channel {message.channel!r}")
    now = now or timezone.now()
    with transaction.atomic():
        row = OutboundMessage.objects.select_for_update(skip_locked=True).filter(
            pk=message.pk, status__in=[OutboundStatus.QUEUED, OutboundStatus.FAILED]).first()
        if row is None:  # sent already, or another worker has it
            return OutboundMessage.objects.get(pk=message.pk)
        try:
            external_id = fn(row)
        except Exception as exc:
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = OutboundStatus.DEAD
                audit.record("inbox.outbound_dead", actor=None, obj=row.case,
                             client=row.case.client,
                             data={"channel": row.channel, "error": row.last_error[:200]})
            else:
                row.status = OutboundStatus.FAILED
                row.next_attempt_at = now + timedelta(
                    seconds=RETRY_BASE_SECONDS * 2 ** (row.attempts - 1))
            row.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return row
        row.status, row.sent_at, row.attempts = OutboundStatus.SENT, now, row.attempts + 1
        row.external_id = (external_id or "")[:255]
        row.save(update_fields=["status", "sent_at", "attempts", "external_id"])
        return row


def retry_outbound(message: OutboundMessage, *, by: Any,
                   request: Any = None) -> OutboundMessage:
    """An administrator sends a failed or undelivered message again, now, with a fresh
    count of attempts (after the mail server or the API is back)."""
    with transaction.atomic():
        row = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        if row.status not in (OutboundStatus.FAILED, OutboundStatus.DEAD):
            return row
        row.status, row.attempts, row.next_attempt_at = OutboundStatus.QUEUED, 0, timezone.now()
        row.save(update_fields=["status", "attempts", "next_attempt_at"])
        audit.record("inbox.outbound_retried", actor=by, obj=row.case, client=row.case.client,
                     request=request, data={"channel": row.channel, "outbound": row.pk})
        transaction.on_commit(lambda: _send_soon(row.pk))
    return row


def send_due(now: datetime | None = None, limit: int = 200) -> int:
    now = now or timezone.now()
    due = list(OutboundMessage.objects.filter(
        status__in=[OutboundStatus.QUEUED, OutboundStatus.FAILED], next_attempt_at__lte=now,
    ).order_by("next_attempt_at", "id")[:limit])
    for message in due:
        if message.channel in _SENDERS:
            send_one(message, now)
    return len(due)
