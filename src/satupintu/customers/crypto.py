"""Encryption of personal data at rest, and the blind index that still lets us find it.

A tiny field on ``cryptography``'s ``MultiFernet`` rather than a field library: the keys come
from ``FIELD_ENCRYPTION_KEYS`` (newest first encrypts, every key decrypts, so keys rotate
without downtime) and not from ``SECRET_KEY``; a value that no key opens is an error, never
silently shown as ciphertext.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "An encrypted value cannot be opened with FIELD_ENCRYPTION_KEYS; "
            "a key is missing from the list") from exc


def rotate(token: str) -> str:
    """Re-encrypt a stored value under the newest key."""
    return fernet().rotate(token.encode()).decode()


def blind_index(kind: str, normalised: str) -> str:
    """HMAC-SHA256 of a normalised value: equal values match, the value itself stays secret."""
    key = settings.BLIND_INDEX_KEY.encode()
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """Text stored Fernet-encrypted. It cannot be filtered or ordered on in the database;
    look values up through a blind index instead."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value)
