"""Start-up checks for the keys that protect personal data."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, register


@register()
def encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    problems = []
    keys = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", []))
    if not keys:
        problems.append(Error("FIELD_ENCRYPTION_KEYS is empty.", id="satupintu.E101"))
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            problems.append(Error(
                f"FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes).", id="satupintu.E102"))
    if not getattr(settings, "BLIND_INDEX_KEY", ""):
        problems.append(Error("BLIND_INDEX_KEY is empty.", id="satupintu.E103"))
    return problems
