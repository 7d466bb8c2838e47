"""The portal's demo step: a web-form case per client through the real path, one message
for the inbox page, and working contact forms."""

from __future__ import annotations

import pytest

from satupintu.cases.models import Case, ContactReason
from satupintu.inbox.models import InboundMessage, InboundStatus, OutboundMessage

pytestmark = pytest.mark.django_db


def test_build_portal_opens_web_cases_and_the_forms_work(client, org):
    from satupintu.demo.portal import build_portal, public_urls

    parent = ContactReason.objects.create(client=org.alpha, name_id="Kartu", name_en="Card")
    ContactReason.objects.create(client=org.alpha, parent=parent, name_id="Kartu terblokir",
                                 name_en="Card blocked")
    build_portal(2026)
    for c in (org.alpha, org.bravo):
        case = Case.objects.get(client=c, channel="web")
        assert OutboundMessage.objects.filter(case=case, kind="notice").exists()
        assert client.get(f"/public/contact/{c.code}/").status_code == 200
    assert Case.objects.get(client=org.alpha).reason.name_en == "Card blocked"
    assert InboundMessage.objects.filter(status=InboundStatus.QUARANTINED).count() == 1
    urls = public_urls("http://127.0.0.1:8000/")
    assert "http://127.0.0.1:8000/public/contact/alpha/" in urls
    assert urls[-1] == "http://127.0.0.1:8000/public/status/"
