"""Real WebSocket traffic through the ASGI application: only signed-in users connect."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from satupintu.config.asgi import application
from satupintu.web.consumers import user_group

pytestmark = [pytest.mark.django_db(transaction=True)]


def _session_cookie(client, user) -> list[tuple[bytes, bytes]]:
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return [(b"cookie", cookie.encode()), (b"origin", b"http://testserver"),
            (b"host", b"testserver")]


async def test_anonymous_socket_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/notifications/",
                                         headers=[(b"origin", b"http://testserver"),
                                                  (b"host", b"testserver")])
    connected, code = await communicator.connect()
    assert not connected and code == 4401


async def test_signed_in_user_gets_pings_and_group_notifications(client, org):
    headers = await sync_to_async(_session_cookie)(client, org.alice)
    communicator = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_json_from() == {"type": "hello", "user": "alice"}
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await get_channel_layer().group_send(user_group(org.alice.pk),
                                         {"type": "notify", "payload": {"case": "SP-1"}})
    assert await communicator.receive_json_from() == {"type": "notification",
                                                      "payload": {"case": "SP-1"}}
    await communicator.disconnect()


async def test_foreign_origin_is_refused(client, org):
    headers = await sync_to_async(_session_cookie)(client, org.alice)
    headers = [h for h in headers if h[0] != b"origin"] + [(b"origin", b"http://evil.example")]
    communicator = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    connected, _ = await communicator.connect()
    assert not connected
