"""E-mail in and out: receive (raw first), process into cases, thread, send replies.

Inbound (SMTP/LMTP endpoint in ``server``, IMAP polling in ``imap``) calls ``receive``: the
raw bytes are committed through the inbox core before the sender hears "250", then
``process_email`` (the inbox processor for ``email``) parses, recognises auto-replies,
bounces and loops (``Ignore``: never a case, never a reply), threads the message onto its
case and keeps attachments. Outbound: ``send_email`` is the inbox sender for ``email``; a
receiver on ``agent_replied`` queues the e-mail.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client, Team, User
from satupintu.accounts.permissions import require_perm
from satupintu.accounts.roles import Perm
from satupintu.audit import services as audit
from satupintu.cases import services as cases
from satupintu.cases.models import Case, CaseEvent, Channel, Priority
from satupintu.customers.crypto import blind_index, encrypt
from satupintu.customers.identity import IdentityKind, normalise_email
from satupintu.customers.models import CustomerIdentity
from satupintu.customers.services import find_by_identity, resolve
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage, InboundStatus, OutboundMessage
from satupintu.mail import parsing
from satupintu.mail.models import MailAddress, Mailbox, MailFingerprint, MailThread

log = logging.getLogger(__name__)

CHANNEL = Channel.EMAIL
LOOP_HEADER = "X-SatuPintu-Loop"
REFERENCE_RE = re.compile(rf"\b{cases.REFERENCE_PREFIX}-\d{{4}}-\d{{6}}\b")
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic|matisch)?[ -]?(reply|response|antwort)|out of (the )?office|"
    r"balasan otomatis|jawaban otomatis|sedang cuti|di luar kantor|"
    r"(undeliverable|undelivered mail|delivery status notification|mail delivery failed))",
    re.IGNORECASE)
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon")


# --- configuration -------------------------------------------------------------------------

def _require_admin(by: User | None) -> None:
    if by is not None:
        require_perm(by, Perm.MANAGE_ORGANISATION)


@transaction.atomic
def save_address(client: Client, address: str, *, by: User | None,
                 display_name: str = "", default_team: Team | None = None,
                 default_priority: str = Priority.NORMAL, default_language: str = "id",
                 is_active: bool = True, request: HttpRequest | None = None) -> MailAddress:
    """Create or update the receiving address ``address`` for ``client``."""
    _require_admin(by)
    value = normalise_email(address)
    if default_team is not None and not default_team.clients.filter(pk=client.pk).exists():
        raise ValidationError(_("That team does not work for this client."), code="team")
    if default_priority not in Priority.values:
        raise ValidationError(_("Unknown priority: %(priority)s") % {"priority": default_priority})
    row = MailAddress.objects.select_for_update().filter(address=value).first()
    if row is not None and row.client_id != client.pk:
        raise ValidationError(_("Another client already receives mail at this address."),
                              code="address_taken")
    row = row or MailAddress(client=client, address=value)
    row.display_name = display_name[:100]
    row.default_team, row.default_priority = default_team, default_priority
    row.default_language = default_language if default_language in {"id", "en"} else "id"
    row.is_active = is_active
    row.save()
    audit.record("mail.address_saved", actor=by, obj=row, client=client, request=request,
                 data={"address": value, "active": is_active})
    return row


@transaction.atomic
def save_mailbox(client: Client, *, by: User | None, host: str, username: str, password: str,
                 port: int = 993, use_tls: bool = True, folder: str = "INBOX",
                 address: MailAddress | None = None, is_active: bool = True,
                 mailbox: Mailbox | None = None,
                 request: HttpRequest | None = None) -> Mailbox:
    """Add a mailbox, or change ``mailbox`` (an empty password keeps the stored one)."""
    _require_admin(by)
    if address is not None and address.client_id != client.pk:
        raise ValidationError(_("That address belongs to another client."), code="address")
    if not host.strip() or not username.strip():
        raise ValidationError(_("Give the mailbox a host and a user name."), code="required")
    row = mailbox or Mailbox(client=client)
    moved = mailbox is not None and (mailbox.host, mailbox.username, mailbox.folder) != (
        host.strip(), username.strip(), folder or "INBOX")
    row.client, row.host, row.port, row.use_tls = client, host.strip(), port, use_tls
    row.username, row.folder, row.address = username.strip(), folder or "INBOX", address
    row.is_active = is_active
    if password or mailbox is None:
        row.password = password
    if moved:  # another mailbox: its UIDs mean nothing here
        row.uidvalidity, row.last_uid = None, 0
    row.save()
    audit.record("mail.mailbox_saved", actor=by, obj=row, client=client, request=request,
                 data={"host": row.host, "folder": row.folder, "active": is_active})
    return row


def find_address(recipients: list[str]) -> MailAddress | None:
    """The first active receiving address among the envelope recipients."""
    wanted = [r.strip().strip("<>").lower() for r in recipients if r]
    if not wanted:
        return None
    found = {a.address: a for a in MailAddress.objects.select_related("client")
             .filter(address__in=wanted, is_active=True)}
    for value in wanted:
        if value in found:
            return found[value]
    return None


# --- inbound: receive ----------------------------------------------------------------------

def too_large(size: int) -> bool:
    return size > settings.MAIL_MAX_MESSAGE_BYTES


def receive(raw: bytes, *, recipients: list[str], mail_from: str | None, source: str,
            address: MailAddress | None = None,
            client: Client | None = None) -> tuple[InboundMessage, bool]:
    """Commit one message as received (own transaction; call before acknowledging it).
    Mail for an address no client owns is kept, quarantined with the reason."""
    message_id = parsing.quick_message_id(raw)
    external = parsing.external_id(raw, message_id)
    if address is None and client is None:
        address = find_address(recipients)
    client = client or (address.client if address is not None else None)
    meta: dict[str, Any] = {
        "source": source,
        "rcpt": [r.strip().strip("<>").lower()[:254] for r in recipients[:20]],
        "mail_from": encrypt(mail_from) if mail_from else "",
        "null_sender": mail_from is not None and mail_from.strip() in {"", "<>"},
        "address_id": address.pk if address is not None else None,
    }
    if client is None:
        shown = ", ".join(meta["rcpt"][:3]) or "?"
        with translation.override(settings.LANGUAGE_CODE):
            reason = _("No client receives mail at %(address)s. Add the address to a client, "
                       "then retry.") % {"address": shown}
        return inbox.store_raw(CHANNEL, external, raw, client=None, meta=meta,
                               status=InboundStatus.QUARANTINED, reason=reason[:200])
    return inbox.store_raw(CHANNEL, external, raw, client=client, meta=meta)


def receive_and_process(raw: bytes, **kwargs: Any) -> InboundMessage:
    row, created = receive(raw, **kwargs)
    if created and row.status == InboundStatus.RECEIVED:
        row = inbox.process(row)
    return row


# --- inbound: process ----------------------------------------------------------------------

def automatic_reason(mail: parsing.ParsedMail, meta: dict[str, Any]) -> str:
    """Why this message was written by a machine (and must not open a case), or ""."""
    headers = mail.headers
    if LOOP_HEADER.lower() in headers:
        return _("Mail loop: the message carries our own loop marker.")
    local = mail.from_address.split("@", 1)[0].lower()
    if (mail.is_report or meta.get("null_sender") or local in _BOUNCE_SENDERS
            or ("return-path" in headers and headers["return-path"].strip() in {"<>", ""})
            or "x-failed-recipients" in headers):
        return _("Bounce or delivery report.")
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and not auto.startswith("no"):
        return _("Automatic message (Auto-Submitted: %(value)s).") % {"value": auto[:40]}
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return _("Automatic reply (X-Autoreply).")
    if headers.get("precedence", "").strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return _("Bulk or list mail (Precedence: %(value)s).") % {
            "value": headers["precedence"][:20]}
    if _AUTO_SUBJECT.match(mail.subject):
        return _("Automatic reply (recognised by its subject).")
    return ""


def _fingerprint(client: Client, mail: parsing.ParsedMail) -> str:
    digest = hashlib.sha256(f"{mail.subject}\n{mail.text.strip()}".encode()).hexdigest()
    return blind_index("mail-rate", f"{client.pk}|{mail.from_address.lower()}|{digest}")


def _thread(client: Client, mail: parsing.ParsedMail) -> Case | None:
    """In-Reply-To / References first, then the case reference in the subject (only when
    the sender is that case's customer: a reference is easy to guess, a Message-ID is not)."""
    ids = mail.in_reply_to + list(reversed(mail.references))
    if ids:
        rows = {t.message_id: t for t in MailThread.objects.select_related("case")
                .filter(client=client, message_id__in=ids[:50])}
        for message_id in ids:
            if message_id in rows:
                return rows[message_id].case
    for reference in REFERENCE_RE.findall(mail.subject):
        case = Case.objects.filter(client=client, reference=reference).first()
        if case is None:
            continue
        sender = find_by_identity(client, IdentityKind.EMAIL, mail.from_address)
        if sender is not None and sender.pk == resolve(case.customer).pk:
            return case
    return None


def _fast_commit() -> None:
    """The raw message was committed durably before the sender heard "250"; this
    transaction only derives the case entry from it. Not waiting for its WAL flush (done
    while the locks above are held) multiplies throughput; a crash that loses it leaves
    the message "received", and ``recover`` processes it again: nothing is lost."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def process_email(message: InboundMessage) -> CaseEvent | None:
    """The inbox processor for ``email`` (runs in the inbox's transaction)."""
    meta = message.meta or {}
    client = message.client
    if client is None:  # quarantined for an unknown address; perhaps it was added since
        found = find_address(list(meta.get("rcpt") or []))
        if found is None:
            raise inbox.Quarantine(_("No client receives mail at this address."))
        client = message.client = found.client
        meta["address_id"] = found.pk
        message.meta = meta
        message.save(update_fields=["client", "meta"])
    mail = parsing.parse(message.raw)
    reason = automatic_reason(mail, meta)
    if reason:
        raise inbox.Ignore(reason)
    try:
        sender = normalise_email(mail.from_address)
    except ValidationError:
        raise inbox.Quarantine(_("The sender's address is missing or not valid.")) from None
    key = _fingerprint(client, mail)
    since = timezone.now() - timedelta(hours=1)
    if (MailFingerprint.objects.filter(key=key, created_at__gte=since).count()
            >= settings.MAIL_IDENTICAL_PER_HOUR):
        raise inbox.Ignore(_("The same message from the same sender again (more than "
                             "%(n)d times an hour).") % {"n": settings.MAIL_IDENTICAL_PER_HOUR})
    address = None
    if meta.get("address_id"):
        address = MailAddress.objects.filter(pk=meta["address_id"], client=client).first()
    message_id = mail.message_id or message.external_id
    data: dict[str, Any] = {"message_id": message_id, "from": sender}
    if mail.html:
        data["html"] = mail.html
    if mail.attachments:
        data["attachments"] = [a.name for a in mail.attachments[:50]]
    if mail.defects:
        data["mime_defects"] = mail.defects
    case = _thread(client, mail)
    _fast_commit()
    contact = inbox.Contact(
        client=client, channel=CHANNEL, identity_kind=IdentityKind.EMAIL,
        identity_value=sender, body=mail.text, name=mail.from_name, subject=mail.subject,
        language=address.default_language if address else "id",
        priority=address.default_priority if address else Priority.NORMAL,
        data=data, case=case)
    if case is None and address is not None and address.default_team_id is not None:
        contact.team = address.default_team
    try:
        event = inbox.deliver(contact)
    except ValidationError as exc:
        raise inbox.Quarantine(_("The message cannot become a case: %(error)s")
                               % {"error": "; ".join(exc.messages)[:150]}) from None
    MailThread.objects.bulk_create(  # one statement; a re-sent Message-ID keeps its case
        [MailThread(client=client, message_id=message_id[:255], case=event.case,
                    inbound=True, created_at=timezone.now())], ignore_conflicts=True)
    for attachment in mail.attachments[:50]:
        cases.attach_inbound_file(event.case, attachment.name, attachment.content, event=event)
    MailFingerprint.objects.create(key=key, created_at=timezone.now())
    return event


def forget_fingerprints(older_than: timedelta = timedelta(days=1)) -> int:
    deleted, _rows = MailFingerprint.objects.filter(
        created_at__lt=timezone.now() - older_than).delete()
    return deleted


# --- outbound ------------------------------------------------------------------------------

def customer_email(case: Case) -> str:
    """Where to write: the address the customer last wrote from, else their e-mail identity."""
    last = (CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.INBOUND, channel=CHANNEL)
            .order_by("-created_at", "-id").values_list("data", flat=True).first())
    if isinstance(last, dict) and last.get("from"):
        return str(last["from"])
    identity = (CustomerIdentity.objects
                .filter(customer=resolve(case.customer), kind=IdentityKind.EMAIL)
                .order_by("-verified", "id").first())
    return identity.value if identity is not None else ""


def sender_address(client: Client) -> tuple[str, str]:
    """(display name, address) the client's mail goes out from."""
    row = (MailAddress.objects.filter(client=client, is_active=True).order_by("id").first())
    if row is not None:
        return row.display_name or client.name, row.address
    return client.name, settings.DEFAULT_FROM_EMAIL


def _message_id(outbound: OutboundMessage, domain: str) -> str:
    token = blind_index("mail-message-id", str(outbound.pk))[:20]
    return f"sp.{outbound.pk}.{token}@{domain}"


def build_email(outbound: OutboundMessage) -> EmailMessage:
    """The MIME message for one queued outbound e-mail (same Message-ID on every retry)."""
    case = Case.objects.select_related("client", "customer").get(pk=outbound.case_id)
    payload = outbound.payload or {}
    kind = str(payload.get("kind") or "reply")
    name, address = sender_address(case.client)
    domain = address.rsplit("@", 1)[-1] or "localhost"
    from satupintu.portal.links import public_status_url

    language = resolve(case.customer).language or "id"
    with translation.override(language if language in {"id", "en"} else "id"):
        subject = " ".join(str(payload.get("subject") or "").split()) or (
            _("Re: %(subject)s") % {"subject": case.subject})
        if case.reference not in subject:
            subject = f"[{case.reference}] {subject}"
        html_in = parsing.sanitise_html(str(payload.get("html") or ""))
        context = {"case": case, "text": str(payload.get("text") or ""), "html": html_in,
                   "kind": kind, "status_url": public_status_url(case.reference),
                   "client_name": case.client.name, "language": language}
        text_body = render_to_string("mail/email/message.txt", context)
        html_body = render_to_string("mail/email/message.html", context)
    msg = EmailMessage()
    msg["From"] = formataddr((name, address))
    msg["To"] = outbound.recipient
    msg["Subject"] = subject[:250]
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = f"<{_message_id(outbound, domain)}>"
    earlier = list(MailThread.objects.filter(case=case).exclude(
        message_id=_message_id(outbound, domain)).order_by("created_at", "id")
        .values_list("message_id", "inbound"))
    customer_ids = [m for m, inbound in earlier if inbound]
    if customer_ids:
        msg["In-Reply-To"] = f"<{customer_ids[-1]}>"
    if earlier:
        msg["References"] = " ".join(f"<{m}>" for m, _inbound in earlier[-20:])
    msg[LOOP_HEADER] = settings.MAIL_LOOP_TOKEN
    msg["X-SatuPintu-Case"] = case.reference
    if kind != "reply":
        msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text_body)
    msg.add_alternative(html_body, subtype="html")
    return msg


