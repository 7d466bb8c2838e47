"""Web chat writes: sessions, visitor messages through the inbox, agent replies, read state.

Every visitor message goes the one inbox path: ``store_raw("chat", "<session>:<cid>", ...)``
commits the frame before the visitor gets its ``ack``, then ``process`` puts it on the case.
The visitor's own message id (``cid``) is the channel's id for it, so a resend after a lost
connection is the same row, the same timeline entry and the same acknowledgement.

Every chat message (either way) gets the session's next ``seq`` inside the transaction that
writes its timeline entry; a reconnecting visitor asks for everything after the last seq it
saw. Live frames go out only after commit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client, User
from satupintu.accounts.permissions import client_ids, require_perm
from satupintu.accounts.roles import Perm, Role
from satupintu.audit import services as audit
from satupintu.cases import services as cases
from satupintu.cases.models import Case, CaseEvent, Channel
from satupintu.customers.identity import IdentityKind, normalise
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage, OutboundMessage
from satupintu.webchat.models import ChatMessage, ChatSession, SessionStatus, WidgetSettings

log = logging.getLogger(__name__)

MAX_TEXT = 5000              # characters in one chat message
MAX_NAME = 200
FLOOD_MESSAGES = 20          # messages (and uploads) per session ...
FLOOD_WINDOW = 10.0          # ... in this many seconds
FLOOD_FRAMES = 60            # any frames (typing, read) per session in the window
TOKEN_TTL = timedelta(hours=24)
MAX_TRANSCRIPTS = 3
CID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ChatError(Exception):
    """A refusal the visitor is told about: a stable code and a translated message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def session_group(session_id: int) -> str:
    return f"chat.session.{session_id}"


def client_group(client_id: int) -> str:
    return f"chat.client.{client_id}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def first_name(user: User | None) -> str:
    if user is None:
        return ""
    name = (user.full_name or user.get_username() or "").split()
    return name[0] if name else ""


# --- widget settings -------------------------------------------------------------------------

def widget_for(client: Client) -> WidgetSettings:
    """The client's settings; an unsaved default (enabled, own site only) when none exist."""
    found = WidgetSettings.objects.filter(client=client).first()
    return found or WidgetSettings(client=client)


def embed_tag(script_url: str, client: Client) -> str:
    """The one tag a client pastes into its pages (API and set-up page show the same);
    plain text with escaped attributes, so a template escapes it once more for display."""
    return (f'<script src="{escape(script_url)}" data-client="{escape(client.code)}" '
            'defer></script>')


_ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


@transaction.atomic
def configure_widget(client: Client, *, by: User, allowed_origins: list[str],
                     enabled: bool = True, request: Any = None) -> WidgetSettings:
    """Set where the client's widget may be embedded (the page's frame-ancestors)."""
    require_perm(by, Perm.MANAGE_ORGANISATION)
    if client.pk not in client_ids(by):
        raise ValidationError(_("Not found."))
    clean = []
    for origin in allowed_origins:
        origin = origin.strip().rstrip("/")
        if not origin:
            continue
        if not _ORIGIN_RE.match(origin):
            raise ValidationError(_("Not a web origin: %(origin)s (write it as "
                                    "https://www.example.co.id).") % {"origin": origin},
                                  code="bad_origin")
        clean.append(origin)
    row, _created = WidgetSettings.objects.get_or_create(client=client)
    row.allowed_origins, row.enabled = "\n".join(clean), enabled
    row.save()
    audit.record("webchat.widget_configured", actor=by, obj=client, client=client,
                 request=request, data={"origins": clean, "enabled": enabled})
    return row


# --- live frames -----------------------------------------------------------------------------

def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a live frame must never break the write that caused it
        log.exception("could not publish to %s", group)


def to_visitor(session_id: int, frame: dict[str, Any]) -> None:
    _send(session_group(session_id), {"type": "chat.frame", "frame": frame})


def to_agents(client_id: int, frame: dict[str, Any]) -> None:
    _send(client_group(client_id), {"type": "chat.frame", "frame": frame})


