"""Writing the knowledge base: drafts, review, approval, publication, retirement.

Every edit happens in a draft; a published version is never touched again (the model
refuses too). A draft goes draft → in review → approved → published, or back from review to
rejected, where it can be edited and submitted again. Nobody approves their own draft.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client, Team
from satupintu.accounts.permissions import has_perm, require_perm, user_may_see_client
from satupintu.accounts.roles import Perm, Role
from satupintu.audit import services as audit
from satupintu.knowledge.models import (
    LANGUAGES,
    OPEN_STATUSES,
    Article,
    ArticleVersion,
    Audience,
    Kind,
    KnowledgeSettings,
    Status,
)

if TYPE_CHECKING:
    from satupintu.accounts.models import User

CONTENT_FIELDS = ("title", "summary", "body", "steps", "quiz", "pass_mark")


def _require_writer(user: User, client: Client | None) -> None:
    require_perm(user, Perm.MANAGE_KNOWLEDGE)
    if client is None:
        # Shared articles reach every client's staff: only organisation managers write them.
        require_perm(user, Perm.MANAGE_ORGANISATION)
    elif not user_may_see_client(user, client.pk):
        raise PermissionDenied(_("Your role does not allow this."))


def clean_steps(steps: Any) -> list[dict[str, Any]]:
    """Ordered steps; a decision step has at least two branches pointing at existing steps."""
    if not steps:
        return []
    if not isinstance(steps, list):
        raise ValidationError(_("Steps must be a list."))
    cleaned: list[dict[str, Any]] = []
    for number, step in enumerate(steps, start=1):
        text = str(step.get("text", "")).strip() if isinstance(step, dict) else ""
        if not text:
            raise ValidationError(_("Step %(n)s has no text.") % {"n": number})
        branches = []
        for branch in step.get("branches") or []:
            label = str(branch.get("label", "")).strip()
            goto = branch.get("goto")
            if not label or not isinstance(goto, int) or not 1 <= goto <= len(steps):
                raise ValidationError(
                    _("Step %(n)s has a branch without a label or with a step number that "
                      "does not exist.") % {"n": number})
            branches.append({"label": label, "goto": goto})
        decision = bool(step.get("decision")) or bool(branches)
        if decision and len(branches) < 2:
            raise ValidationError(
                _("Decision step %(n)s needs at least two branches.") % {"n": number})
        cleaned.append({"text": text, "decision": decision, "branches": branches})
    return cleaned


def clean_quiz(quiz: Any) -> list[dict[str, Any]]:
    """Questions with two or more options, at least one of them correct."""
    if not quiz:
        return []
    if not isinstance(quiz, list):
        raise ValidationError(_("The quiz must be a list of questions."))
    cleaned = []
    for number, item in enumerate(quiz, start=1):
        question = str(item.get("question", "")).strip() if isinstance(item, dict) else ""
        options = [{"text": str(o.get("text", "")).strip(), "correct": bool(o.get("correct"))}
                   for o in (item.get("options") or []) if str(o.get("text", "")).strip()]
        if not question:
            raise ValidationError(_("Quiz question %(n)s has no text.") % {"n": number})
        if len(options) < 2:
            raise ValidationError(
                _("Quiz question %(n)s needs at least two options.") % {"n": number})
        if not any(o["correct"] for o in options):
            raise ValidationError(
                _("Quiz question %(n)s has no correct answer.") % {"n": number})
        cleaned.append({"question": question, "options": options})
    return cleaned


def _clean_content(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(CONTENT_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s")
                              % {"names": ", ".join(sorted(unknown))})
    out = dict(fields)
    if "title" in out:
        out["title"] = str(out["title"]).strip()
        if not out["title"]:
            raise ValidationError(_("A title is required."))
    if "steps" in out:
        out["steps"] = clean_steps(out["steps"])
    if "quiz" in out:
        out["quiz"] = clean_quiz(out["quiz"])
    if "pass_mark" in out:
        mark = int(out["pass_mark"])
        if not 1 <= mark <= 100:
            raise ValidationError(_("The pass mark must be between 1 and 100."))
        out["pass_mark"] = mark
    return out


def _next_number(article: Article, language: str) -> int:
    top = article.versions.filter(language=language).aggregate(n=Max("number"))["n"]
    return (top or 0) + 1


@transaction.atomic
def create_article(*, by: User, client: Client | None, slug: str, kind: str, language: str,
                   title: str, audience: str = Audience.INTERNAL,
                   teams: list[Team] | None = None, request: HttpRequest | None = None,
                   **content: Any) -> ArticleVersion:
    """A new article with its first draft in ``language``."""
    _require_writer(by, client)
    if kind not in Kind.values:
        raise ValidationError(_("Unknown kind of article."))
    if audience not in Audience.values:
        raise ValidationError(_("Unknown audience."))
    if language not in dict(LANGUAGES):
        raise ValidationError(_("Unknown language."))
    if Article.objects.filter(slug=slug).exists():
        raise ValidationError(_("An article with this slug already exists."))
    cleaned = _clean_content({"title": title, **content})
    article = Article(client=client, slug=slug, kind=kind, audience=audience, created_by=by)
    article.full_clean()
    article.save()
    if teams:
        if client is None or any(not t.clients.filter(pk=client.pk).exists() for t in teams):
            raise ValidationError(_("Teams must serve the article's client."))
        article.teams.set(teams)
    version = ArticleVersion.objects.create(article=article, language=language, number=1,
                                            author=by, **cleaned)
    audit.record("knowledge.article_created", actor=by, obj=article, client=client,
                 request=request, data={"slug": slug, "kind": kind, "language": language})
    return version


@transaction.atomic
def start_draft(article: Article, language: str, *, by: User,
                request: HttpRequest | None = None) -> ArticleVersion:
    """The open draft of this language, or a new one copied from the latest version."""
    _require_writer(by, article.client)
    if article.is_retired:
        raise ValidationError(_("This article is retired."))
    if language not in dict(LANGUAGES):
        raise ValidationError(_("Unknown language."))
    article = Article.objects.select_for_update().get(pk=article.pk)
    open_draft = article.versions.filter(language=language, status__in=OPEN_STATUSES).first()
    if open_draft is not None:
        return open_draft
    base = (article.versions.filter(language=language).order_by("-number").first()
            or article.versions.order_by("-number").first())
    copy = {f: getattr(base, f) for f in CONTENT_FIELDS} if base else {"title": article.slug}
    version = ArticleVersion.objects.create(article=article, language=language,
                                            number=_next_number(article, language),
                                            based_on=base, author=by, **copy)
    audit.record("knowledge.draft_started", actor=by, obj=version, client=article.client,
                 request=request, data={"language": language, "number": version.number})
    return version


@transaction.atomic
def edit_draft(version: ArticleVersion, *, by: User, request: HttpRequest | None = None,
               **fields: Any) -> ArticleVersion:
    """Change a draft (or a rejected one, which becomes a draft again)."""
    _require_writer(by, version.article.client)
    if version.status == Status.PUBLISHED:
        raise ValidationError(
            _("A published version cannot be changed; start a new draft instead."))
    if not version.is_editable:
        raise ValidationError(_("Only a draft can be edited; this one is %(status)s.")
                              % {"status": version.get_status_display()})
    for name, value in _clean_content(fields).items():
        setattr(version, name, value)
    version.status = Status.DRAFT
    version.save()
    audit.record("knowledge.draft_edited", actor=by, obj=version, client=version.article.client,
                 request=request, data={"fields": sorted(fields)})
    return version


def _transition(version: ArticleVersion, allowed: tuple[str, ...], message: str) -> None:
    if version.status not in allowed:
        raise ValidationError(message % {"status": version.get_status_display()})


@transaction.atomic
def submit(version: ArticleVersion, *, by: User,
           request: HttpRequest | None = None) -> ArticleVersion:
    _require_writer(by, version.article.client)
    _transition(version, (Status.DRAFT, Status.REJECTED),
                _("Only a draft can be submitted for review; this one is %(status)s."))
    clean_quiz(version.quiz)
    clean_steps(version.steps)
    version.status = Status.IN_REVIEW
    version.submitted_at = timezone.now()
    version.save()
    audit.record("knowledge.submitted", actor=by, obj=version, client=version.article.client,
                 request=request)
    return version


def may_approve(user: User, article: Article) -> bool:
    """The approve permission, the client's approver roles, and the client scope."""
    if not has_perm(user, Perm.APPROVE_KNOWLEDGE) or not user_may_see_client(user,
                                                                              article.client_id):
        return False
    if article.client_id is None:
        # A shared article reaches every client: only managers and administrators approve it.
        return user.role in (Role.MANAGER, Role.ADMIN)
    settings = KnowledgeSettings.objects.filter(client_id=article.client_id).first()
    return settings is None or settings.allows(user.role)


