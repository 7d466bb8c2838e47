"""The editor in the browser's terms: create, edit, submit, approve, publish, diff, retire."""

from __future__ import annotations

import re

import pytest

from satupintu.knowledge.models import Article, ArticleVersion, Status

pytestmark = pytest.mark.django_db


def test_editor_round_trip(client, kb, login):
    login(client, kb.tina)
    assert client.get("/knowledge/new/").status_code == 200
    response = client.post("/knowledge/new/", {
        "client": str(kb.alpha.pk), "slug": "reset-pin", "kind": "sop", "audience": "internal",
        "language": "en", "title": "Reset a PIN", "summary": "", "body": "Unlock the PIN.",
        "steps": "Verify the customer\nDebit or mobile? | Debit -> 3 | Mobile -> 3\nUnlock",
        "quiz": "? Who may know the PIN?\n* Only the customer\n- The agent",
        "pass_mark": "100"})
    version = ArticleVersion.objects.get(article__slug="reset-pin")
    assert response.status_code == 302 and response["Location"].endswith(f"/{version.pk}/")
    assert version.steps[1]["branches"] == [{"label": "Debit", "goto": 3},
                                            {"label": "Mobile", "goto": 3}]
    assert version.quiz[0]["options"][0] == {"text": "Only the customer", "correct": True}

    edit = f"/knowledge/versions/{version.pk}/edit/"
    client.post(edit, {"title": "Reset a PIN", "body": "Unlock the PIN, then send an SMS.",
                       "steps": "", "quiz": "", "pass_mark": "100"})
    client.post(f"/knowledge/versions/{version.pk}/submit/")
    # tina cannot approve (no permission); sam can.
    client.post(f"/knowledge/versions/{version.pk}/approve/")
    version.refresh_from_db()
    assert version.status == Status.IN_REVIEW
    login(client, kb.sam)
    assert "Waiting for your review" in client.get("/knowledge/").content.decode()
    client.post(f"/knowledge/versions/{version.pk}/approve/", {"note": "Fine"})
    client.post(f"/knowledge/versions/{version.pk}/publish/", {"effective_from": ""})
    version.refresh_from_db()
    assert version.status == Status.PUBLISHED

    # Editing the published version starts a new draft instead.
    response = client.post(f"/knowledge/versions/{version.pk}/draft/", {"language": "en"})
    v2 = ArticleVersion.objects.get(article__slug="reset-pin", number=2)
    assert response["Location"].endswith(f"/knowledge/versions/{v2.pk}/edit/")
    page = client.get(f"/knowledge/versions/{version.pk}/edit/", follow=True)
    assert "cannot be changed" in page.content.decode()
    client.post(f"/knowledge/versions/{v2.pk}/edit/", {
        "title": "Reset a PIN", "body": "Unlock the PIN, then send an SMS and an e-mail.",
        "steps": "", "quiz": "", "pass_mark": "100"})
    diff = client.get(f"/knowledge/articles/{version.article_id}/diff/"
                      f"?a={version.pk}&b={v2.pk}").content.decode()
    assert re.search(r"<ins>[^<]*e-mail", diff)
    article_page = client.get(f"/knowledge/articles/{version.article_id}/").content.decode()
    assert "History" in article_page and "v2" in article_page


def test_self_approval_is_refused_in_the_ui(client, kb, login):
    from satupintu.knowledge.services import articles

    version = articles.create_article(by=kb.sam, client=kb.alpha, slug="own", kind="faq",
                                      language="en", title="Own FAQ")
    articles.submit(version, by=kb.sam)
    login(client, kb.sam)
    page = client.post(f"/knowledge/versions/{version.pk}/approve/", follow=True)
    assert "your own draft" in page.content.decode()
    version.refresh_from_db()
    assert version.status == Status.IN_REVIEW


def test_bad_quiz_text_is_refused_with_a_reason(client, kb, login):
    login(client, kb.tina)
    page = client.post("/knowledge/new/", {
        "client": str(kb.alpha.pk), "slug": "quiz", "kind": "sop", "audience": "internal",
        "language": "en", "title": "Quiz", "quiz": "? Which?\n- a\n- b", "pass_mark": "100"})
    assert page.status_code == 200 and "no correct answer" in page.content.decode()
    assert not Article.objects.filter(slug="quiz").exists()


def test_retire_from_the_article_page(client, kb, login):
    version = kb.sop()
    login(client, kb.tina)
    client.post(f"/knowledge/articles/{version.article_id}/retire/", {"reason": "Obsolete"})
    version.article.refresh_from_db()
    assert version.article.is_retired and version.article.retired_reason == "Obsolete"


def test_agents_cannot_open_the_editor(client, kb, login):
    login(client, kb.alice)
    assert client.get("/knowledge/new/").status_code == 403
    assert client.get("/knowledge/").status_code == 200
