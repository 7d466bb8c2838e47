"""In a case: the SOPs that fit it are suggested, and the one followed is recorded."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from satupintu.audit.models import AuditEntry
from satupintu.cases import services as cases
from satupintu.cases.models import CaseEvent
from satupintu.customers import services as customers
from satupintu.knowledge.models import SopUsage
from satupintu.knowledge.services import usage

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(kb):
    kb.lost_card = kb.sop()
    kb.other = kb.sop(slug="internet-down", title="Internet connection down",
                      body="Check the modem lights and restart the router.")
    for writer in (kb.tina, kb.sam):  # Bravo's article needs a Bravo author and approver
        writer.clients.add(kb.bravo)
    kb.bravo_sop = kb.sop(slug="bravo-card", client=kb.bravo, title="Block a lost card (Bravo)")
    for writer in (kb.tina, kb.sam):
        writer.clients.remove(kb.bravo)
    dewi = customers.create_customer(kb.alpha, "Dewi Lestari", by=kb.alice,
                                     identities=[("phone", "081234567890")])
    kb.case = cases.create_case(kb.alpha, dewi, "Lost card", by=kb.alice,
                                body="I lost my card yesterday, please block it")
    return kb


def test_suggestions_fit_the_case_and_stay_in_its_client(world):
    hits = usage.suggest_for_case(world.case, "en")
    assert hits and hits[0].version == world.lost_card
    assert world.bravo_sop not in [h.version for h in hits]


def test_case_page_shows_suggestions_and_records_the_sop_followed(client, world, login):
    login(client, world.alice)
    page = client.get(f"/cases/{world.case.reference}/").content.decode()
    assert "Block a lost card" in page and "Block a lost card (Bravo)" not in page
    response = client.post(f"/knowledge/cases/{world.case.reference}/followed/",
                           {"version": world.lost_card.pk})
    assert response.status_code == 302
    assert SopUsage.objects.get(case=world.case).version == world.lost_card
    note = CaseEvent.objects.filter(case=world.case, kind=CaseEvent.Kind.NOTE).last()
    assert "Block a lost card" in note.body and "version 1" in note.body
    assert AuditEntry.objects.filter(action="knowledge.sop_followed").exists()


def test_refusals(world):
    with pytest.raises(ValidationError, match="current published version"):
        usage.record_followed(world.case, world.bravo_sop, by=world.alice)
    usage.record_followed(world.case, world.lost_card, by=world.alice)
    with pytest.raises(ValidationError, match="already recorded"):
        usage.record_followed(world.case, world.lost_card, by=world.alice)
    cases.change_status(world.case, "closed", by=world.alice)
    with pytest.raises(ValidationError, match="closed"):
        usage.record_followed(world.case, world.other, by=world.alice)
    assert SopUsage.objects.filter(case=world.case).count() == 1


def test_another_clients_agent_gets_404(client, world, login):
    login(client, world.bob)
    response = client.post(f"/knowledge/cases/{world.case.reference}/followed/",
                           {"version": world.lost_card.pk})
    assert response.status_code == 404
    assert not SopUsage.objects.exists()
