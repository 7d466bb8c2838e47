"""The demo's e-mails go through the real processor."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from satupintu.accounts.models import Client
from satupintu.cases.models import Case, CaseEvent
from satupintu.inbox.models import InboundMessage, InboundStatus
from satupintu.mail.models import MailAddress

pytestmark = pytest.mark.django_db


def test_build_mail(org: SimpleNamespace) -> None:
    from satupintu.demo.mail import build_mail

    for code in ("bank-nusantara", "telko-merah-putih", "pasar-kita"):
        client = Client.objects.create(center=org.center, code=code, name=code.title())
        org.team_a.clients.add(client)
    build_mail(2026)
    assert MailAddress.objects.count() == 3
    statuses = sorted(InboundMessage.objects.values_list("status", flat=True))
    assert statuses.count(InboundStatus.PROCESSED) == 4
    assert InboundStatus.IGNORED in statuses and InboundStatus.QUARANTINED in statuses
    bank = Case.objects.get(client__code="bank-nusantara")
    assert bank.events.filter(kind=CaseEvent.Kind.INBOUND).count() == 2  # threaded reply
    telko = Case.objects.get(client__code="telko-merah-putih")
    assert telko.subject == "Tagihan Oktober “tidak sesuai”"
    assert "“tidak sesuai” – tertulis Rp 487.500" in telko.events.get(kind="inbound").body
    pasar = Case.objects.get(client__code="pasar-kita")
    assert pasar.attachments.filter(original_name__endswith=".pdf").exists()
