"""WebSocket routes; each app adds its consumers here as it grows."""

from __future__ import annotations

from django.urls import path

from satupintu.web.consumers import NotificationsConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationsConsumer.as_asgi()),
]
