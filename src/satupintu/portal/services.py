"""The public side: the contact form, the status code flow and replies from the status page.

A form submission is an inbound message like any other: stored raw first under the form's
own nonce (so a double submit is one row, one case), then processed by the ``web``
processor into a case, whose reference is e-mailed back through the outbox. Nothing here
trusts the browser: the form's issue time and nonce are signed, codes are kept hashed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client
from satupintu.audit import services as audit
from satupintu.cases.models import Case, CaseEvent, ContactReason
from satupintu.customers.crypto import blind_index
from satupintu.customers.identity import IdentityKind, normalise
from satupintu.customers.masking import mask_email, mask_phone
from satupintu.customers.models import CustomerIdentity
from satupintu.customers.services import resolve
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage
from satupintu.portal import links
from satupintu.portal.models import StatusCode

CHANNEL = "web"
FORM_SALT = "satupintu.portal.contact-form"
REPLY_SALT = "satupintu.portal.status-reply"
THANKS_SALT = "satupintu.portal.thanks"
GRANT_SALT = "satupintu.portal.case-grant"
GRANT_COOKIE = "satupintu_case"
GRANT_SECONDS = 30 * 60
FORM_MIN_SECONDS = 3
FORM_MAX_SECONDS = 6 * 3600
MAX_NAME = 200
MAX_MESSAGE = 5000
CODE_TTL = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5


# --- signed form tokens -----------------------------------------------------------------------

def issue_form_token(scope: str, *, issued_at: float | None = None,
                     nonce: str | None = None) -> str:
    """The hidden token of a form: its nonce (the inbound message id) and when it was
    issued, signed so that neither can be made up. ``scope`` ties it to one client's form
    (or one case's reply box)."""
    return signing.dumps({"s": scope, "n": nonce or secrets.token_urlsafe(18),
                          "t": int(issued_at if issued_at is not None else time.time())},
                         salt=FORM_SALT)


class FormTokenError(Exception):
    """The token is forged, for another form, too fresh (a bot) or too old."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def read_form_token(token: str, scope: str, *, now: float | None = None) -> str:
    """The nonce, or FormTokenError(code) with code forged / too_fast / expired."""
    try:
        data = signing.loads(token or "", salt=FORM_SALT)
    except signing.BadSignature as exc:
        raise FormTokenError("forged") from exc
    if not isinstance(data, dict) or data.get("s") != scope or not data.get("n"):
        raise FormTokenError("forged")
    age = (now if now is not None else time.time()) - float(data.get("t", 0))
    if age < FORM_MIN_SECONDS:
        raise FormTokenError("too_fast")
    if age > FORM_MAX_SECONDS:
        raise FormTokenError("expired")
    return str(data["n"])


def thanks_token(external_id: str) -> str:
    return signing.dumps(external_id, salt=THANKS_SALT)


def external_id_from_thanks(token: str) -> str | None:
    try:
        return str(signing.loads(token, salt=THANKS_SALT, max_age=86400))
    except signing.BadSignature:
        return None


# --- the contact form --------------------------------------------------------------------------

@dataclass
class Submission:
    client: Client
    nonce: str
    name: str
    email: str
    message: str
    phone: str = ""
    reason_id: int | None = None
    language: str = "id"


def form_external_id(nonce: str) -> str:
    return f"form-{nonce}"


def already_submitted(nonce: str) -> InboundMessage | None:
    return InboundMessage.objects.filter(channel=CHANNEL,
                                         external_id=form_external_id(nonce)).first()


def submit_contact(sub: Submission, *, ip: str = "") -> tuple[InboundMessage, bool]:
    """Store the submission raw (committed before the visitor sees 'thank you'), then
    process it. A second submit of the same form returns the first message."""
    raw = json.dumps({
        "kind": "form", "client": sub.client.code, "name": sub.name, "email": sub.email,
        "phone": sub.phone, "reason": sub.reason_id, "message": sub.message,
        "language": sub.language if sub.language in ("id", "en") else "id",
    }, ensure_ascii=False).encode()
    message, created = inbox.store_raw(CHANNEL, form_external_id(sub.nonce), raw,
                                       client=sub.client, meta={"kind": "form"})
    if created:
        message = inbox.process(message)
    return message, created


def submit_reply(case: Case, nonce: str, text: str, *, language: str = "id"
                 ) -> tuple[InboundMessage, bool]:
    """A customer's reply from the status page: the same inbound path, threaded onto the
    case (reopen and follow-up rules apply)."""
    raw = json.dumps({"kind": "reply", "reference": case.reference, "message": text,
                      "language": language}, ensure_ascii=False).encode()
    message, created = inbox.store_raw(CHANNEL, f"reply-{nonce}", raw, client=case.client,
                                       meta={"kind": "reply"})
    if created:
        message = inbox.process(message)
    return message, created


def process_web(message: InboundMessage) -> CaseEvent | None:
    """The ``web`` processor: a form submission becomes a case (and a notice e-mail with
    the reference); a status-page reply goes onto its case."""
    try:
        data = json.loads(message.raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise inbox.Quarantine(_("The web form data could not be read.")) from exc
    if not isinstance(data, dict):
        raise inbox.Quarantine(_("The web form data could not be read."))
    client = message.client
    if client is None:
        raise inbox.Quarantine(_("The web form message names no client."))
    language = data.get("language") if data.get("language") in ("id", "en") else "id"
    if data.get("kind") == "reply":
        case = Case.objects.filter(client=client, reference=str(data.get("reference", ""))).first()
        if case is None:
            raise inbox.Quarantine(_("The case of this reply was not found."))
        return inbox.deliver(inbox.Contact(
            client=client, channel=CHANNEL, identity_kind=IdentityKind.EMAIL, identity_value="",
            body=str(data.get("message", "")), language=language, case=case,
            data={"source": "status_page"}))
    if data.get("kind") != "form":
        raise inbox.Quarantine(_("Unknown kind of web form message."))
    email = str(data.get("email", ""))
    reason = None
    if data.get("reason"):
        reason = ContactReason.objects.filter(client=client, pk=data["reason"],
                                              is_active=True).first()
    body = str(data.get("message", ""))
    subject = reason.label(language) if reason is not None else ""
    try:
        event = inbox.deliver(inbox.Contact(
            client=client, channel=CHANNEL, identity_kind=IdentityKind.EMAIL,
            identity_value=email, name=str(data.get("name", "")), body=body, subject=subject,
            language=language, reason=reason, data={"source": "web_form"}))
    except ValidationError as exc:
        raise inbox.Quarantine(_("The web form's e-mail address is not valid.")) from exc
    case = event.case
    _attach_phone(case, str(data.get("phone", "")))
    inbox.queue_outbound(case, "email", email, event=None,
                         payload=notice_payload(case, language))
    return event


def _attach_phone(case: Case, phone: str) -> None:
    """Keep the phone number the customer gave on their record when no one else owns it."""
    if not phone:
        return
    from satupintu.customers.services import _attach

    try:
        with transaction.atomic():
            _attach(resolve(case.customer), IdentityKind.PHONE, phone)
    except ValidationError:
        pass  # not valid, or another customer's number: the agent still has the e-mail


def notice_payload(case: Case, language: str) -> dict[str, Any]:
    """The "we received your message" e-mail, in the customer's language."""
    with translation.override(language):
        context = {"case": case, "status_url": links.public_status_url(case.reference),
                   "client_name": case.client.name}
        subject = _("[%(reference)s] We received your message") % {"reference": case.reference}
        return {"kind": "notice", "subject": subject,
                "text": render_to_string("portal/email/received.txt", context),
                "html": render_to_string("portal/email/received.html", context)}


# --- the code flow -----------------------------------------------------------------------------

def _code_hash(public_id: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"portal-code:{public_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _matching_identity(case: Case, identity: str) -> tuple[str, str] | None:
    """(kind, value) when the identity is one the case's customer is known by and that we
    can send to: an e-mail address, or a WhatsApp number."""
    text = (identity or "").strip()
    if not text or len(text) > 254:
        return None
    kind = IdentityKind.EMAIL if "@" in text else IdentityKind.WHATSAPP
    try:
        value = normalise(kind, text)
    except ValidationError:
        return None
    found = (CustomerIdentity.objects.select_related("customer")
             .filter(client_id=case.client_id, kind=kind, blind_index=blind_index(kind, value))
             .first())
    if found is None or resolve(found.customer).pk != resolve(case.customer).pk:
        return None
    return kind, value


def request_code(reference: str, identity: str, *, language: str = "id",
                 now: datetime | None = None) -> str:
    """Send a one-time code when the reference and identity match; return a challenge id
    either way (the caller shows the same page: nothing tells a guesser which was right)."""
    public_id = secrets.token_urlsafe(24)
    case = (Case.objects.select_related("customer", "client")
            .filter(reference__iexact=(reference or "").strip()[:20]).first())
    match = _matching_identity(case, identity) if case is not None else None
    if case is None or match is None:
        return public_id
    kind, value = match
    now = now or timezone.now()
    code = f"{secrets.randbelow(10 ** 6):06d}"
    with transaction.atomic():
        StatusCode.objects.create(public_id=public_id, case=case, identity_kind=kind,
                                  code_hash=_code_hash(public_id, code), created_at=now,
                                  expires_at=now + CODE_TTL)
        with translation.override(language):
            text = _("Your SatuPintu code for case %(reference)s is %(code)s. It is valid for "
                     "10 minutes. If you did not ask for it, ignore this message.") % {
                "reference": case.reference, "code": code}
            if kind == IdentityKind.EMAIL:
                subject = _("[%(reference)s] Your code to view the case") % {
                    "reference": case.reference}
                html = render_to_string("portal/email/code.html",
                                        {"case": case, "code": code, "text": text})
                payload: dict[str, Any] = {"kind": "code", "subject": subject, "text": text,
                                           "html": html}
                inbox.queue_outbound(case, "email", value, payload=payload)
            else:
                inbox.queue_outbound(case, "whatsapp", value,
                                     payload={"type": "text", "text": text})
        audit.record("portal.code_sent", actor=None, obj=case, client=case.client,
                     data={"via": kind})
    return public_id


def verify_code(public_id: str, code: str, *,
                now: datetime | None = None) -> tuple[str, Case | None]:
    """("ok", case), ("wrong", None) or ("exhausted", None): too many tries, expired or
    used. An unknown challenge answers like a wrong code (counted in the cache, so it runs
    out after as many tries as a real one)."""
    from django.core.cache import cache

    now = now or timezone.now()
    code = re.sub(r"\s", "", code or "")[:12]
    with transaction.atomic():
        row = (StatusCode.objects.select_for_update()
               .filter(public_id=(public_id or "")[:64]).first())
        if row is None:
            key = "satupintu:portal:fake:" + hashlib.sha256((public_id or "").encode()).hexdigest()
            tries = int(cache.get(key, 0)) + 1
            cache.set(key, tries, int(CODE_TTL.total_seconds()))
            return ("exhausted" if tries > CODE_MAX_ATTEMPTS else "wrong"), None
        if row.used_at is not None or row.expires_at <= now or row.attempts >= CODE_MAX_ATTEMPTS:
            return "exhausted", None
        row.attempts += 1
        ok = hmac.compare_digest(row.code_hash, _code_hash(row.public_id, code))
        if ok:
            row.used_at = now
        row.save(update_fields=["attempts", "used_at"])
        if ok:
            audit.record("portal.code_accepted", actor=None, obj=row.case,
                         client=row.case.client, data={"via": row.identity_kind})
            return "ok", row.case
        return ("exhausted" if row.attempts >= CODE_MAX_ATTEMPTS else "wrong"), None


def purge_codes(now: datetime | None = None) -> int:
    """Codes are useless after they expire: drop them (periodic)."""
    now = now or timezone.now()
    deleted, _rows = StatusCode.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return deleted


# --- what the status page shows ----------------------------------------------------------------

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*")
_DIGITS_RE = re.compile(r"\+?\d[\d .-]{7,}\d")


def mask_text(text: str) -> str:
    """Mask e-mail addresses and long numbers (phone, NIK, card, account) in free text."""
    text = _EMAIL_RE.sub(lambda m: mask_email(m.group(0)), text or "")

    def digits(match: re.Match[str]) -> str:
        raw = match.group(0)
        plain = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
        return mask_phone(plain) if plain.startswith("+") else "•" * (len(plain) - 4) + plain[-4:]

    return _DIGITS_RE.sub(digits, text)


def public_view(case: Case, language: str) -> dict[str, Any]:
    """Only what the customer may see: status, dates and the public conversation (their
    messages and our replies), masked. Never notes, assignment, SLA or other customers."""
    events = (CaseEvent.objects.filter(case=case, kind__in=[CaseEvent.Kind.INBOUND,
                                                            CaseEvent.Kind.OUTBOUND])
              .order_by("created_at", "id"))
    messages = [{"mine": e.kind == CaseEvent.Kind.INBOUND, "when": e.created_at,
                 "body": mask_text(e.body)} for e in events]
    return {"reference": case.reference, "client_name": case.client.name,
            "subject": mask_text(case.subject), "status_label": case.status_label(language),
            "opened": case.created_at, "updated": case.updated_at,
            "closed": case.status == "closed", "messages": messages}


def grant_value(reference: str) -> str:
    return signing.TimestampSigner(salt=GRANT_SALT).sign(reference)


def reference_from_grant(value: str) -> str | None:
    try:
        return signing.TimestampSigner(salt=GRANT_SALT).unsign(value or "", max_age=GRANT_SECONDS)
    except signing.BadSignature:
        return None
