"""The two chat sockets: the visitor's (opened by the session token in its first frame, no
login) and the agent's (the login session, MFA-verified, scoped to the agent's clients).

A bad frame, a flood or a refused message gets an ``error`` frame with a code; the socket
stays open (a disconnect would only make the widget reconnect and resend: a storm). Only an
unusable token closes it, with the reason code in the last frame and the close code.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext as _

from satupintu.webchat import services
from satupintu.webchat.models import ChatSession

log = logging.getLogger(__name__)

MAX_FRAME = 32 * 1024          # characters: a 5,000-character message fits with room
CLOSE_BAD_TOKEN = 4401
CLOSE_GONE = 4410
CLOSE_FORBIDDEN = 4403


def _authenticate(token: Any, language: str) -> Any:
    """The refusal is worded in the language the visitor's hello asked for."""
    with translation.override(language):
        return services.authenticate(token)


def _error_text(code: str, language: str) -> str:
    with translation.override(language):
        messages = {
            "bad_frame": _("The message could not be read."),
            "not_authenticated": _("Start the chat first."),
            "unknown_type": _("Unknown kind of message."),
            "rate_limited": _("You are sending messages too fast. Please wait a moment."),
            "session_ended": _("This chat has ended. Start a new one."),
            "server_error": _("Something went wrong; your message was not sent. "
                              "It will be sent again."),
            "not_found": _("Not found."),
        }
        return messages.get(code, messages["bad_frame"])


class VisitorConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    session: ChatSession | None = None
    language = "id"
    ended = False

    async def connect(self) -> None:
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.session is not None:
            await self.channel_layer.group_discard(services.session_group(self.session.pk),
                                                   self.channel_name)
            await self.channel_layer.group_send(
                services.client_group(self.session.client_id),
                {"type": "chat.frame", "frame": {"type": "typing", "session": self.session.pk,
                                                 "on": False}})

    async def send_json(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def error(self, code: str, message: str = "", **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code,
                              "message": message or _error_text(code, self.language), **extra})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data) > MAX_FRAME:
            await self.error("bad_frame")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.error("bad_frame")
            return
        if not isinstance(content, dict):
            await self.error("bad_frame")
            return
        try:
            await self.dispatch_frame(content)
        except services.ChatError as exc:
            extra = {"cid": content["cid"]} if isinstance(content.get("cid"), str) else {}
            await self.error(exc.code, exc.message, **extra)
        except Exception:  # never a crashed socket: the widget keeps the message and resends
            log.exception("chat frame failed")
            extra = {"cid": content["cid"]} if isinstance(content.get("cid"), str) else {}
            await self.error("server_error", **extra)

    async def dispatch_frame(self, content: dict[str, Any]) -> None:
        kind = content.get("type")
        if kind == "hello":
            await self.hello(content)
            return
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        session = self.session
        if session is None:
            await self.error("not_authenticated")
            await self.close(code=CLOSE_BAD_TOKEN)
            return
        if kind == "msg":
            cid = content.get("cid")
            if self.ended:
                raise services.ChatError("session_ended", _error_text("session_ended",
                                                                      self.language))
            wait = services.check_rate(session.pk, "msg")
            if wait:
                await self.error("rate_limited", cid=cid if isinstance(cid, str) else None,
                                 retry_after=round(wait, 1))
                return
            ack = await database_sync_to_async(services.receive)(session, cid,
                                                                 content.get("text"))
            await self.send_json(ack)
            return
        if services.check_rate(session.pk, "frame"):
            await self.error("rate_limited")
            return
        if kind == "resume":
            last = content.get("last_seq", 0)
            last = last if isinstance(last, int) and last >= 0 else 0
            frames = await database_sync_to_async(services.history)(session, last)
            for frame in frames:
                await self.send_json(frame)
            await self.send_json({"type": "resumed",
                                  "last_seq": frames[-1]["seq"] if frames else last})
        elif kind == "typing":
            await self.channel_layer.group_send(
                services.client_group(session.client_id),
                {"type": "chat.frame", "frame": {"type": "typing", "session": session.pk,
                                                 "on": bool(content.get("on"))}})
        elif kind == "read":
            await database_sync_to_async(services.mark_read)(session, content.get("seq"),
                                                              by_agent=False)
        elif kind == "transcript":
            await database_sync_to_async(services.send_transcript)(
                session, str(content.get("address") or "")[:254])
            await self.send_json({"type": "transcript_queued"})
        elif kind == "end":
            await database_sync_to_async(services.end_session)(session)
        else:
            await self.error("unknown_type")

    async def hello(self, content: dict[str, Any]) -> None:
        if content.get("lang") in {"id", "en"}:
            self.language = content["lang"]
        if self.session is not None:
            return
        try:
            session = await database_sync_to_async(_authenticate)(content.get("token"),
                                                                  self.language)
        except services.ChatError as exc:
            await self.error(exc.code, exc.message)
            await self.close(code=CLOSE_BAD_TOKEN if exc.code == "bad_token" else CLOSE_GONE)
            return
        self.session, self.language = session, session.language
        await self.channel_layer.group_add(services.session_group(session.pk),
                                           self.channel_name)
        await self.send_json(await database_sync_to_async(_welcome)(session))

    async def chat_frame(self, event: dict[str, Any]) -> None:
        frame = event["frame"]
        if frame.get("type") == "ended":
            self.ended = True
        await self.send_json(frame)


