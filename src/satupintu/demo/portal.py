"""Demo data for the public pages: a web-form case per client (through the real inbox path,
so its notice e-mail sits in the outbox) and one quarantined message for the inbox page."""

from __future__ import annotations

import json
import random

from satupintu.accounts.models import Client
from satupintu.cases.models import ContactReason
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundStatus
from satupintu.portal import services

FORMS = [
    ("Rina Wulandari", "rina.wulandari@example.co.id", "081311122233", "id",
     "Selamat siang, saya ingin menanyakan status pengajuan saya minggu lalu. Terima kasih."),
    ("Andi Pratama", "andi.pratama@example.com", "", "en",
     "Hello, I was charged twice for my last order. Could you please check? Thank you."),
    ("Siti Rahmawati", "siti.rahma@example.co.id", "085712345678", "id",
     "Mohon bantuannya, aplikasi tidak bisa dibuka sejak kemarin sore."),
]


def build_portal(seed: int) -> None:
    rng = random.Random(seed + 61)
    for i, client in enumerate(Client.objects.filter(is_active=True).order_by("code")):
        name, email, phone, language, message = FORMS[i % len(FORMS)]
        reasons = list(ContactReason.objects.filter(client=client, is_active=True,
                                                    parent__isnull=False).order_by("id"))
        reason = rng.choice(reasons) if reasons else None
        services.submit_contact(services.Submission(
            client=client, nonce=f"demo-{seed}-{client.code}", name=name, email=email,
            phone=phone, reason_id=reason.pk if reason else None, message=message,
            language=language))
    # What an administrator finds on /inbox/: a form posted for a client that is gone.
    raw = json.dumps({"kind": "form", "client": "toko-lama", "name": "Budi",
                      "email": "budi@example.com", "message": "Halo?"}).encode()
    inbox.store_raw(services.CHANNEL, f"demo-{seed}-quarantined", raw,
                    status=InboundStatus.QUARANTINED,
                    reason="The web form message names no client.",
                    meta={"kind": "form", "email": "budi@example.com"})


def public_urls(base_url: str) -> list[str]:
    """Lines for the demo start-up output."""
    base = base_url.rstrip("/")
    codes = list(Client.objects.filter(is_active=True).order_by("code")
                 .values_list("code", flat=True))
    return [f"{base}/public/contact/{code}/" for code in codes] + [f"{base}/public/status/"]
