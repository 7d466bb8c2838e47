"""Client isolation, persona by persona, in the knowledge pages and API: another client's
article is a 404 and never turns up in a list or a search."""

from __future__ import annotations

import pytest

from satupintu.knowledge.services import articles

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(kb):
    alpha = kb.sop(slug="alpha-card", title="Alpha card blocking",
                   body="Block the Alpha credit card.")
    bravo_draft = articles.create_article(by=kb.mia, client=kb.bravo, slug="bravo-sim",
                                          kind="sop", language="en", title="Bravo SIM swap",
                                          body="Swap the Bravo SIM card.")
    articles.submit(bravo_draft, by=kb.mia)
    articles.approve(bravo_draft, by=kb.root)
    bravo = articles.publish(bravo_draft, by=kb.mia)
    return alpha, bravo


@pytest.mark.parametrize("persona,own,other", [("alice", 0, 1), ("bob", 1, 0),
                                               ("charlie", 0, 1), ("dave", 1, 0)])
def test_pages_show_own_client_and_404_the_other(client, kb, login, two, persona, own, other):
    login(client, getattr(kb, persona))
    mine, theirs = two[own], two[other]
    assert client.get(f"/knowledge/articles/{mine.article_id}/").status_code == 200
    assert client.get(f"/knowledge/articles/{theirs.article_id}/").status_code == 404
    assert client.get(f"/knowledge/versions/{theirs.pk}/").status_code == 404
    assert client.get(f"/knowledge/articles/{theirs.article_id}/diff/"
                      f"?a={theirs.pk}&b={theirs.pk}").status_code == 404
    listing = client.get("/knowledge/").content.decode()
    assert mine.title in listing and theirs.title not in listing
    found = client.get("/knowledge/?q=card").content.decode()
    assert mine.title in found and theirs.title not in found


@pytest.mark.parametrize("persona,own,other", [("alice", 0, 1), ("dave", 1, 0)])
def test_api_shows_own_client_and_404_the_other(client, kb, login, two, persona, own, other):
    login(client, getattr(kb, persona))
    mine, theirs = two[own], two[other]
    assert client.get(f"/api/v1/knowledge/articles/{mine.article_id}").status_code == 200
    response = client.get(f"/api/v1/knowledge/articles/{theirs.article_id}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client.get(f"/api/v1/knowledge/versions/{theirs.pk}").status_code == 404
    slugs = [a["slug"] for a in client.get("/api/v1/knowledge/articles").json()]
    assert slugs == [mine.article.slug]
    hits = [h["slug"] for h in client.get("/api/v1/knowledge/search?q=card").json()]
    assert hits == [mine.article.slug]
    ack = client.post(f"/api/v1/knowledge/versions/{theirs.pk}/acknowledge",
                      {"understood": True}, content_type="application/json")
    # Agents get 404 for another client's SOP; client viewers may not acknowledge at all.
    assert ack.status_code == (404 if persona == "alice" else 403)


def test_readers_never_see_drafts(client, kb, login, two):
    alpha, _bravo = two
    draft = articles.start_draft(alpha.article, "en", by=kb.tina)
    login(client, kb.alice)
    assert client.get(f"/knowledge/versions/{draft.pk}/").status_code == 404
    assert client.get(f"/api/v1/knowledge/versions/{draft.pk}").status_code == 404
    assert client.get(f"/knowledge/versions/{draft.pk}/edit/").status_code == 403
    unpublished = articles.create_article(by=kb.tina, client=kb.alpha, slug="wip",
                                          kind="faq", language="en", title="Work in progress")
    assert client.get(f"/knowledge/articles/{unpublished.article_id}/").status_code == 404
    assert client.get(f"/api/v1/knowledge/articles/{unpublished.article_id}").status_code == 404
    assert "Work in progress" not in client.get("/knowledge/").content.decode()
    login(client, kb.tina)
    assert client.get(f"/knowledge/versions/{draft.pk}/").status_code == 200
    assert client.get(f"/knowledge/articles/{unpublished.article_id}/").status_code == 200
    assert client.get(f"/api/v1/knowledge/versions/{draft.pk}").json()["status"] == "draft"


def test_shared_article_is_visible_to_every_client(client, kb, login):
    shared = kb.sop(slug="greeting", client=None, title="Greeting script")
    for persona in ("alice", "bob", "dave"):
        login(client, getattr(kb, persona))
        assert client.get(f"/knowledge/articles/{shared.article_id}/").status_code == 200


def test_token_narrowed_to_one_client_does_not_search_the_other(client, kb, two):
    from satupintu.accounts.services import tokens

    kb.sam.clients.add(kb.bravo)
    _token, secret = tokens.create(kb.sam, "alpha only", client_ids_wanted=[kb.alpha.pk])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    hits = [h["slug"] for h in client.get("/api/v1/knowledge/search?q=card", **auth).json()]
    assert hits == ["alpha-card"]
    assert client.get(f"/api/v1/knowledge/versions/{two[1].pk}", **auth).status_code == 404