def _on_commit(fn: Any) -> None:
    transaction.on_commit(fn)


# --- sessions --------------------------------------------------------------------------------

def parse_contact(raw: str) -> tuple[str, str]:
    """An e-mail address or a phone number as typed, or a fresh anonymous visitor id."""
    raw = (raw or "").strip()
    if not raw:
        return IdentityKind.CHAT_VISITOR, secrets.token_hex(12)
    kind = IdentityKind.EMAIL if "@" in raw else IdentityKind.PHONE
    try:
        normalise(kind, raw)
    except ValidationError as exc:
        message = (_("This e-mail address is not valid.") if kind == IdentityKind.EMAIL
                   else _("This phone number is not valid."))
        raise ValidationError(message, code="bad_contact") from exc
    return kind, raw


def start_session(client: Client, *, name: str, contact: str, topic: str, message: str = "",
                  language: str = "id", now: datetime | None = None) -> tuple[ChatSession, str]:
    """The pre-chat form: a session for the visitor, and its case opened by the first
    message through the inbox. Returns the session and its token (shown once)."""
    if not client.is_active or not widget_for(client).enabled:
        raise ValidationError(_("Chat is not available for this client."), code="disabled")
    name = " ".join((name or "").split())
    topic = " ".join((topic or "").split())
    message = (message or "").strip()
    if not name:
        raise ValidationError(_("Please give your name."), code="name_required")
    if not topic:
        raise ValidationError(_("Please say what your question is about."),
                              code="topic_required")
    if len(name) > MAX_NAME or len(topic) > 200:
        raise ValidationError(_("The name or topic is too long."), code="too_long")
    if len(message) > MAX_TEXT:
        raise ValidationError(_("A message can have at most %(n)d characters.")
                              % {"n": MAX_TEXT}, code="too_long")
    kind, value = parse_contact(contact)
    language = language if language in {"id", "en"} else "id"
    token = secrets.token_urlsafe(32)
    now = now or timezone.now()
    session = ChatSession.objects.create(
        client=client, token_hash=hash_token(token), topic=topic, language=language,
        visitor=json.dumps({"name": name, "kind": str(kind), "value": value}),
        started_at=now)
    audit.record("webchat.session_started", actor=None, obj=session, client=client,
                 data={"identity": str(kind)})
    frame = {"type": "start", "session": session.pk, "text": message or topic}
    row, _created = inbox.store_raw("chat", f"{session.pk}:start",
                                    json.dumps(frame).encode(), client=client,
                                    meta={"session": session.pk})
    inbox.process(row)
    session.refresh_from_db()
    _on_commit(lambda: to_agents(client.pk, {"type": "session", "event": "started",
                                             "session": session.pk}))
    return session, token


