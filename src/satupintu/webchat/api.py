"""Chat endpoints. The visitor's two (start a chat, upload a file) need no login: the chat
page runs inside another site's frame, where our cookies are not sent; the session token is
the credential. Agents list their clients' open chats with the usual auth."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from satupintu.accounts.models import Client
from satupintu.accounts.permissions import (
    get_visible_or_404,
    require_perm,
    scoped,
    visible_clients,
)
from satupintu.accounts.roles import Perm
from satupintu.config.schemas import Strict
from satupintu.webchat import services
from satupintu.webchat.models import ChatSession, SessionStatus

log = logging.getLogger(__name__)

router = Router(tags=["webchat"])

START_LIMIT = 10            # new chats per address ...
START_WINDOW = 600          # ... in this many seconds


class ErrorOut(Schema):
    code: str
    message: str


class StartIn(Strict):
    client: str = Field(min_length=1, max_length=30)
    name: str = Field(default="", max_length=services.MAX_NAME)
    contact: str = Field(default="", max_length=254)
    topic: str = Field(default="", max_length=200)
    message: str = Field(default="", max_length=services.MAX_TEXT)
    language: str = Field(default="id", max_length=5)
    # the FAQ answer the customer read first (its signed token), when they still want a person
    faq_token: str = Field(default="", max_length=300)


class StartOut(Schema):
    session: int
    token: str
    case: str


class AckOut(Schema):
    type: str
    cid: str
    seq: int | None


class WidgetIn(Strict):
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)
    enabled: bool = True


class WidgetOut(Schema):
    client: str
    allowed_origins: list[str]
    enabled: bool
    script: str


class SessionOut(Schema):
    id: int
    client: str
    case: str
    topic: str
    language: str
    status: str
    started_at: datetime
    last_seq: int
    visitor_read_seq: int
    agent_read_seq: int


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _link_faq(client: Client, token: str, case: Any) -> None:
    """The chat is open whatever happens here: a bad or old token only loses the note."""
    from satupintu.knowledge.services import faq
    from satupintu.knowledge.views_help import question_for

    try:
        faq.link_to_chat(question_for(client, token), case)
    except Http404:
        log.info("chat %s: FAQ token not recognised", case.reference)


@router.post("/sessions", auth=None, url_name="chat_start",
             response={201: StartOut, 400: ErrorOut, 404: ErrorOut, 429: ErrorOut},
             summary="Start a chat (the pre-chat form); returns the session token once")
def start(request: HttpRequest, payload: StartIn) -> Status:
    language = payload.language if payload.language in {"id", "en"} else "id"
    with translation.override(language):
        key = f"webchat:start:{_client_ip(request)}"
        count = cache.get(key) or 0
        if count >= START_LIMIT:
            return Status(429, ErrorOut(code="rate_limited", message=_(
                "Too many chats were started from here. Please try again later.")))
        try:
            cache.incr(key)
        except ValueError:  # not there (first chat, or the window expired)
            cache.set(key, 1, START_WINDOW)
        client = Client.objects.filter(code=payload.client, is_active=True).first()
        if client is None:
            return Status(404, ErrorOut(code="not_found", message=_("Not found.")))
        try:
            session, token = services.start_session(
                client, name=payload.name, contact=payload.contact, topic=payload.topic,
                message=payload.message, language=language)
        except ValidationError as exc:
            return Status(400, ErrorOut(code=exc.code or "rejected",
                                        message=" ".join(exc.messages)))
        if payload.faq_token and session.case is not None:
            _link_faq(client, payload.faq_token, session.case)
    return Status(201, StartOut(session=session.pk, token=token,
                                case=session.case.reference if session.case else ""))


@router.post("/upload", auth=None, url_name="chat_upload",
             response={200: AckOut, 400: ErrorOut, 401: ErrorOut, 413: ErrorOut,
                       429: ErrorOut},
             summary="Send a file into a chat (header X-Chat-Token; multipart: cid, file)")
def upload(request: HttpRequest, file: File[UploadedFile], cid: Form[str]) -> Status:
    try:
        session = services.authenticate(request.headers.get("X-Chat-Token", ""))
    except services.ChatError as exc:
        return Status(401, ErrorOut(code=exc.code, message=exc.message))
    with translation.override(session.language):
        if services.check_rate(session.pk, "msg"):
            return Status(429, ErrorOut(code="rate_limited", message=_(
                "You are sending messages too fast. Please wait a moment.")))
    try:
        ack = services.receive_file(session, cid, file)
    except services.ChatError as exc:
        status = 413 if exc.code == "too_large" else 400
        return Status(status, ErrorOut(code=exc.code, message=exc.message))
    return Status(200, AckOut(**ack))


@router.get("/sessions", response=list[SessionOut], summary="Open chats of your clients")
def list_sessions(request: HttpRequest) -> list[SessionOut]:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    rows = (scoped(ChatSession.objects.filter(status=SessionStatus.ACTIVE), request)
            .select_related("client", "case").order_by("-started_at")[:200])
    return [SessionOut(id=s.pk, client=s.client.code,
                       case=s.case.reference if s.case else "", topic=s.topic,
                       language=s.language, status=s.status, started_at=s.started_at,
                       last_seq=s.last_seq, visitor_read_seq=s.visitor_read_seq,
                       agent_read_seq=s.agent_read_seq) for s in rows]


def _widget_out(request: HttpRequest, client: Client) -> WidgetOut:
    widget = services.widget_for(client)
    src = request.build_absolute_uri(reverse("webchat:widget_js"))
    return WidgetOut(client=client.code, allowed_origins=widget.origins, enabled=widget.enabled,
                     script=services.embed_tag(src, client))


@router.get("/widgets/{code}", response=WidgetOut,
            summary="A client's widget settings and the script tag to embed")
def get_widget(request: HttpRequest, code: str) -> WidgetOut:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    client = get_visible_or_404(visible_clients(request), code=code)
    return _widget_out(request, client)


@router.put("/widgets/{code}", response=WidgetOut,
            summary="Set where a client's widget may be embedded (administrators)")
def put_widget(request: HttpRequest, code: str, payload: WidgetIn) -> WidgetOut:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    client = get_visible_or_404(visible_clients(request), code=code)
    services.configure_widget(client, by=request.user,  # type: ignore[arg-type]
                              allowed_origins=payload.allowed_origins,
                              enabled=payload.enabled, request=request)
    return _widget_out(request, client)