def _require_approver(version: ArticleVersion, by: User) -> None:
    if not may_approve(by, version.article):
        raise PermissionDenied(_("Your role does not allow this."))
    if version.author_id == by.pk:
        raise ValidationError(_("You cannot approve or reject your own draft."))


@transaction.atomic
def approve(version: ArticleVersion, *, by: User, note: str = "",
            request: HttpRequest | None = None) -> ArticleVersion:
    _require_approver(version, by)
    _transition(version, (Status.IN_REVIEW,),
                _("Only a version in review can be approved; this one is %(status)s."))
    version.status = Status.APPROVED
    version.reviewed_by, version.reviewed_at, version.review_note = by, timezone.now(), note
    version.save()
    audit.record("knowledge.approved", actor=by, obj=version, client=version.article.client,
                 request=request, data={"note": note})
    return version


@transaction.atomic
def reject(version: ArticleVersion, *, by: User, note: str,
           request: HttpRequest | None = None) -> ArticleVersion:
    _require_approver(version, by)
    _transition(version, (Status.IN_REVIEW,),
                _("Only a version in review can be rejected; this one is %(status)s."))
    if not note.strip():
        raise ValidationError(_("Say why the draft is rejected."))
    version.status = Status.REJECTED
    version.reviewed_by, version.reviewed_at, version.review_note = by, timezone.now(), note
    version.save()
    audit.record("knowledge.rejected", actor=by, obj=version, client=version.article.client,
                 request=request, data={"note": note})
    return version


