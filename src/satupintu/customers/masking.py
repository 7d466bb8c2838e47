"""Masking personal data for roles that do not need to see it whole.

Unmasking is a service call (``services.reveal``) that leaves an audit entry.
"""

from __future__ import annotations

MASK = "•"


def mask_nik(value: str) -> str:
    """Only the last 4 digits."""
    if not value:
        return ""
    return MASK * max(len(value) - 4, 0) + value[-4:]


def mask_card(value: str) -> str:
    """At most the first 6 and the last 4 digits (PCI DSS 3.4)."""
    digits = "".join(ch for ch in value or "" if ch.isdigit())
    if not digits:
        return ""
    if len(digits) <= 10:
        return MASK * max(len(digits) - 4, 0) + digits[-4:]
    return digits[:6] + MASK * (len(digits) - 10) + digits[-4:]


def mask_phone(value: str) -> str:
    """Country code and the last 3 digits: ``+62•••••••890``."""
    if not value:
        return ""
    head = value[:3] if value.startswith("+") else ""
    tail = value[-3:]
    return head + MASK * max(len(value) - len(head) - 3, 0) + tail


def mask_email(value: str) -> str:
    """First letter of the mailbox and the domain: ``d•••@example.co.id``."""
    if not value or "@" not in value:
        return mask_nik(value)
    local, domain = value.rsplit("@", 1)
    return local[:1] + MASK * max(len(local) - 1, 3) + "@" + domain


def mask_identity(kind: str, value: str) -> str:
    if kind in {"phone", "whatsapp"}:
        return mask_phone(value)
    if kind == "email":
        return mask_email(value)
    return value