def _smtp() -> smtplib.SMTP:
    import ssl

    timeout = settings.EMAIL_TIMEOUT
    context = ssl.create_default_context()  # verify the relay's certificate
    if settings.EMAIL_USE_SSL:
        conn: smtplib.SMTP = smtplib.SMTP_SSL(settings.EMAIL_HOST, settings.EMAIL_PORT,
                                              timeout=timeout, context=context)
    else:
        conn = smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=timeout)
        if settings.EMAIL_USE_TLS:
            conn.starttls(context=context)
    if settings.EMAIL_HOST_USER:
        conn.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
    return conn


def send_email(outbound: OutboundMessage) -> str:
    """The inbox sender for ``email``: raises on failure (the core retries with back-off)."""
    if not outbound.recipient:
        raise ValueError("no recipient")
    msg = build_email(outbound)
    message_id = parsing.normalise_message_id(str(msg["Message-ID"]))
    conn = _smtp()
    try:
        conn.send_message(msg)
    finally:
        try:
            conn.quit()
        except smtplib.SMTPException:
            conn.close()
    MailThread.objects.get_or_create(client_id=outbound.case.client_id, message_id=message_id,
                                     defaults={"case_id": outbound.case_id, "inbound": False})
    return f"<{message_id}>"


def on_agent_replied(sender: Any, case: Case, event: CaseEvent, channel: str,
                     **kwargs: Any) -> None:
    """Queue the reply as an e-mail when the case is an e-mail or web-form case and the
    customer has an address (inside ``reply``'s transaction)."""
    if channel not in (Channel.EMAIL, Channel.WEB):
        return
    recipient = customer_email(case)
    if not recipient:
        return
    inbox.queue_outbound(case, CHANNEL, recipient, event=event, payload={
        "kind": "reply", "subject": f"Re: {case.subject} [{case.reference}]",
        "text": event.body})
