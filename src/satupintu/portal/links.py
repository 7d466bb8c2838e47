"""Signed links that let a customer follow their case without an account.

The token names the case reference and is signed with the site's secret (Django's signing,
salted for this purpose), so it cannot be forged or turned into another case's link. It is
put in every outbound message; the status view (``portal:status``) checks it.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

SALT = "satupintu.portal.case-status"
MAX_AGE_DAYS = 180


def status_token(reference: str) -> str:
    return signing.TimestampSigner(salt=SALT).sign(reference)


def reference_from_token(token: str) -> str | None:
    """The case reference the token was made for, or None if forged, altered or too old."""
    try:
        return signing.TimestampSigner(salt=SALT).unsign(token, max_age=MAX_AGE_DAYS * 86400)
    except signing.BadSignature:
        return None


def public_status_url(reference: str) -> str:
    """Absolute link for messages that leave the platform (e-mail, WhatsApp)."""
    base = getattr(settings, "SATUPINTU_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/public/status/{status_token(reference)}/"
