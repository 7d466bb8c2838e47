"""Acknowledgement of published SOPs: who must, the quiz, superseded versions, reports."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from satupintu.knowledge import queries
from satupintu.knowledge.services import acknowledgements, articles

from .conftest import QUIZ

pytestmark = pytest.mark.django_db


def test_agents_of_the_client_must_acknowledge(kb):
    version = kb.sop()
    assert queries.pending_acknowledgements(kb.alice) == [version]
    assert queries.pending_acknowledgements(kb.bob) == []  # another client's agent
    assert queries.pending_acknowledgements(kb.sam) == []  # not an agent
    ack = acknowledgements.acknowledge(version, user=kb.alice)
    assert ack.score is None
    assert queries.pending_acknowledgements(kb.alice) == []


def test_shared_sop_applies_to_every_agent(kb):
    version = kb.sop(slug="greeting", client=None)
    assert queries.pending_acknowledgements(kb.alice) == [version]
    assert queries.pending_acknowledgements(kb.bob) == [version]


def test_teams_narrow_who_must_acknowledge(kb):
    version = kb.sop()
    version.article.teams.set([kb.team_a])
    kb.alice.team = None
    kb.alice.save()
    assert queries.pending_acknowledgements(kb.alice) == []
    assert queries.pending_acknowledgements(kb.carol) == [version]


def test_agent_acknowledges_the_version_in_their_language(kb):
    en = kb.sop()
    id_draft = articles.start_draft(en.article, "id", by=kb.tina)
    articles.edit_draft(id_draft, by=kb.tina, title="Blokir kartu hilang")
    kb.publish(id_draft)
    assert queries.pending_acknowledgements(kb.carol) == [id_draft]  # carol reads Indonesian
    assert queries.pending_acknowledgements(kb.alice) == [en]


def test_quiz_must_be_passed(kb):
    version = kb.sop(quiz=QUIZ)
    with pytest.raises(ValidationError, match="scored 0%"):
        acknowledgements.acknowledge(version, user=kb.alice, answers={0: [1]})
    with pytest.raises(ValidationError, match="scored 0%"):
        acknowledgements.acknowledge(version, user=kb.alice, answers={0: [0, 1]})
    ack = acknowledgements.acknowledge(version, user=kb.alice, answers={0: [0]})
    assert ack.score == 100


def test_acknowledging_a_superseded_version_is_refused(kb):
    v1 = kb.sop()
    v2 = articles.start_draft(v1.article, "en", by=kb.tina)
    articles.edit_draft(v2, by=kb.tina, body="New rule.")
    kb.publish(v2)
    with pytest.raises(ValidationError, match="superseded"):
        acknowledgements.acknowledge(v1, user=kb.alice)
    # Having acknowledged v1 does not cover v2.
    assert queries.pending_acknowledgements(kb.alice) == [v2]


def test_acknowledging_twice_drafts_or_others_clients_is_refused(kb):
    version = kb.sop()
    acknowledgements.acknowledge(version, user=kb.alice)
    with pytest.raises(ValidationError, match="already"):
        acknowledgements.acknowledge(version, user=kb.alice)
    with pytest.raises(ValidationError, match="does not ask you"):
        acknowledgements.acknowledge(version, user=kb.bob)
    draft = articles.start_draft(version.article, "en", by=kb.tina)
    with pytest.raises(ValidationError, match="published version in force"):
        acknowledgements.acknowledge(draft, user=kb.carol)


def test_team_leader_sees_who_has_not_acknowledged(client, kb, login):
    version = kb.sop()
    acknowledgements.acknowledge(version, user=kb.alice)
    report = queries.acknowledgement_report([kb.team_a])
    assert report[0]["missing"] == 1 and report[0]["total"] == 2
    login(client, kb.tina)
    page = client.get("/knowledge/acknowledgements/teams/").content.decode()
    assert "Carol" in page and "Alice" not in page and "Team Bravo" not in page
    login(client, kb.alice)
    assert client.get("/knowledge/acknowledgements/teams/").status_code == 403


def test_agent_home_lists_pending_first_and_ack_page_records(client, kb, login):
    version = kb.sop(quiz=QUIZ)
    login(client, kb.alice)
    home = client.get("/").content.decode()
    assert "Procedures to acknowledge" in home and "Block a lost card" in home
    assert home.index("Procedures to acknowledge") < home.index("My clients")
    url = f"/knowledge/versions/{version.pk}/acknowledge/"
    assert client.get(url).status_code == 200
    failed = client.post(url, {"understood": "1", "q0": "1"}, follow=True).content.decode()
    assert "pass mark" in failed
    response = client.post(url, {"understood": "1", "q0": "0"})
    assert response.status_code == 302
    assert version.acknowledgements.filter(user=kb.alice, score=100).exists()
    assert "Procedures to acknowledge" not in client.get("/").content.decode()


def test_acknowledge_through_the_api(client, kb, login):
    version = kb.sop(quiz=QUIZ)
    login(client, kb.alice)
    pending = client.get("/api/v1/knowledge/acknowledgements/pending").json()
    assert [p["id"] for p in pending] == [version.pk]
    detail = client.get(f"/api/v1/knowledge/versions/{version.pk}").json()
    assert detail["quiz"] == [{"question": "When is the card blocked?",
                               "options": ["During the call", "Tomorrow"]}]
    url = f"/api/v1/knowledge/versions/{version.pk}/acknowledge"
    bad = client.post(url, {"understood": True, "answers": {"0": [1]}},
                      content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "rejected"
    good = client.post(url, {"understood": True, "answers": {"0": [0]}},
                       content_type="application/json")
    assert good.status_code == 201 and good.json()["score"] == 100
