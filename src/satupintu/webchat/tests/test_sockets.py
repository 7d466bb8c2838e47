"""Real WebSocket traffic through the ASGI application: the visitor's socket (token in the
first frame) and the agent's (login session, client scope)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from satupintu.cases import services as cases
from satupintu.cases.models import CaseEvent
from satupintu.config.asgi import application
from satupintu.inbox.models import InboundMessage, OutboundMessage
from satupintu.webchat import services
from satupintu.webchat.models import ChatMessage, ChatSession

pytestmark = [pytest.mark.django_db(transaction=True)]

HEADERS = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


@pytest.fixture(autouse=True)
def _fresh_limits():
    services.reset_rates()
    yield
    services.reset_rates()


def _start(org: Any, contact: str = "dewi@example.co.id") -> tuple[ChatSession, str]:
    session, token = services.start_session(org.alpha, name="Dewi Lestari", contact=contact,
                                            topic="Kartu kredit", message="Kartu terblokir.")
    return session, token


async def _visitor(token: str, *, last_seq: int | None = None) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(application, "/ws/chat/visitor/", headers=HEADERS)
    connected, _ = await ws.connect(timeout=10)
    assert connected
    await ws.send_json_to({"type": "hello", "token": token})
    welcome = await ws.receive_json_from(timeout=10)
    assert welcome["type"] == "welcome", welcome
    if last_seq is not None:
        await ws.send_json_to({"type": "resume", "last_seq": last_seq})
    return ws


async def _until(ws: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    for _ in range(50):
        frame = await ws.receive_json_from(timeout=3)
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


def _cookie(client: Any, user: Any, login: Any) -> list[tuple[bytes, bytes]]:
    login(client, user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={value}".encode()), *HEADERS]


async def _agent(client: Any, user: Any, login: Any) -> WebsocketCommunicator:
    headers = await sync_to_async(_cookie)(client, user, login)
    ws = WebsocketCommunicator(application, "/ws/chat/agent/", headers=headers)
    connected, _ = await ws.connect(timeout=10)
    assert connected
    assert (await ws.receive_json_from(timeout=10))["type"] == "hello"
    return ws


async def test_message_is_acknowledged_once_and_resend_is_not_duplicated(org):
    session, token = await sync_to_async(_start)(org)
    ws = await _visitor(token)
    await ws.send_json_to({"type": "msg", "cid": "c-1", "text": "Halo, ada orang?"})
    frames = {f["type"]: f for f in [await ws.receive_json_from(timeout=10),
                                      await ws.receive_json_from(timeout=10)]}
    assert frames["ack"] == {"type": "ack", "cid": "c-1", "seq": 2}
    echo = frames["msg"]  # the visitor's other tabs see it too
    assert echo["cid"] == "c-1" and echo["seq"] == 2 and echo["from"] == "visitor"
    await ws.send_json_to({"type": "msg", "cid": "c-1", "text": "Halo, ada orang?"})
    assert await ws.receive_json_from(timeout=10) == {"type": "ack", "cid": "c-1", "seq": 2}
    await ws.disconnect()
    # the resend after a reconnect: the same row, the same entry, the same ack
    ws = await _visitor(token)
    await ws.send_json_to({"type": "msg", "cid": "c-1", "text": "Halo, ada orang?"})
    assert await ws.receive_json_from(timeout=10) == {"type": "ack", "cid": "c-1", "seq": 2}
    await ws.disconnect()
    count = await sync_to_async(CaseEvent.objects.filter(
        case_id=session.case_id, kind="inbound", body="Halo, ada orang?").count)()
    assert count == 1
    assert await sync_to_async(InboundMessage.objects.filter(
        channel="chat", external_id=f"{session.pk}:c-1").count)() == 1


async def test_resume_after_reconnect_gets_every_missed_agent_message_in_order(org):
    session, token = await sync_to_async(_start)(org)
    ws = await _visitor(token, last_seq=0)
    first = await ws.receive_json_from(timeout=10)
    assert first["seq"] == 1 and first["text"] == "Kartu terblokir."
    assert (await ws.receive_json_from(timeout=10)) == {"type": "resumed", "last_seq": 1}
    await ws.disconnect()
    case = await sync_to_async(lambda: ChatSession.objects.get(pk=session.pk).case)()
    for text in ("Baik, saya bantu.", "Kartu sudah dibuka."):
        await sync_to_async(cases.reply)(case, text, by=org.alice)
    ws = await _visitor(token, last_seq=1)
    two = await ws.receive_json_from(timeout=10)
    three = await ws.receive_json_from(timeout=10)
    assert (two["seq"], two["text"], two["from"], two["name"]) == (
        2, "Baik, saya bantu.", "agent", "Alice")
    assert (three["seq"], three["text"]) == (3, "Kartu sudah dibuka.")
    assert await ws.receive_json_from(timeout=10) == {"type": "resumed", "last_seq": 3}
    # live while connected
    await sync_to_async(cases.reply)(case, "Ada lagi?", by=org.alice)
    live = await ws.receive_json_from(timeout=10)
    assert live["seq"] == 4 and live["text"] == "Ada lagi?"
    assert await ws.receive_nothing()
    await ws.disconnect()


async def test_flood_and_oversized_messages_get_error_frames_not_a_disconnect(org):
    session, token = await sync_to_async(_start)(org)
    ws = await _visitor(token)
    for i in range(services.FLOOD_MESSAGES):
        await ws.send_json_to({"type": "msg", "cid": f"f-{i}", "text": f"spam {i}"})
    frames = [await ws.receive_json_from(timeout=10) for _ in range(2 * services.FLOOD_MESSAGES)]
    acks = [f for f in frames if f["type"] == "ack"]
    assert sorted(f["seq"] for f in acks) == list(range(2, 2 + services.FLOOD_MESSAGES))
    await ws.send_json_to({"type": "msg", "cid": "f-over", "text": "one too many"})
    error = await ws.receive_json_from(timeout=10)
    assert error["type"] == "error" and error["code"] == "rate_limited"
    assert error["cid"] == "f-over" and error["retry_after"] > 0 and error["message"]
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=10) == {"type": "pong"}  # still connected
    services.reset_rates()
    await ws.send_json_to({"type": "msg", "cid": "big", "text": "x" * (services.MAX_TEXT + 1)})
    error = await ws.receive_json_from(timeout=10)
    assert (error["code"], error["cid"]) == ("too_long", "big")
    await ws.send_to(text_data="{not json")
    assert (await ws.receive_json_from(timeout=10))["code"] == "bad_frame"
    await ws.send_to(text_data="x" * 40_000)
    assert (await ws.receive_json_from(timeout=10))["code"] == "bad_frame"
    await ws.send_json_to({"type": "msg", "cid": "bad id!", "text": "hi"})
    assert (await ws.receive_json_from(timeout=10))["code"] == "bad_cid"
    await ws.send_json_to({"type": "nonsense"})
    assert (await ws.receive_json_from(timeout=10))["code"] == "unknown_type"
    await ws.disconnect()
    stored = await sync_to_async(ChatMessage.objects.filter(session_id=session.pk).count)()
    assert stored == 1 + services.FLOOD_MESSAGES


async def test_bad_expired_and_ended_tokens_are_refused_with_a_reason(org):
    from datetime import timedelta

    ws = WebsocketCommunicator(application, "/ws/chat/visitor/", headers=HEADERS)
    assert (await ws.connect(timeout=10))[0]
    await ws.send_json_to({"type": "msg", "cid": "c-1", "text": "no hello"})
    assert (await ws.receive_json_from(timeout=10))["code"] == "not_authenticated"
    assert (await ws.receive_output(timeout=10))["code"] == 4401

    ws = WebsocketCommunicator(application, "/ws/chat/visitor/", headers=HEADERS)
    await ws.connect(timeout=10)
    await ws.send_json_to({"type": "hello", "token": "x" * 43, "lang": "en"})
    frame = await ws.receive_json_from(timeout=10)
    assert frame["code"] == "bad_token" and frame["message"] == "This chat could not be found."
    assert (await ws.receive_output(timeout=10))["code"] == 4401

    session, token = await sync_to_async(_start)(org)
    await sync_to_async(ChatSession.objects.filter(pk=session.pk).update)(
        started_at=session.started_at - services.TOKEN_TTL - timedelta(minutes=1))
    ws = WebsocketCommunicator(application, "/ws/chat/visitor/", headers=HEADERS)
    await ws.connect(timeout=10)
    await ws.send_json_to({"type": "hello", "token": token})
    assert (await ws.receive_json_from(timeout=10))["code"] == "token_expired"
    assert (await ws.receive_output(timeout=10))["code"] == 4410

    session, token = await sync_to_async(_start)(org)
    await sync_to_async(services.end_session)(session)
    ws = WebsocketCommunicator(application, "/ws/chat/visitor/", headers=HEADERS)
    await ws.connect(timeout=10)
    await ws.send_json_to({"type": "hello", "token": token})
    assert (await ws.receive_json_from(timeout=10))["code"] == "session_ended"


async def test_foreign_origin_is_refused(org):
    ws = WebsocketCommunicator(application, "/ws/chat/visitor/",
                               headers=[(b"origin", b"http://evil.example"),
                                        (b"host", b"testserver")])
    connected, _ = await ws.connect(timeout=10)
    assert not connected


async def test_transcript_and_read_state_and_typing(client, org, login):
    session, token = await sync_to_async(_start)(org)
    alice = await _agent(client, org.alice, login)
    ws = await _visitor(token)
    await ws.send_json_to({"type": "typing", "on": True})
    assert await alice.receive_json_from(timeout=10) == {"type": "typing", "session": session.pk,
                                               "on": True}
    await ws.send_json_to({"type": "read", "seq": 1})
    assert await alice.receive_json_from(timeout=10) == {"type": "read", "session": session.pk,
                                               "seq": 1}
    await alice.send_json_to({"type": "typing", "session": session.pk, "on": True})
    assert await ws.receive_json_from(timeout=10) == {"type": "typing", "on": True, "name": "Alice"}
    await alice.send_json_to({"type": "read", "session": session.pk, "seq": 1})
    assert await ws.receive_json_from(timeout=10) == {"type": "read", "seq": 1}
    await ws.send_json_to({"type": "transcript"})
    assert await ws.receive_json_from(timeout=10) == {"type": "transcript_queued"}
    row = await sync_to_async(OutboundMessage.objects.get)(kind="transcript")
    assert row.channel == "email" and row.recipient == "dewi@example.co.id"
    await ws.send_json_to({"type": "end"})
    assert await ws.receive_json_from(timeout=10) == {"type": "ended"}
    await ws.send_json_to({"type": "msg", "cid": "late", "text": "masih di sini?"})
    assert (await ws.receive_json_from(timeout=10))["code"] == "session_ended"
    await ws.disconnect()
    await alice.disconnect()


async def test_agent_socket_is_scoped_to_the_agents_clients(client, org, login):
    session, token = await sync_to_async(_start)(org)
    alice = await _agent(client, org.alice, login)
    bob = await _agent(client, org.bob, login)
    ws = await _visitor(token)
    await ws.send_json_to({"type": "msg", "cid": "c-7", "text": "Rahasia bank"})
    seen = await alice.receive_json_from(timeout=10)
    assert seen["type"] == "message" and seen["text"] == "Rahasia bank"
    assert seen["session"] == session.pk and seen["from"] == "visitor"
    assert await bob.receive_nothing()
    await bob.send_json_to({"type": "typing", "session": session.pk, "on": True})
    assert await bob.receive_json_from(timeout=10) == {"type": "error", "code": "not_found"}
    await bob.send_json_to({"type": "read", "session": session.pk, "seq": 2})
    assert await bob.receive_json_from(timeout=10) == {"type": "error", "code": "not_found"}
    assert {(await ws.receive_json_from(timeout=10))["type"] for _ in range(2)} == {"ack", "msg"}
    assert await ws.receive_nothing()  # bob's typing never reached the visitor
    read = await sync_to_async(lambda: ChatSession.objects.get(pk=session.pk).agent_read_seq)()
    assert read == 0
    for other in (alice, bob, ws):
        await other.disconnect()


async def test_agent_socket_refuses_anonymous_and_unverified(client, org):
    ws = WebsocketCommunicator(application, "/ws/chat/agent/", headers=HEADERS)
    connected, code = await ws.connect(timeout=10)
    assert not connected and code == 4401

    def unverified() -> list[tuple[bytes, bytes]]:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.create(user=org.sam, name="t", confirmed=True)
        client.force_login(org.sam)  # a supervisor who has not passed the second factor
        value = client.cookies[settings.SESSION_COOKIE_NAME].value
        return [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={value}".encode()), *HEADERS]

    ws = WebsocketCommunicator(application, "/ws/chat/agent/",
                               headers=await sync_to_async(unverified)())
    connected, code = await ws.connect(timeout=10)
    assert not connected and code == 4403
