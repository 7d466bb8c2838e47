"""WhatsApp Business Cloud API: webhook in, messages out, the 24-hour window, accounts.

Inbound: ``receive_webhook`` checks ``X-Hub-Signature-256`` against the app secret of the
account the payload names, stores every message and status raw (``inbox.store_raw``, one
row per wamid, so a replayed webhook is one interaction) and only then answers 200; the
registered processor turns each stored row into a case entry.

Outbound: an agent's reply on a WhatsApp case is queued by the ``agent_replied`` receiver;
free text only within 24 hours of the customer's last WhatsApp message, else the reply is
refused and the agent sends an approved template (``send_template``).
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
import mimetypes
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client, User
from satupintu.accounts.permissions import require_perm
from satupintu.accounts.roles import Perm
from satupintu.audit import services as audit
from satupintu.cases import services as cases
from satupintu.cases.models import Case, CaseEvent, Channel, Status
from satupintu.customers.identity import IdentityKind, normalise_phone
from satupintu.customers.models import CustomerIdentity
from satupintu.customers.services import find_by_identity
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage, OutboundMessage
from satupintu.whatsapp import graph
from satupintu.whatsapp.models import SandboxMessage, WhatsAppAccount, WhatsAppTemplate

log = logging.getLogger(__name__)

CHANNEL = Channel.WHATSAPP
WINDOW = timedelta(hours=24)
# A status for a wamid we do not know yet may be racing our own sender (it commits the wamid
# after the API answered): retry it for a while before deciding it is not ours.
STATUS_GRACE = timedelta(minutes=10)
DELIVERY_RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
MEDIA_TYPES = frozenset({"image", "document"})


def max_body_bytes() -> int:
    return int(getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024) or 1024 * 1024)


# --- webhook --------------------------------------------------------------------------------

@dataclass
class WebhookResult:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def handshake(mode: str, token: str, challenge: str) -> str | None:
    """The verify-token handshake: the challenge to echo, or None (then 403)."""
    if mode != "subscribe" or not token or not challenge:
        return None
    for account in WhatsAppAccount.objects.filter(is_active=True):
        if hmac.compare_digest(account.verify_token.encode(), token.encode()):
            return challenge
    return None


def sign(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _reject(code: str, message: str, *, request: HttpRequest | None,
            client: Client | None = None) -> WebhookResult:
    log.warning("WhatsApp webhook rejected: %s", code)
    audit.record("whatsapp.webhook_rejected", actor=None, client=client, request=request,
                 data={"reason": code})
    return WebhookResult(401, {"code": code, "message": message})


def _changes(payload: Any) -> list[dict[str, Any]]:
    """The ``value`` objects of a Cloud API notification, or ValueError."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ValueError("no entry list")
    values = []
    for entry in payload["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            raise ValueError("an entry without a changes list")
        for change in changes:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                raise ValueError("a change without a value")
            values.append(value)
    return values


def _phone_number_id(value: dict[str, Any]) -> str:
    metadata = value.get("metadata")
    return str(metadata.get("phone_number_id", "")) if isinstance(metadata, dict) else ""


def receive_webhook(body: bytes, signature: str, *,
                    request: HttpRequest | None = None) -> WebhookResult:
    """Check, store raw, then process one webhook delivery. 200 only once all is stored."""
    if len(body) > max_body_bytes():
        return WebhookResult(413, {"code": "too_large",
                                   "message": _("The webhook body is too large.")})
    if not signature:
        return _reject("signature_missing", _("The X-Hub-Signature-256 header is missing."),
                       request=request)
    try:
        payload = json.loads(body)
        values = _changes(payload)
    except (ValueError, UnicodeDecodeError):
        return WebhookResult(400, {"code": "malformed_json",
                                   "message": _("The webhook body is not a WhatsApp "
                                                "notification in JSON.")})
    ids = {_phone_number_id(v) for v in values}
    accounts = {a.phone_number_id: a for a in
                WhatsAppAccount.objects.select_related("client").filter(phone_number_id__in=ids,
                                                                        is_active=True)}
    if not ids or "" in ids or set(accounts) != ids:
        return _reject("unknown_account",
                       _("The notification names a WhatsApp number that is not configured."),
                       request=request)
    for account in accounts.values():
        if not hmac.compare_digest(sign(account.app_secret, body).encode(),
                                   signature.strip().encode()):
            return _reject("signature_invalid",
                           _("The X-Hub-Signature-256 signature does not match."),
                           request=request, client=account.client)
    stored: list[InboundMessage] = []
    for value in values:
        account = accounts[_phone_number_id(value)]
        stored.extend(_store_value(account, value))
    for message in stored:
        inbox.process(message)
    return WebhookResult(200, {"stored": len(stored)})


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _store_value(account: WhatsAppAccount, value: dict[str, Any]) -> list[InboundMessage]:
    out: list[InboundMessage] = []
    metadata = value.get("metadata") or {}
    contacts = {str(c.get("wa_id", "")): c for c in _list(value.get("contacts"))
                if isinstance(c, dict)}
    for message in _list(value.get("messages")):
        if not isinstance(message, dict) or not message.get("id"):
            continue
        raw = {"metadata": metadata, "message": message,
               "contact": contacts.get(str(message.get("from", "")), {})}
        row, created = inbox.store_raw(
            CHANNEL, str(message["id"]), json.dumps(raw).encode(), client=account.client,
            meta={"kind": "message", "type": str(message.get("type", ""))[:20]})
        if created:
            out.append(row)
    for status in _list(value.get("statuses")):
        if not isinstance(status, dict) or not status.get("id") or not status.get("status"):
            continue
        external = f"status:{status['id']}:{status['status']}"
        row, created = inbox.store_raw(
            CHANNEL, external, json.dumps({"metadata": metadata, "status": status}).encode(),
            client=account.client, meta={"kind": "status", "status": str(status["status"])[:20]})
        if created:
            out.append(row)
    return out


# --- processing -----------------------------------------------------------------------------

def _when(raw: Any) -> datetime:
    now = timezone.now()
    try:
        when = datetime.fromtimestamp(int(raw), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
    return min(when, now)


def _account(phone_number_id: str) -> WhatsAppAccount:
    account = (WhatsAppAccount.objects.select_related("client")
               .filter(phone_number_id=phone_number_id).first())
    if account is None:
        raise inbox.Quarantine(_("No WhatsApp account has the phone number id %(id)s.")
                               % {"id": phone_number_id})
    return account


def _placeholder(kind: str) -> str:
    words = {
        "sticker": _("[Sticker]"), "audio": _("[Voice message]"), "video": _("[Video]"),
        "contacts": _("[Contact card]"), "reaction": _("[Reaction]"), "image": _("[Image]"),
        "document": _("[Document]"), "button": _("[Button]"), "interactive": _("[Reply]"),
    }
    return words.get(kind, _("[A WhatsApp message of a kind we cannot show]"))


def _render(message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The readable text of a message and the data kept beside it."""
    kind = str(message.get("type", "unsupported"))
    part = message.get(kind) if isinstance(message.get(kind), dict) else {}
    data: dict[str, Any] = {"wa_type": kind}
    if kind == "text":
        return str(part.get("body", "")), data
    if kind in MEDIA_TYPES:
        data["media_id"] = str(part.get("id", ""))
        caption = str(part.get("caption", "") or "")
        filename = str(part.get("filename", "") or "")
        if filename:
            data["filename"] = filename[:200]
        text = caption or filename
        return (f"{_placeholder(kind)} {text}".strip()), data
    if kind == "location":
        try:
            lat, lng = float(part.get("latitude")), float(part.get("longitude"))
        except (TypeError, ValueError):
            return _placeholder("unsupported"), data
        name, address = str(part.get("name", "") or ""), str(part.get("address", "") or "")
        data["location"] = {"latitude": lat, "longitude": lng, "name": name[:200],
                            "address": address[:300]}
        label = ", ".join(p for p in (name, address) if p)
        text = _("Location: %(label)s (%(lat)s, %(lng)s)") % {
            "label": label or "—", "lat": f"{lat:.6f}", "lng": f"{lng:.6f}"}
        return text, data
    if kind == "reaction":
        return f"{_placeholder(kind)} {part.get('emoji', '')}".strip(), data
    if kind == "button":
        return f"{_placeholder(kind)} {part.get('text', '')}".strip(), data
    return _placeholder(kind), data


def process_inbound(message: InboundMessage) -> CaseEvent | None:
    """The registered processor: a message becomes a case entry, a status updates delivery."""
    try:
        raw = json.loads(message.raw)
    except ValueError as exc:
        raise inbox.Quarantine(_("The stored WhatsApp message is not JSON.")) from exc
    if "status" in raw:
        return _apply_status(raw["status"])
    return _apply_message(raw)


def _apply_message(raw: dict[str, Any]) -> CaseEvent:
    account = _account(str((raw.get("metadata") or {}).get("phone_number_id", "")))
    message = raw.get("message") or {}
    digits = "".join(ch for ch in str(message.get("from", "")) if ch.isdigit())
    try:
        number = normalise_phone("+" + digits)
    except ValidationError as exc:
        raise inbox.Quarantine(_("The sender's WhatsApp number is not valid.")) from exc
    profile = (raw.get("contact") or {}).get("profile") or {}
    name = str(profile.get("name", "") if isinstance(profile, dict) else "")
    body, data = _render(message)
    data.update({"wamid": str(message.get("id", ""))[:200],
                 "wa_phone_number_id": account.phone_number_id})
    client = account.client
    case = None
    customer = find_by_identity(client, IdentityKind.WHATSAPP, number)
    if customer is not None:
        case = (Case.objects.filter(customer=customer, channel=CHANNEL)
                .exclude(status=Status.CLOSED).order_by("-created_at", "-id").first())
    event = inbox.deliver(inbox.Contact(
        client=client, channel=CHANNEL, identity_kind=IdentityKind.WHATSAPP,
        identity_value=number, body=body, name=name, data=data, case=case,
        when=_when(message.get("timestamp"))))
    if data["wa_type"] in MEDIA_TYPES and data.get("media_id"):
        content, mime = graph.download_media(account, data["media_id"])
        filename = data.get("filename") or (
            f"whatsapp-{data['media_id']}"
            f"{mimetypes.guess_extension(mime.split(';')[0].strip()) or ''}")
        cases.attach_inbound_file(event.case, filename, content, event=event)
    return event


def _apply_status(status: dict[str, Any]) -> CaseEvent | None:
    wamid, state = str(status.get("id", "")), str(status.get("status", ""))
    if state not in DELIVERY_RANK:
        raise inbox.Ignore(f"unknown status {state[:20]}")
    out = (OutboundMessage.objects.select_for_update().select_related("case")
           .filter(channel=CHANNEL, external_id=wamid).first())
    if out is None:
        if timezone.now() - _when(status.get("timestamp")) < STATUS_GRACE:
            raise LookupError("status for a wamid not (yet) recorded as sent")
        raise inbox.Ignore("status for a message we did not send")
    if state == "failed" or DELIVERY_RANK[state] > DELIVERY_RANK.get(out.delivery, 0):
        out.delivery = state
        out.save(update_fields=["delivery"])
    errors = [str(e.get("title") or e.get("message") or e.get("code"))[:200]
              for e in _list(status.get("errors")) if isinstance(e, dict)]
    words = {"sent": _("WhatsApp: sent"), "delivered": _("WhatsApp: delivered"),
             "read": _("WhatsApp: read"), "failed": _("WhatsApp: not delivered")}
    return CaseEvent.objects.create(
        case=out.case, kind=CaseEvent.Kind.UPDATE, channel=CHANNEL, body=words[state],
        data={"whatsapp_status": state, "wamid": wamid, "reply_event": out.event_id,
              "errors": errors}, created_at=timezone.now())


# --- outbound -------------------------------------------------------------------------------

_PENDING_TEMPLATE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "whatsapp_pending_template", default=None)


def last_inbound_at(case: Case) -> datetime | None:
    """When this customer last wrote to us on WhatsApp (any of their cases)."""
    return (CaseEvent.objects.filter(case__customer_id=case.customer_id,
                                     kind=CaseEvent.Kind.INBOUND, channel=CHANNEL)
            .aggregate(last=Max("created_at"))["last"])


def window_closes_at(case: Case) -> datetime | None:
    last = last_inbound_at(case)
    return last + WINDOW if last is not None else None


def window_open(case: Case, now: datetime | None = None) -> bool:
    closes = window_closes_at(case)
    return closes is not None and (now or timezone.now()) < closes


def check_free_text(case: Case, now: datetime | None = None) -> None:
    """Raise the agent-facing error when free text may not be sent any more."""
    if not window_open(case, now):
        raise ValidationError(
            _("The customer last wrote on WhatsApp more than 24 hours ago, so WhatsApp only "
              "accepts an approved template message now. Send a template instead."),
            code="whatsapp_window_closed")


def whatsapp_number(case: Case) -> str:
    identity = (CustomerIdentity.objects
                .filter(customer_id=case.customer_id, kind=IdentityKind.WHATSAPP)
                .order_by("-id").first())
    return identity.value if identity is not None else ""


def _reply_account(case: Case) -> WhatsAppAccount | None:
    """The number the customer wrote to last, else the client's first active one."""
    last = (CaseEvent.objects.filter(case__customer_id=case.customer_id,
                                     kind=CaseEvent.Kind.INBOUND, channel=CHANNEL)
            .order_by("-created_at", "-id").values_list("data", flat=True).first())
    accounts = WhatsAppAccount.objects.filter(client_id=case.client_id, is_active=True)
    if isinstance(last, dict) and last.get("wa_phone_number_id"):
        found = accounts.filter(phone_number_id=last["wa_phone_number_id"]).first()
        if found is not None:
            return found
    return accounts.order_by("id").first()


def on_agent_replied(sender: Any, case: Case, event: CaseEvent, channel: str,
                     **kwargs: Any) -> None:
    """Queue the WhatsApp message for a reply on a WhatsApp case (in the reply's transaction:
    raising here refuses the reply)."""
    if channel != CHANNEL:
        return
    recipient = whatsapp_number(case)
    if not recipient:
        raise ValidationError(_("This customer has no WhatsApp number to reply to."),
                              code="whatsapp_no_number")
    account = _reply_account(case)
    if account is None:
        raise ValidationError(_("This client has no active WhatsApp account."),
                              code="whatsapp_no_account")
    pending = _PENDING_TEMPLATE.get()
    if pending is None:
        check_free_text(case)
        payload: dict[str, Any] = {"type": "text", "text": event.body}
    else:
        payload = dict(pending)
    payload["phone_number_id"] = account.phone_number_id
    inbox.queue_outbound(case, CHANNEL, recipient, event=event, payload=payload)


def build_request(payload: dict[str, Any], to: str) -> dict[str, Any]:
    """Our payload contract → the Cloud API's JSON."""
    base: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                            "to": to.lstrip("+")}
    if payload.get("type") == "text":
        return {**base, "type": "text",
                "text": {"preview_url": False, "body": str(payload.get("text", ""))}}
    if payload.get("type") == "template":
        params = [{"type": "text", "text": str(p)} for p in payload.get("params") or []]
        template: dict[str, Any] = {"name": payload["template"],
                                    "language": {"code": payload.get("language", "id")}}
        if params:
            template["components"] = [{"type": "body", "parameters": params}]
        return {**base, "type": "template", "template": template}
    raise ValueError(f"unknown WhatsApp payload type {payload.get('type')!r}")


def send(message: OutboundMessage) -> str:
    """The registered sender: POST to the Cloud API, return the wamid; raise to retry."""
    payload = message.payload or {}
    accounts = WhatsAppAccount.objects.filter(client_id=message.case.client_id, is_active=True)
    account = accounts.filter(phone_number_id=payload.get("phone_number_id", "")).first() \
        or accounts.order_by("id").first()
    if account is None:
        raise LookupError("the client has no active WhatsApp account")
    return graph.send_message(account, build_request(payload, message.recipient))


def send_template(case: Case, template: WhatsAppTemplate, params: list[str], *, by: User,
                  request: HttpRequest | None = None) -> CaseEvent:
    """Reply with an approved template (allowed inside and outside the 24-hour window)."""
    if template.client_id != case.client_id:
        raise ValidationError(_("That template belongs to another client."))
    if not template.approved:
        raise ValidationError(_("That template is not approved by WhatsApp yet."),
                              code="template_not_approved")
    params = [" ".join(str(p).split()) for p in params]
    if len(params) != template.param_count or any(not p or len(p) > 1024 for p in params):
        raise ValidationError(
            _("This template needs %(n)d parameter(s), each 1 to 1024 characters.")
            % {"n": template.param_count}, code="template_params")
    token = _PENDING_TEMPLATE.set({"type": "template", "template": template.name,
                                   "language": template.language, "params": params})
    try:
        with transaction.atomic():
            event = cases.reply(case, template.render(params), by=by, channel=CHANNEL,
                                request=request)
            audit.record("whatsapp.template_sent", actor=by, obj=case, client=case.client,
                         request=request, data={"template": template.name,
                                                "language": template.language})
    finally:
        _PENDING_TEMPLATE.reset(token)
    return event


# --- accounts and templates -----------------------------------------------------------------

SECRET_FIELDS = ("app_secret", "verify_token", "access_token")
PLAIN_FIELDS = ("phone_number_id", "display_number", "api_base", "is_active")


@transaction.atomic
def save_account(by: User, client: Client, values: dict[str, Any], *,
                 account: WhatsAppAccount | None = None,
                 request: HttpRequest | None = None) -> WhatsAppAccount:
    """Create or edit an account; an empty secret on edit keeps the stored one."""
    require_perm(by, Perm.MANAGE_ORGANISATION)
    creating = account is None
    account = account or WhatsAppAccount(client=client)
    api_base = str(values.get("api_base", "") or "").strip()
    if api_base and not api_base.startswith(("https://", "http://")):
        raise ValidationError(_("The API base URL must start with https:// or http://."))
    pnid = str(values.get("phone_number_id", "")).strip()
    if not pnid.isdigit():
        raise ValidationError(_("The phone number id is the number Meta shows, digits only."))
    if WhatsAppAccount.objects.filter(phone_number_id=pnid).exclude(pk=account.pk).exists():
        raise ValidationError(_("Another account already uses this phone number id."))
    changed = []
    for name in PLAIN_FIELDS:
        value = values.get(name, getattr(account, name))
        value = value.strip() if isinstance(value, str) else value
        if name == "phone_number_id":
            value = pnid
        if creating or getattr(account, name) != value:
            changed.append(name)
        setattr(account, name, value)
    account.client = client
    for name in SECRET_FIELDS:
        secret = str(values.get(name, "") or "").strip()
        if secret:
            setattr(account, name, secret)
            changed.append(name)
        elif creating:
            raise ValidationError(_("Give the app secret, the verify token and the access "
                                    "token."))
    account.save()
    account.refresh_from_db()
    audit.record("whatsapp.account_created" if creating else "whatsapp.account_updated",
                 actor=by, obj=account, client=client, request=request,
                 data={"fields": sorted(set(changed))})
    return account


@transaction.atomic
def save_template(by: User, client: Client, *, name: str, language: str, body: str,
                  approved: bool, template: WhatsAppTemplate | None = None,
                  request: HttpRequest | None = None) -> WhatsAppTemplate:
    require_perm(by, Perm.MANAGE_ORGANISATION)
    creating = template is None
    template = template or WhatsAppTemplate(client=client)
    body = (body or "").strip()
    if not body or len(body) > 1024:
        raise ValidationError(_("A template text is 1 to 1024 characters."))
    if (WhatsAppTemplate.objects.filter(client=client, name=name, language=language)
            .exclude(pk=template.pk).exists()):
        raise ValidationError(_("This client already has a template with this name and "
                                "language."))
    template.client, template.name, template.language = client, name, language
    template.body, template.approved = body, approved
    template.save()
    audit.record("whatsapp.template_created" if creating else "whatsapp.template_updated",
                 actor=by, obj=template, client=client, request=request,
                 data={"name": name, "language": language, "approved": approved})
    return template


# --- the demo sandbox -----------------------------------------------------------------------

def sandbox_customer_message(account: WhatsAppAccount, number: str, name: str, text: str, *,
                             by: User, request: HttpRequest | None = None) -> WebhookResult:
    """Simulate a customer: build a Cloud API notification, sign it with the account's app
    secret and put it through ``receive_webhook`` exactly as Meta's would go."""
    require_perm(by, Perm.MANAGE_ORGANISATION)
    e164 = normalise_phone(number)
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Write the customer's message."))
    message = {"from": e164.lstrip("+"), "id": f"wamid.SANDBOX{secrets.token_hex(12)}",
               "timestamp": str(int(timezone.now().timestamp())), "type": "text",
               "text": {"body": text[:4096]}}
    payload = {"object": "whatsapp_business_account", "entry": [{
        "id": "sandbox", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": account.display_number,
                         "phone_number_id": account.phone_number_id},
            "contacts": [{"profile": {"name": name or e164}, "wa_id": e164.lstrip("+")}],
            "messages": [message]}}]}]}
    body = json.dumps(payload).encode()
    return receive_webhook(body, sign(account.app_secret, body), request=request)


def sandbox_record(phone_number_id: str, authorization: str, body: bytes) -> tuple[int, dict]:
    """The sandbox's fake ``POST /{phone_number_id}/messages``: checks the bearer token,
    records the message and answers like the Cloud API."""
    account = WhatsAppAccount.objects.filter(phone_number_id=phone_number_id).first()
    token = authorization.removeprefix("Bearer ").strip()
    if account is None or not hmac.compare_digest(account.access_token.encode(),
                                                  token.encode()):
        return 401, {"error": {"message": "Invalid OAuth access token.", "code": 190}}
    try:
        payload = json.loads(body)
        to = str(payload["to"])
    except (ValueError, KeyError, TypeError):
        return 400, {"error": {"message": "Invalid parameter", "code": 100}}
    wamid = f"wamid.SANDBOXOUT{secrets.token_hex(12)}"
    SandboxMessage.objects.create(account=account, wamid=wamid,
                                  payload_encrypted=json.dumps(payload))
    return 200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                 "messages": [{"id": wamid}]}
