"""The live wallboard over WebSockets.

A connection joins ``wallboard.<client id>`` of every client its user may see. Routing and
presence notices only say "something moved"; the consumer sends fresh figures at once, and
at most one more frame per ``DEBOUNCE`` seconds for the rest of a burst (a throttle: the
first notice is not delayed, a burst of them costs two frames). Every ``TICK`` seconds it
sends them again so that the clocks (longest wait, time in state) stay true. The figures of
one client are computed at most once per frame per process and shared by every connection of
that process; what each connection sends is cut to what its user may see.

If the channel layer fails (Redis down) the consumer says so (``{"type": "degraded"}``) with the
figures it has and closes; the page then polls the HTTP endpoint and tells the reader.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import connection

from satupintu.accounts.models import Client
from satupintu.routing.services.live import wallboard_group
from satupintu.wallboard import board, kpis

log = logging.getLogger(__name__)

DEBOUNCE = 0.3
TICK = 5.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_DEGRADED = 4503


class _Shared:
    """Figures per client, shared by the connections of one event loop."""

    def __init__(self) -> None:
        self.entries: dict[int, tuple[float, kpis.DayFigures]] = {}
        self.locks: dict[int, asyncio.Lock] = {}
        # the encoded frame per figures and kind of viewer: 200 supervisors, one encoding
        self.frames: dict[tuple[int, board.Viewer], tuple[float, str]] = {}
        # when a notice for the client last reached this process
        self.noticed: dict[int, float] = {}

    def fresh_enough(self, client_id: int) -> float:
        """For a new connection: figures newer than the last notice and than the last tick
        are as good as new ones (200 browsers connecting must not mean 200 computations)."""
        return max(self.noticed.get(client_id, 0.0), time.monotonic() - TICK)

    async def figures(self, client: Client, fresher_than: float) -> kpis.DayFigures:
        entry = self.entries.get(client.pk)
        if entry is not None and entry[0] >= fresher_than:
            return entry[1]  # the common case: another connection has just computed it
        lock = self.locks.setdefault(client.pk, asyncio.Lock())
        async with lock:
            entry = self.entries.get(client.pk)
            if entry is not None and entry[0] >= fresher_than:
                return entry[1]
            started = time.monotonic()
            # a worker thread, not the one that serves every request: a long day's
            # computation must not hold up the routing writes queued behind it
            fig: kpis.DayFigures = await sync_to_async(_compute, thread_sensitive=False)(client)
            self.entries[client.pk] = (started, fig)
            return fig

    async def frame(self, client: Client, fresher_than: float, viewer: board.Viewer) -> str:
        fig = await self.figures(client, fresher_than)
        version = self.entries[client.pk][0]
        key = (client.pk, viewer)
        cached = self.frames.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        text = json.dumps(board.payload(fig, viewer))
        self.frames[key] = (version, text)
        return text


def _compute(client: Client) -> kpis.DayFigures:
    """On a pool thread: its own connection, closed again so no idle thread holds one."""
    try:
        return kpis.day_figures(client)
    finally:
        connection.close()


_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Shared] = (
    weakref.WeakKeyDictionary())


def shared() -> _Shared:
    loop = asyncio.get_running_loop()
    if loop not in _SHARED:
        _SHARED[loop] = _Shared()
    return _SHARED[loop]


def session_is_verified(scope: dict[str, Any]) -> bool:
    """The HTTP rules for a WebSocket: a live session that passed its second factor where
    the user has or needs one (``MFARequiredMiddleware``, ``SessionTimeoutMiddleware``)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    from satupintu.accounts.models import UserSession
    from satupintu.accounts.services import mfa, sessions

    user = scope.get("user")
    session = scope.get("session")
    if user is None or not user.is_authenticated or session is None:
        return False
    row = UserSession.objects.filter(session_key=session.session_key).first()
    if row is not None and (row.ended_at or sessions.expiry_reason(row)):
        return False
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    if device is not None and device.user_id == user.pk and device.confirmed:
        return True
    return not (user.mfa_required or mfa.has_mfa(user))


def _setup(scope: dict[str, Any]) -> tuple[board.Viewer | None, list[Client]]:
    if not session_is_verified(scope):
        return None, []
    viewer = board.viewer_for(scope["user"])
    if viewer is None:
        return None, []
    clients = board.visible_clients(viewer)
    wanted = parse_qs(scope.get("query_string", b"").decode()).get("client")
    if wanted:
        clients = [c for c in clients if c.code in wanted]
    return viewer, clients


class WallboardConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    viewer: board.Viewer
    clients: dict[int, Client]

    async def connect(self) -> None:
        self.ticker: asyncio.Task[None] | None = None
        self.pending: asyncio.Task[None] | None = None
        self.dirty: set[int] = set()
        self.noticed_at = 0.0
        self.flushed_at = 0.0
        self.groups_joined: list[str] = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        viewer, clients = await database_sync_to_async(_setup)(self.scope)
        if viewer is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.viewer, self.clients = viewer, {c.pk: c for c in clients}
        await self.accept()
        try:
            for client_id in self.clients:
                group = wallboard_group(client_id)
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.append(group)
        except Exception:
            log.exception("wallboard: the channel layer failed; the page falls back to polling")
            await self.send_json({"type": "degraded"})
            await self._send_all(None)
            await self.close(code=CLOSE_DEGRADED)
            return
        await self.send_json({"type": "hello", "clients": [c.code for c in clients]})
        await self._send_all(None)
        self.ticker = asyncio.create_task(self._tick())

    async def disconnect(self, code: int) -> None:
        for task in (self.ticker, self.pending):
            if task is not None:
                task.cancel()
        for group in getattr(self, "groups_joined", []):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # the layer is gone: nothing left to leave
                log.warning("wallboard: could not leave %s", group)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def notify(self, event: dict[str, Any]) -> None:
        """A routing or presence notice: refresh now, or once the throttle allows."""
        payload = event.get("payload") or {}
        client_id = payload.get("client") if isinstance(payload, dict) else None
        dirty = {client_id} if client_id in self.clients else set(self.clients)
        self.dirty |= dirty
        self.noticed_at = time.monotonic()
        for cid in dirty:
            shared().noticed[cid] = self.noticed_at
        if self.pending is None:
            self.pending = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self.dirty:
                await asyncio.sleep(max(0.0, self.flushed_at + DEBOUNCE - time.monotonic()))
                self.flushed_at = time.monotonic()
                dirty, since = self.dirty, self.noticed_at
                self.dirty = set()
                for client_id in dirty:
                    await self._send(client_id, since)
        finally:
            self.pending = None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            await self._send_all(time.monotonic() - TICK + 0.5)

    async def _send_all(self, fresher_than: float | None) -> None:
        """``None``: whatever is fresh enough for a new connection."""
        for client_id in self.clients:
            await self._send(client_id, fresher_than if fresher_than is not None
                             else shared().fresh_enough(client_id))

    async def _send(self, client_id: int, fresher_than: float) -> None:
        try:
            text = await shared().frame(self.clients[client_id], fresher_than, self.viewer)
        except Exception:  # a failed computation must not stop the clock: the next tick retries
            log.exception("wallboard: could not compute the figures of client %s", client_id)
            return
        await self.send(text_data=text)
