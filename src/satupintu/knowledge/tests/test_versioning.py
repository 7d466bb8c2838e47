"""Versioning rules: drafts, review, approval, immutability, schedules, retirement, diffs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import override

from satupintu.knowledge import queries
from satupintu.knowledge.models import ArticleVersion, KnowledgeSettings, Status
from satupintu.knowledge.services import articles

from .conftest import QUIZ

pytestmark = pytest.mark.django_db


def _draft(kb, slug="reset-pin", **extra):
    return articles.create_article(by=kb.tina, client=kb.alpha, slug=slug, kind="sop",
                                   language="en", title="Reset a PIN", body="Unlock it.",
                                   **extra)


def test_full_lifecycle_is_audited(kb):
    from satupintu.audit.models import AuditEntry

    version = _draft(kb)
    assert version.status == Status.DRAFT and version.number == 1
    kb.publish(version)
    version.refresh_from_db()
    assert version.status == Status.PUBLISHED and version.effective_from is not None
    assert queries.current_version(version.article, "en") == version
    actions = list(AuditEntry.objects.filter(action__startswith="knowledge.").order_by("id")
                   .values_list("action", flat=True))
    assert actions == ["knowledge.article_created", "knowledge.submitted",
                       "knowledge.approved", "knowledge.published"]


def test_publishing_without_approval_is_refused(kb):
    version = _draft(kb)
    with pytest.raises(ValidationError, match="approved before it is published"):
        articles.publish(version, by=kb.tina)
    articles.submit(version, by=kb.tina)
    with pytest.raises(ValidationError, match="approved before it is published"):
        articles.publish(version, by=kb.tina)


def test_approving_ones_own_draft_is_refused(kb):
    version = articles.create_article(by=kb.sam, client=kb.alpha, slug="own", kind="policy",
                                      language="en", title="Own")
    articles.submit(version, by=kb.sam)
    with pytest.raises(ValidationError, match="your own draft"):
        articles.approve(version, by=kb.sam)


def test_agents_cannot_write_or_approve(kb):
    with pytest.raises(PermissionDenied):
        articles.create_article(by=kb.alice, client=kb.alpha, slug="x", kind="faq",
                                language="id", title="x")
    version = _draft(kb)
    articles.submit(version, by=kb.tina)
    with pytest.raises(PermissionDenied):
        articles.approve(version, by=kb.alice)
    # A supervisor of another client may not approve Alpha's draft.
    bravo_sup = kb.sam.__class__.objects.create_user(username="sue", role="supervisor")
    bravo_sup.clients.set([kb.bravo])
    with pytest.raises(PermissionDenied):
        articles.approve(version, by=bravo_sup)


def test_client_setting_narrows_approver_roles(kb):
    KnowledgeSettings.objects.create(client=kb.alpha, approver_roles=["manager"])
    version = _draft(kb)
    articles.submit(version, by=kb.tina)
    with pytest.raises(PermissionDenied):
        articles.approve(version, by=kb.sam)
    articles.approve(version, by=kb.mia)
    assert version.status == Status.APPROVED


def test_published_version_is_immutable(kb):
    version = kb.sop()
    with pytest.raises(ValidationError, match="cannot be changed"):
        articles.edit_draft(version, by=kb.tina, title="Changed")
    version.title = "Sneaky change"
    with pytest.raises(ValidationError, match="cannot be changed"):
        version.save()
    with pytest.raises(ValidationError):
        ArticleVersion.objects.get(pk=version.pk).delete()
    assert ArticleVersion.objects.get(pk=version.pk).title == "Block a lost card"


def test_editing_a_published_article_makes_a_new_draft(kb):
    v1 = kb.sop()
    v2 = articles.start_draft(v1.article, "en", by=kb.tina)
    assert (v2.number, v2.status, v2.based_on) == (2, Status.DRAFT, v1)
    assert v2.title == v1.title and v2.steps == v1.steps
    # Asking again returns the same open draft rather than a third version.
    assert articles.start_draft(v1.article, "en", by=kb.tina) == v2
    articles.edit_draft(v2, by=kb.tina, body="The customer lost the card. Block it now.")
    assert queries.current_version(v1.article, "en") == v1
    kb.publish(v2)
    assert queries.current_version(v1.article, "en") == v2
    assert not queries.is_current(v1)


def test_each_language_has_its_own_line_and_status(kb):
    en = kb.sop()
    draft_id = articles.start_draft(en.article, "id", by=kb.tina)
    assert (draft_id.language, draft_id.number, draft_id.status) == ("id", 1, Status.DRAFT)
    assert queries.current_version(en.article, "id") == en  # falls back to English
    articles.edit_draft(draft_id, by=kb.tina, title="Blokir kartu hilang")
    kb.publish(draft_id)
    assert queries.current_version(en.article, "id") == draft_id
    assert queries.current_version(en.article, "en") == en


def test_rejected_draft_needs_a_reason_and_can_be_reworked(kb):
    version = _draft(kb)
    articles.submit(version, by=kb.tina)
    with pytest.raises(ValidationError, match="why"):
        articles.reject(version, by=kb.sam, note=" ")
    articles.reject(version, by=kb.sam, note="Add the SMS step")
    assert version.status == Status.REJECTED
    articles.edit_draft(version, by=kb.tina, body="Unlock it, then send an SMS.")
    assert version.status == Status.DRAFT
    kb.publish(version)
    assert version.status == Status.PUBLISHED


def test_only_drafts_in_review_move_forward(kb):
    version = _draft(kb)
    with pytest.raises(ValidationError, match="in review"):
        articles.approve(version, by=kb.sam)
    articles.submit(version, by=kb.tina)
    with pytest.raises(ValidationError, match="submitted"):
        articles.submit(version, by=kb.tina)
    with pytest.raises(ValidationError, match="Only a draft can be edited"):
        articles.edit_draft(version, by=kb.tina, title="x")


def test_scheduled_version_becomes_current_when_its_time_comes(kb):
    v1 = kb.sop()
    v2 = articles.start_draft(v1.article, "en", by=kb.tina)
    later = timezone.now() + timedelta(days=3)
    kb.publish(v2, effective_from=later)
    assert v2.is_scheduled
    assert queries.current_version(v1.article, "en") == v1
    assert queries.current_version(v1.article, "en", now=later + timedelta(seconds=1)) == v2


def test_retire_needs_a_reason_and_hides_the_article(kb):
    version = kb.sop()
    with pytest.raises(ValidationError, match="why"):
        articles.retire(version.article, by=kb.tina, reason="")
    articles.retire(version.article, by=kb.tina, reason="Replaced by the new card system")
    assert queries.current_version(version.article) is None
    with pytest.raises(ValidationError, match="retired"):
        articles.start_draft(version.article, "en", by=kb.tina)


@pytest.mark.parametrize("quiz,message", [
    ([{"question": "Q?", "options": [{"text": "a", "correct": False},
                                     {"text": "b", "correct": False}]}], "no correct answer"),
    ([{"question": "Q?", "options": [{"text": "a", "correct": True}]}], "at least two options"),
    ([{"question": "", "options": []}], "no text"),
])
def test_bad_quiz_is_refused(kb, quiz, message):
    with pytest.raises(ValidationError, match=message):
        _draft(kb, quiz=quiz)


def test_bad_steps_are_refused(kb):
    with pytest.raises(ValidationError, match="does not exist"):
        _draft(kb, steps=[{"text": "Ask", "branches": [{"label": "Yes", "goto": 9},
                                                       {"label": "No", "goto": 1}]}])
    with pytest.raises(ValidationError, match="at least two branches"):
        _draft(kb, steps=[{"text": "Ask?", "decision": True}])


def test_shared_articles_need_an_organisation_manager(kb):
    with pytest.raises(PermissionDenied):
        articles.create_article(by=kb.tina, client=None, slug="shared", kind="policy",
                                language="id", title="Kebijakan")
    version = kb.sop(slug="greeting", client=None, quiz=QUIZ)
    assert version.article.client is None and version.is_published


def test_diff_marks_insertions_and_deletions(kb):
    v1 = kb.sop()
    v2 = articles.start_draft(v1.article, "en", by=kb.tina)
    articles.edit_draft(v2, by=kb.tina, body="The customer lost the card. Block it now <b>.")
    html = str(queries.diff_html(v1, v2))
    assert "<del>at</del><ins>now</ins>" in html
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_refusals_are_translated(kb):
    version = _draft(kb)
    with override("id"), pytest.raises(ValidationError) as exc:
        articles.publish(version, by=kb.tina)
    assert exc.value.messages == ["Versi harus disetujui sebelum diterbitkan."]