def _welcome(session: ChatSession) -> dict[str, Any]:
    session.refresh_from_db()
    assignee = session.case.assignee if session.case_id and session.case else None
    return {"type": "welcome", "session": session.pk, "last_seq": session.last_seq,
            "agent_read_seq": session.agent_read_seq, "status": session.status,
            "agent": services.first_name(assignee),
            "case": session.case.reference if session.case else ""}


def _agent_scope(user: Any, session: Any) -> tuple[bool, list[int]]:
    """May this login use the agent socket, and for which clients."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    from satupintu.accounts.permissions import client_ids, has_perm
    from satupintu.accounts.roles import Perm
    from satupintu.accounts.services import mfa

    if not has_perm(user, Perm.VIEW_OWN_WORK):
        return False, []
    if user.mfa_required or mfa.has_mfa(user):
        persistent = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
        device = Device.from_persistent_id(persistent) if persistent else None
        if device is None or device.user_id != user.pk:
            return False, []
    return True, sorted(client_ids(user))


class AgentChatConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    client_ids: list[int]

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_BAD_TOKEN)
            return
        allowed, ids = await database_sync_to_async(_agent_scope)(user, self.scope.get("session"))
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user, self.client_ids = user, ids
        for client_id in ids:
            await self.channel_layer.group_add(services.client_group(client_id),
                                               self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "hello"}))

    async def disconnect(self, code: int) -> None:
        for client_id in getattr(self, "client_ids", []):
            await self.channel_layer.group_discard(services.client_group(client_id),
                                                   self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            content = json.loads(text_data or "")
            session_id = int(content["session"])
        except (ValueError, KeyError, TypeError):
            await self.send(text_data=json.dumps({"type": "error", "code": "bad_frame"}))
            return
        session = await database_sync_to_async(
            ChatSession.objects.filter(pk=session_id, client_id__in=self.client_ids).first)()
        if session is None:
            await self.send(text_data=json.dumps({"type": "error", "code": "not_found"}))
            return
        kind = content.get("type")
        if kind == "typing":
            await self.channel_layer.group_send(
                services.session_group(session.pk),
                {"type": "chat.frame", "frame": {"type": "typing", "on": bool(content.get("on")),
                                                 "name": services.first_name(self.user)}})
        elif kind == "read":
            await database_sync_to_async(services.mark_read)(session, content.get("seq"),
                                                              by_agent=True)

    async def chat_frame(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(event["frame"], ensure_ascii=False))