@transaction.atomic
def publish(version: ArticleVersion, *, by: User, effective_from: datetime | None = None,
            request: HttpRequest | None = None) -> ArticleVersion:
    """Publish an approved version now, or schedule it for ``effective_from``."""
    _require_writer(by, version.article.client)
    if version.article.is_retired:
        raise ValidationError(_("This article is retired."))
    if version.status == Status.PUBLISHED:
        raise ValidationError(_("This version is already published."))
    if version.status != Status.APPROVED:
        raise ValidationError(_("A version must be approved before it is published."))
    now = timezone.now()
    if effective_from is not None and timezone.is_naive(effective_from):
        effective_from = timezone.make_aware(effective_from)
    version.status = Status.PUBLISHED
    version.published_by, version.published_at = by, now
    version.effective_from = max(effective_from or now, now)
    version.save()
    from satupintu.knowledge.services.deviations import mark_incorporated

    mark_incorporated(version, by=by, request=request)
    audit.record("knowledge.published", actor=by, obj=version, client=version.article.client,
                 request=request,
                 data={"effective_from": version.effective_from.isoformat(),
                       "scheduled": version.effective_from > now})
    return version


@transaction.atomic
def retire(article: Article, *, by: User, reason: str,
           request: HttpRequest | None = None) -> Article:
    """Withdraw an article from reading, search and acknowledgement; its history stays."""
    _require_writer(by, article.client)
    if article.is_retired:
        raise ValidationError(_("This article is already retired."))
    if not reason.strip():
        raise ValidationError(_("Say why the article is retired."))
    article.retired_at, article.retired_by, article.retired_reason = timezone.now(), by, reason
    article.save(update_fields=["retired_at", "retired_by", "retired_reason"])
    audit.record("knowledge.retired", actor=by, obj=article, client=article.client,
                 request=request, data={"reason": reason})
    return article
