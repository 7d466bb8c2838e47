"""A fixed-window per-IP rate limit on Django's cache, for the public help page and API."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest

LIMITS = {"ask": (30, 60), "feedback": (30, 60), "handoff": (5, 3600)}


def client_ip(request: HttpRequest) -> str:
    """The peer address; a proxy in front sets REMOTE_ADDR through its ASGI server."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")[:64]


def allow(request: HttpRequest, bucket: str) -> bool:
    """Count one hit; False once this IP used up the bucket's allowance in this window."""
    limit, window = LIMITS[bucket]
    key = f"sp-rl:{bucket}:{client_ip(request)}:{int(time.time() // window)}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    return count <= limit