def authenticate(token: str, now: datetime | None = None) -> ChatSession:
    """The session a visitor's token opens; ChatError with the reason otherwise."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise ChatError("bad_token", _("This chat could not be found."))
    session = (ChatSession.objects.select_related("client", "case")
               .filter(token_hash=hash_token(token)).first())
    if session is None:
        raise ChatError("bad_token", _("This chat could not be found."))
    with translation.override(session.language):
        if session.status == SessionStatus.ENDED:
            raise ChatError("session_ended", _("This chat has ended. Start a new one."))
        if (now or timezone.now()) - session.started_at > TOKEN_TTL:
            raise ChatError("token_expired", _("This chat has expired. Start a new one."))
    return session


def visitor_of(session: ChatSession) -> dict[str, str]:
    try:
        data = json.loads(session.visitor or "{}")
    except ValueError:
        data = {}
    return {"name": data.get("name", ""), "kind": data.get("kind", ""),
            "value": data.get("value", "")}


# --- flood control ---------------------------------------------------------------------------

_WINDOWS: dict[tuple[int, str], deque[float]] = defaultdict(deque)


def check_rate(session_id: int, what: str = "msg", now: float | None = None) -> float:
    """0 when allowed (and counted), else the seconds to wait. Per process: each ASGI
    process keeps its own window, which bounds a flood to a small multiple of the limit."""
    now = time.monotonic() if now is None else now
    limit = FLOOD_MESSAGES if what == "msg" else FLOOD_FRAMES
    window = _WINDOWS[(session_id, what)]
    while window and now - window[0] > FLOOD_WINDOW:
        window.popleft()
    if len(window) >= limit:
        return max(0.1, FLOOD_WINDOW - (now - window[0]))
    window.append(now)
    return 0.0


def reset_rates() -> None:
    _WINDOWS.clear()


# --- visitor messages ------------------------------------------------------------------------

def message_frame(message: ChatMessage, event: CaseEvent | None = None) -> dict[str, Any]:
    event = event or message.event
    frame: dict[str, Any] = {
        "type": "msg", "seq": message.seq, "from": message.sender,
        "text": f"📎 {message.file_name}" if message.file_name else event.body,
        "at": message.created_at.isoformat()}
    if message.cid:
        frame["cid"] = message.cid
    if message.file_name:
        frame["file"] = message.file_name
    if message.sender == ChatMessage.Sender.AGENT:
        frame["name"] = first_name(message.agent)
    return frame


def _next_seq(session: ChatSession) -> int:
    session.last_seq += 1
    session.save(update_fields=["last_seq"])
    return session.last_seq


def _publish_message(session: ChatSession, message: ChatMessage, event: CaseEvent) -> None:
    frame = message_frame(message, event)
    case_ref = session.case.reference if session.case else ""
    agent_frame = {**frame, "type": "message", "session": session.pk, "case": case_ref}
    session_id, client_id = session.pk, session.client_id
    _on_commit(lambda: to_visitor(session_id, frame))
    _on_commit(lambda: to_agents(client_id, agent_frame))


def process_chat(message: InboundMessage) -> CaseEvent | None:
    """The inbox processor for channel "chat": one stored frame → one timeline entry."""
    raw = message.raw
    head, _sep, content = raw.partition(b"\n")
    try:
        data = json.loads(head)
        session_id = int(data["session"])
    except (ValueError, KeyError, TypeError) as exc:
        raise inbox.Quarantine("unreadable chat frame") from exc
    session = (ChatSession.objects.select_for_update(of=("self",)).select_related("client", "case")
               .filter(pk=session_id).first())
    if session is None:
        raise inbox.Quarantine("unknown chat session")
    kind = data.get("type")
    cid = str(data.get("cid", ""))[:64]
    name = str(data.get("name", ""))[:255]
    body = f"📎 {name}" if kind == "file" else str(data.get("text", ""))
    if kind != "start" and session.case is None:
        raise RuntimeError("the chat's first message is not processed yet")
    visitor = visitor_of(session)
    event = inbox.deliver(inbox.Contact(
        client=session.client, channel=Channel.CHAT, identity_kind=visitor["kind"],
        identity_value=visitor["value"], body=body, name=visitor["name"],
        subject=session.topic, language=session.language, case=session.case,
        data={"chat_session": session.pk, **({"cid": cid} if cid else {})}))
    if session.case_id != event.case_id or session.customer_id is None:
        session.case, session.customer_id = event.case, event.case.customer_id
        session.save(update_fields=["case", "customer"])
    file_name = ""
    if kind == "file":
        attachment = cases.attach_inbound_file(event.case, name, content, event=event)
        file_name = attachment.original_name if attachment else name
    chat = ChatMessage.objects.create(
        session=session, seq=_next_seq(session), sender=ChatMessage.Sender.VISITOR,
        cid=cid if kind != "start" else "", event=event, file_name=file_name,
        created_at=event.created_at)
    _publish_message(session, chat, event)
    return event


def receive(session: ChatSession, cid: str, text: str) -> dict[str, Any]:
    """A visitor's message: stored raw, processed, acknowledged. The same cid again gets
    the same acknowledgement and adds nothing."""
    with translation.override(session.language):
        if not isinstance(cid, str) or not CID_RE.match(cid):
            raise ChatError("bad_cid", _("The message has no valid id."))
        if not isinstance(text, str) or not text.strip():
            raise ChatError("empty", _("The message is empty."))
        if len(text) > MAX_TEXT:
            raise ChatError("too_long", _("A message can have at most %(n)d characters.")
                            % {"n": MAX_TEXT})
        if ChatSession.objects.filter(pk=session.pk, status=SessionStatus.ENDED).exists():
            raise ChatError("session_ended", _("This chat has ended. Start a new one."))
    frame = {"type": "msg", "session": session.pk, "cid": cid, "text": text}
    row, _created = inbox.store_raw("chat", f"{session.pk}:{cid}", json.dumps(frame).encode(),
                                    client=session.client, meta={"session": session.pk})
    inbox.process(row)
    return ack(session, cid)


def ack(session: ChatSession, cid: str) -> dict[str, Any]:
    found = ChatMessage.objects.filter(session=session, cid=cid).first()
    # Stored but not processed yet (it is retried): acknowledged, its seq follows later.
    return {"type": "ack", "cid": cid, "seq": found.seq if found else None}


def receive_file(session: ChatSession, cid: str, upload: Any) -> dict[str, Any]:
    """A file the visitor uploads: checked, stored raw, put on the case as an attachment."""
    with translation.override(session.language):
        if not isinstance(cid, str) or not CID_RE.match(cid):
            raise ChatError("bad_cid", _("The message has no valid id."))
        existing = ChatMessage.objects.filter(session=session, cid=cid).first()
        if existing is not None:
            return ack(session, cid)
        try:
            cases.validate_upload(upload)
        except ValidationError as exc:
            raise ChatError(exc.code or "bad_file", " ".join(exc.messages)) from exc
    upload.seek(0)
    content = upload.read()
    head = {"type": "file", "session": session.pk, "cid": cid,
            "name": cases._safe_name(upload.name or "")}
    row, _created = inbox.store_raw("chat", f"{session.pk}:{cid}",
                                    json.dumps(head).encode() + b"\n" + content,
                                    client=session.client, meta={"session": session.pk})
    inbox.process(row)
    return ack(session, cid)


def history(session: ChatSession, after: int = 0, limit: int = 500) -> list[dict[str, Any]]:
    """Every message after ``after``, in order: what a reconnecting visitor missed."""
    rows = (ChatMessage.objects.filter(session=session, seq__gt=max(0, int(after)))
            .select_related("event", "agent").order_by("seq")[:limit])
    return [message_frame(m) for m in rows]


# --- agent replies ---------------------------------------------------------------------------

def on_agent_replied(sender: Any, case: Case, event: CaseEvent, channel: str,
                     **kwargs: Any) -> None:
    """An agent's reply on a chat case (the Chats page or the case page) goes to the
    visitor: numbered in the reply's own transaction, pushed after commit."""
    if channel != Channel.CHAT:
        return
    session = (ChatSession.objects.select_for_update(of=("self",)).select_related("case")
               .filter(case=case).order_by("-started_at", "-id").first())
    if session is None:
        return
    chat = ChatMessage.objects.create(
        session=session, seq=_next_seq(session), sender=ChatMessage.Sender.AGENT,
        event=event, agent=event.actor, created_at=event.created_at)
    _publish_message(session, chat, event)


