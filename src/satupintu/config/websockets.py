"""WebSocket routes; each app adds its consumers here as it grows."""

from __future__ import annotations

from django.urls import path

from satupintu.wallboard.consumers import WallboardConsumer
from satupintu.web.consumers import NotificationsConsumer
from satupintu.webchat.consumers import AgentChatConsumer, VisitorConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
    path("ws/wallboard/", WallboardConsumer.as_asgi()),
    path("ws/chat/visitor/", VisitorConsumer.as_asgi()),
    path("ws/chat/agent/", AgentChatConsumer.as_asgi()),
]
