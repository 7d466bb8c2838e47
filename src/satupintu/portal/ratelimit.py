"""Fixed-window counters in Django's cache, for the public pages that take no login.

Local memory by default (per process: good enough for one node), Redis when ``REDIS_URL`` is
set so that every node counts together. A limit can be changed with the
``PORTAL_RATE_LIMITS`` setting: ``{"form_ip": (10, 3600), ...}`` (hits, seconds).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

DEFAULTS: dict[str, tuple[int, int]] = {
    "form_ip": (10, 3600),        # contact form submissions per IP address
    "form_email": (5, 3600),      # contact form submissions per e-mail address
    "reply_case": (20, 3600),     # replies from the status page per case
    "status_ip": (60, 600),       # status pages and bad links per IP address
    "lookup_ip": (10, 600),       # "send me a code" requests per IP address
    "lookup_ref": (5, 600),       # "send me a code" requests per case reference
    "code_ip": (20, 600),         # code entries per IP address
}


def limit_for(name: str) -> tuple[int, int]:
    custom = getattr(settings, "PORTAL_RATE_LIMITS", {}) or {}
    return tuple(custom.get(name, DEFAULTS[name]))  # type: ignore[return-value]


def _key(name: str, subject: str) -> str:
    # Hashed: the cache (Redis) never holds an e-mail address or a reference in clear.
    digest = hashlib.sha256(f"{name}:{subject}".encode()).hexdigest()[:32]
    return f"satupintu:rl:{name}:{digest}"


def hit(name: str, subject: str) -> bool:
    """Count one request; False once the limit of the window is passed."""
    limit, window = limit_for(name)
    key = _key(name, subject)
    if cache.add(key, 1, window):
        return limit >= 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    return count <= limit


def exceeded(name: str, subject: str) -> bool:
    """Whether the limit is already passed, without counting."""
    limit, _window = limit_for(name)
    return int(cache.get(_key(name, subject), 0)) >= limit


def hit_all(limits: tuple[tuple[str, str], ...]) -> bool:
    """Count one request against several limits at once, only when none is passed yet (a
    request refused by one limit does not use up another)."""
    if any(exceeded(name, subject) for name, subject in limits):
        return False
    return all([hit(name, subject) for name, subject in limits])