def agent_reply(session: ChatSession, body: str, *, by: User, request: Any = None) -> CaseEvent:
    """A reply from the Chats page: the normal case reply on the chat channel."""
    if session.case is None:
        raise ValidationError(_("This chat has no case yet; try again in a moment."))
    with transaction.atomic():
        case = session.case
        if case.assignee_id is None and by.role == Role.AGENT:
            # The first agent to answer an unassigned chat takes it, so that two agents do
            # not answer the same customer (it leaves the others' Chats pages).
            case = cases.update_case(case, by=by, assignee=by, request=request)
            session_id, client_id = session.pk, session.client_id
            _on_commit(lambda: to_agents(client_id, {"type": "session", "event": "assigned",
                                                     "session": session_id}))
        return cases.reply(case, body, by=by, channel=Channel.CHAT, request=request)


# --- typing, read state, end -----------------------------------------------------------------

def mark_read(session: ChatSession, seq: Any, *, by_agent: bool) -> int | None:
    """Visitor (or agent) has read up to ``seq``. Only moves forward; returns the new mark
    or None when nothing changed."""
    try:
        seq = int(seq)
    except (TypeError, ValueError):
        return None
    field = "agent_read_seq" if by_agent else "visitor_read_seq"
    with transaction.atomic():
        row = ChatSession.objects.select_for_update().get(pk=session.pk)
        seq = min(seq, row.last_seq)
        if seq <= getattr(row, field):
            return None
        setattr(row, field, seq)
        row.save(update_fields=[field])
    if by_agent:
        _on_commit(lambda: to_visitor(row.pk, {"type": "read", "seq": seq}))
    else:
        _on_commit(lambda: to_agents(row.client_id, {"type": "read", "session": row.pk,
                                                     "seq": seq}))
    return seq


