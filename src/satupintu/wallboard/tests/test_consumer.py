"""The live wallboard over WebSockets, through the real ASGI application."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client as HttpClient
from django.utils import timezone

from satupintu.config.asgi import application
from satupintu.routing.services import live
from satupintu.wallboard import consumers
from satupintu.wallboard.tests.factories import Builder, K, presence

pytestmark = pytest.mark.django_db(transaction=True)


def _headers(user, *, verified: bool = True) -> list[tuple[bytes, bytes]]:
    from conftest import verified_login

    http = HttpClient()
    if verified:
        verified_login(http, user)
    else:
        http.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={http.cookies[settings.SESSION_COOKIE_NAME].value}"
    return [(b"cookie", cookie.encode()), (b"origin", b"http://testserver"),
            (b"host", b"testserver")]


async def _open(user, *, verified: bool = True, path: str = "/ws/wallboard/"):
    headers = await sync_to_async(_headers)(user, verified=verified)
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def _figures(communicator) -> dict:
    while True:
        frame = await communicator.receive_json_from(timeout=2)
        if frame["type"] == "figures":
            return frame


def _general(frame: dict) -> dict:
    return next(q for q in frame["queues"] if q["code"] == "general")["cells"]


async def test_routing_notice_brings_new_figures_within_a_second(org):
    b = Builder(org.alpha, org.sam)
    now = timezone.now()
    await sync_to_async(b.item)("general", [(K.ENQUEUED, now, None)])
    sam, connected, _ = await _open(org.sam)
    assert connected
    hello = await sam.receive_json_from()
    assert hello == {"type": "hello", "clients": ["alpha"]}
    first = await _figures(sam)
    assert first["client"] == "alpha" and _general(first)["waiting"]["value"] == 1
    assert "tick_from" in _general(first)["longest_wait"]
    # a second contact enters and a notice follows (as routing's services send it)
    await sync_to_async(b.item)("general", [(K.ENQUEUED, timezone.now(), None)])
    started = time.monotonic()
    await sync_to_async(live.routing)([org.alpha.pk])  # routing's own after-commit notice
    frame = await _figures(sam)
    assert time.monotonic() - started < 1.0
    assert _general(frame)["waiting"]["value"] == 2 and _general(frame)["offered"]["value"] == 2
    await sam.disconnect()


async def _notify(client_id: int, kind: str) -> None:
    await get_channel_layer().group_send(live.wallboard_group(client_id),
                                         {"type": "notify", "payload": {"kind": kind}})


async def test_a_burst_of_notices_is_throttled_and_presence_moves_the_agent(org):
    await sync_to_async(presence)(org.alice, ("ready", timezone.now(), ""))
    sam, connected, _ = await _open(org.sam)
    assert connected
    await _figures(sam)
    await sync_to_async(presence)(org.alice, ("not_ready", timezone.now(), "break"))
    started = time.monotonic()
    for _ in range(10):
        await _notify(org.alpha.pk, "presence")
    frames = [await _figures(sam)]
    assert time.monotonic() - started < 1.0
    while not await sam.receive_nothing(timeout=0.6):
        frames.append(await _figures(sam))
    assert len(frames) <= 2  # the first at once, at most one more for the rest of the burst
    agent = frames[-1]["teams"][0]["agents"][0]
    assert agent["username"] == "alice" and agent["state"] == "not_ready"
    assert agent["fields"]["state"]["text"] == "Not ready"
    await sam.disconnect()


async def test_client_viewer_frames_carry_no_agents_and_others_see_nothing(org):
    await sync_to_async(presence)(org.alice, ("ready", timezone.now(), ""))
    charlie, connected, _ = await _open(org.charlie)
    assert connected
    assert (await charlie.receive_json_from())["clients"] == ["alpha"]
    frame = await _figures(charlie)
    assert frame["teams"] == [] and "alice" not in str(frame)
    dave, connected, _ = await _open(org.dave)
    assert connected
    assert (await dave.receive_json_from())["clients"] == ["bravo"]
    frame = await _figures(dave)
    assert frame["client"] == "bravo"
    await _notify(org.alpha.pk, "routing")
    assert await dave.receive_nothing(timeout=0.6)  # alpha's notices never reach bravo's
    await charlie.disconnect()
    await dave.disconnect()


async def test_anonymous_agents_and_unverified_sessions_are_refused(org):
    communicator = WebsocketCommunicator(application, "/ws/wallboard/",
                                         headers=[(b"origin", b"http://testserver"),
                                                  (b"host", b"testserver")])
    connected, code = await communicator.connect()
    assert not connected and code == consumers.CLOSE_UNAUTHENTICATED
    _, connected, code = await _open(org.alice)
    assert not connected and code == consumers.CLOSE_FORBIDDEN
    _, connected, code = await _open(org.sam, verified=False)  # supervisor without MFA
    assert not connected and code == consumers.CLOSE_FORBIDDEN


async def test_a_session_ended_elsewhere_is_refused(org):
    from satupintu.accounts.models import UserSession

    headers = await sync_to_async(_headers)(org.sam)
    key = dict(headers)[b"cookie"].decode().split("=", 1)[1]
    await sync_to_async(UserSession.objects.update_or_create)(
        session_key=key, defaults={"user": org.sam, "last_seen_at": timezone.now(),
                                   "ended_at": timezone.now(),
                                   "end_reason": UserSession.EndReason.ENDED_BY_ADMIN})
    communicator = WebsocketCommunicator(application, "/ws/wallboard/", headers=headers)
    connected, code = await communicator.connect()
    assert not connected and code == consumers.CLOSE_FORBIDDEN


async def test_channel_layer_failure_degrades_with_figures(org, monkeypatch):
    layer = get_channel_layer()

    async def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(layer, "group_add", broken)
    sam, connected, _ = await _open(org.sam)
    assert connected
    assert await sam.receive_json_from() == {"type": "degraded"}
    frame = await sam.receive_json_from()
    assert frame["type"] == "figures" and frame["client"] == "alpha"
    closed = await sam.receive_output(timeout=1)
    assert closed == {"type": "websocket.close", "code": consumers.CLOSE_DEGRADED}


async def test_periodic_refresh_keeps_clocks_true(org, monkeypatch):
    monkeypatch.setattr(consumers, "TICK", 0.2)
    sam, connected, _ = await _open(org.sam)
    assert connected
    first = await _figures(sam)
    await asyncio.sleep(0.05)
    second = await _figures(sam)
    assert second["as_of"] > first["as_of"]
    await sam.disconnect()
    await asyncio.sleep(0.5)  # a computation already on its worker thread ends (and closes)


async def test_a_failed_computation_is_retried_by_the_next_tick(org, monkeypatch):
    from satupintu.wallboard import kpis

    real = kpis.day_figures
    calls = {"n": 0}

    def flaky(client, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database hiccup")
        return real(client, *args, **kwargs)

    monkeypatch.setattr(kpis, "day_figures", flaky)
    monkeypatch.setattr(consumers, "TICK", 0.2)
    sam, connected, _ = await _open(org.sam)
    assert connected
    assert (await sam.receive_json_from())["type"] == "hello"
    frame = await _figures(sam)  # not from the failed first computation: from a tick
    assert frame["client"] == "alpha" and calls["n"] >= 2
    await sam.disconnect()
    await asyncio.sleep(0.5)
