"""Per-client synonym dictionary and approver roles, through the settings page."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from satupintu.knowledge import search
from satupintu.knowledge.models import KnowledgeSettings, Synonym
from satupintu.knowledge.services import settings

pytestmark = pytest.mark.django_db


def test_writer_adds_and_removes_a_synonym(client, kb, login):
    kb.sop(slug="card", title="Block a lost card", body="Lost card procedure.")
    login(client, kb.tina)
    assert client.get("/knowledge/settings/").status_code == 200
    client.post("/knowledge/settings/", {"client": kb.alpha.pk, "term": "Plastik",
                                         "means": "card"})
    entry = Synonym.objects.get(client=kb.alpha)
    assert (entry.term, entry.means) == ("plastik", "card")
    assert [h.article.slug for h in search.search("plastik", {kb.alpha.pk})] == ["card"]
    client.post("/knowledge/settings/", {"remove": entry.pk})
    assert not Synonym.objects.exists()


def test_another_clients_dictionary_is_out_of_reach(client, kb, login):
    other = Synonym.objects.create(client=kb.bravo, term="sim", means="kartu sim")
    login(client, kb.tina)
    assert client.post("/knowledge/settings/", {"remove": other.pk}).status_code == 404
    assert client.post("/knowledge/settings/", {"client": kb.bravo.pk, "term": "a",
                                                "means": "b"}).status_code == 404
    with pytest.raises(PermissionDenied):
        settings.set_synonym(kb.bravo, "a", "b", by=kb.tina)
    login(client, kb.alice)
    assert client.get("/knowledge/settings/").status_code == 403


def test_bad_synonyms_are_refused(kb):
    with pytest.raises(ValidationError, match="itself"):
        settings.set_synonym(kb.alpha, "TF", "tf", by=kb.tina)
    with pytest.raises(ValidationError, match="both"):
        settings.set_synonym(kb.alpha, "tf", " ", by=kb.tina)


def test_only_organisation_managers_set_approver_roles(client, kb, login):
    with pytest.raises(PermissionDenied):
        settings.set_approver_roles(kb.alpha, ["manager"], by=kb.sam)
    with pytest.raises(ValidationError, match="approve permission"):
        settings.set_approver_roles(kb.alpha, ["agent"], by=kb.root)
    login(client, kb.root)
    client.post("/knowledge/settings/", {"client": kb.alpha.pk, "save_roles": "1",
                                         "approver_roles": ["manager"]})
    assert KnowledgeSettings.objects.get(client=kb.alpha).approver_roles == ["manager"]