@transaction.atomic
def end_session(session: ChatSession, *, by: User | None = None, request: Any = None) -> None:
    """The visitor leaves or an agent ends the chat; the case stays as it is."""
    if by is not None:
        require_perm(by, Perm.VIEW_OWN_WORK)
        if session.client_id not in client_ids(by):
            raise ValidationError(_("Not found."))
    row = ChatSession.objects.select_for_update().get(pk=session.pk)
    if row.status == SessionStatus.ENDED:
        return
    row.status, row.ended_at = SessionStatus.ENDED, timezone.now()
    row.save(update_fields=["status", "ended_at"])
    audit.record("webchat.session_ended", actor=by, obj=row, client=row.client,
                 request=request, data={"by": "agent" if by else "visitor"})
    _on_commit(lambda: to_visitor(row.pk, {"type": "ended"}))
    _on_commit(lambda: to_agents(row.client_id, {"type": "session", "event": "ended",
                                                 "session": row.pk}))


# --- transcript ------------------------------------------------------------------------------

def send_transcript(session: ChatSession, address: str = "") -> OutboundMessage:
    """Queue the conversation as an e-mail to the visitor (the mail sender sends it)."""
    visitor = visitor_of(session)
    with translation.override(session.language):
        address = (address or "").strip()
        if not address:
            if visitor["kind"] != IdentityKind.EMAIL:
                raise ChatError("no_address", _("Give an e-mail address for the transcript."))
            address = visitor["value"]
        try:
            address = normalise(IdentityKind.EMAIL, address)
        except ValidationError as exc:
            raise ChatError("bad_address", _("This e-mail address is not valid.")) from exc
        if session.case is None:
            raise ChatError("not_ready", _("The chat has no messages yet."))
        # The payload is encrypted, so transcripts are counted per case (one chat per case).
        sent = OutboundMessage.objects.filter(case=session.case, channel=Channel.EMAIL,
                                              kind="transcript").count()
        if sent >= MAX_TRANSCRIPTS:
            raise ChatError("rate_limited", _("The transcript was already sent several times."))
        lines, html = [], []
        for message in (ChatMessage.objects.filter(session=session)
                        .select_related("event", "agent").order_by("seq")):
            who = (first_name(message.agent) or _("Agent")
                   if message.sender == ChatMessage.Sender.AGENT else visitor["name"])
            text = message_frame(message)["text"]
            when = timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M")
            lines.append(f"[{when}] {who}: {text}")
            html.append(f"<p><small>{when}</small> <b>{escape(who)}</b>: "
                        f"{escape(text).replace(chr(10), '<br>')}</p>")
        subject = _("Chat transcript %(reference)s") % {"reference": session.case.reference}
        intro = _("Here is the transcript of your chat with us.")
        payload = {"kind": "transcript", "session": session.pk, "subject": subject,
                   "text": intro + "\n\n" + "\n".join(lines),
                   "html": f"<p>{escape(intro)}</p>" + "".join(html)}
    with transaction.atomic():
        row = inbox.queue_outbound(session.case, Channel.EMAIL, address, payload=payload)
        audit.record("webchat.transcript_queued", actor=None, obj=session,
                     client=session.client, data={"outbound": row.pk})
    return row


def max_upload_bytes() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)
