"""Knowledge base endpoints: search, articles, versions, acknowledgements.

Readers get published versions in effect; writers (manage permission) also see drafts. The
client scope (shared articles included) comes from ``accounts.permissions``; an article of
another client is a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from satupintu.accounts.permissions import (
    get_visible_or_404,
    has_perm,
    request_client_ids,
    require_perm,
    scoped_or_shared,
)
from satupintu.accounts.roles import Perm
from satupintu.config.schemas import Strict
from satupintu.knowledge import queries, search
from satupintu.knowledge.models import Article, ArticleVersion, Kind
from satupintu.knowledge.models import Status as VersionStatus
from satupintu.knowledge.services import acknowledgements

router = Router(tags=["knowledge"])




class VersionSummaryOut(Schema):
    id: int
    language: str
    number: int
    status: str
    title: str
    effective_from: datetime | None
    scheduled: bool


class VersionOut(VersionSummaryOut):
    article_id: int
    slug: str
    summary: str
    body: str
    steps: list[dict[str, Any]]
    quiz: list[dict[str, Any]]
    pass_mark: int


class ArticleOut(Schema):
    id: int
    slug: str
    kind: str
    audience: str
    client_id: int | None
    retired: bool
    current: list[VersionSummaryOut]


class HitOut(Schema):
    article_id: int
    slug: str
    kind: str
    client_id: int | None
    version_id: int
    language: str
    title: str
    snippet: str
    score: float


class AckIn(Strict):
    understood: bool
    answers: dict[int, list[int]] = Field(default_factory=dict)


class AckOut(Schema):
    version_id: int
    acknowledged_at: datetime
    score: int | None


def _articles(request: HttpRequest) -> QuerySet[Article]:
    require_perm(request.user, Perm.VIEW_KNOWLEDGE)
    return scoped_or_shared(Article.objects.all(), request)


def _versions(request: HttpRequest) -> QuerySet[ArticleVersion]:
    require_perm(request.user, Perm.VIEW_KNOWLEDGE)
    rows = scoped_or_shared(ArticleVersion.objects.select_related("article"), request,
                            field="article__client")
    if not has_perm(request.user, Perm.MANAGE_KNOWLEDGE):
        rows = rows.filter(status=VersionStatus.PUBLISHED, effective_from__lte=timezone.now())
    return rows


def _summary(v: ArticleVersion) -> dict[str, Any]:
    return {"id": v.pk, "language": v.language, "number": v.number, "status": v.status,
            "title": v.title, "effective_from": v.effective_from, "scheduled": v.is_scheduled}


def _version_out(v: ArticleVersion) -> dict[str, Any]:
    return {**_summary(v), "article_id": v.article_id, "slug": v.article.slug,
            "summary": v.summary, "body": v.body, "steps": v.steps, "quiz": _public_quiz(v),
            "pass_mark": v.pass_mark}


def _public_quiz(v: ArticleVersion) -> list[dict[str, Any]]:
    """The quiz without the answers: the API is also how agents take it."""
    return [{"question": q["question"], "options": [o["text"] for o in q["options"]]}
            for q in v.quiz or []]


def _article_out(article: Article, current: dict[tuple[int, str], ArticleVersion]) -> dict[str,
                                                                                          Any]:
    versions = [current[(article.pk, lang)] for lang in ("id", "en")
                if (article.pk, lang) in current]
    return {"id": article.pk, "slug": article.slug, "kind": article.kind,
            "audience": article.audience, "client_id": article.client_id,
            "retired": article.is_retired, "current": [_summary(v) for v in versions]}


@router.get("/search", response=list[HitOut], summary="Search published articles")
def search_articles(request: HttpRequest, q: str, limit: int = 10,
                    public_only: bool = False) -> list[dict[str, Any]]:
    """``public_only`` keeps to articles that may be shared with customers (public FAQs)."""
    require_perm(request.user, Perm.VIEW_KNOWLEDGE)
    hits = search.search(q[:300], request_client_ids(request), limit=max(1, min(limit, 50)),
                         public_only=public_only)
    return [{"article_id": h.version.article_id, "slug": h.article.slug, "kind": h.article.kind,
             "client_id": h.article.client_id, "version_id": h.version.pk,
             "language": h.version.language, "title": h.version.title,
             "snippet": h.snippet, "score": round(h.score, 4)} for h in hits]


@router.get("/articles", response=list[ArticleOut], summary="Articles you may read")
def list_articles(request: HttpRequest, kind: str | None = None) -> list[dict[str, Any]]:
    rows = _articles(request).order_by("slug")
    if kind in Kind.values:
        rows = rows.filter(kind=kind)
    current = queries.current_versions(rows)
    out = [_article_out(a, current) for a in rows]
    if not has_perm(request.user, Perm.MANAGE_KNOWLEDGE):
        out = [a for a in out if a["current"]]
    return out


@router.get("/articles/{article_id}", response=ArticleOut, summary="One article")
def get_article(request: HttpRequest, article_id: int) -> dict[str, Any]:
    article = get_visible_or_404(_articles(request), pk=article_id)
    out = _article_out(article, queries.current_versions([article.pk]))
    if not out["current"] and not has_perm(request.user, Perm.MANAGE_KNOWLEDGE):
        raise Http404(_("Not found."))
    return out


@router.get("/versions/{version_id}", response=VersionOut, summary="One version")
def get_version(request: HttpRequest, version_id: int) -> dict[str, Any]:
    return _version_out(get_visible_or_404(_versions(request), pk=version_id))


@router.get("/acknowledgements/pending", response=list[VersionSummaryOut],
            summary="SOP versions you still have to acknowledge")
def pending(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(request.user, Perm.VIEW_KNOWLEDGE)
    user = request.user
    return [_summary(v) for v in queries.pending_acknowledgements(user)]  # type: ignore[arg-type]


@router.post("/versions/{version_id}/acknowledge", response={201: AckOut},
             summary="Acknowledge an SOP version (with quiz answers when it has a quiz)")
def acknowledge(request: HttpRequest, version_id: int, payload: AckIn) -> Status:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    version = get_visible_or_404(_versions(request).filter(article__kind=Kind.SOP),
                                 pk=version_id)
    if not payload.understood:
        raise ValidationError(_("Confirm that you have read and understood the procedure."))
    ack = acknowledgements.acknowledge(version, user=request.user,  # type: ignore[arg-type]
                                       answers=payload.answers, request=request)
    return Status(201, {"version_id": version.pk, "acknowledged_at": ack.acknowledged_at,
                        "score": ack.score})


def _mount_deviations() -> None:
    from satupintu.knowledge.api_deviations import router as deviations_router

    router.add_router("/deviations", deviations_router)
    from satupintu.knowledge.api_help import router as help_router

    router.add_router("", help_router)


_mount_deviations()
