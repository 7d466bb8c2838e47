"""Deviation endpoints under ``/api/v1/knowledge/deviations``: list, read, ask, decide,
report. Scope as on the pages (``deviations.visible``); another client's is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from satupintu.accounts.permissions import (
    get_visible_or_404,
    request_client_ids,
    require_perm,
    scoped,
    scoped_or_shared,
)
from satupintu.accounts.roles import Perm
from satupintu.config.schemas import Strict
from satupintu.knowledge.models import ArticleVersion, Deviation
from satupintu.knowledge.services import deviations

router = Router(tags=["knowledge"])




class DeviationOut(Schema):
    id: int
    client_id: int
    case: str
    article_id: int
    slug: str
    version_id: int
    step: int
    step_text: str
    proposal: str
    reason: str
    justification: str
    post_hoc: bool
    status: str
    requested_by: str
    requested_at: datetime
    due_at: datetime | None
    escalated_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    changes: str
    revision_id: int | None
    incorporated_at: datetime | None
    customer_outcome: str


class DeviationIn(Strict):
    case: str
    version_id: int
    step: int
    proposal: str
    reason: str
    justification: str = ""
    post_hoc: bool = False


class DecisionIn(Strict):
    outcome: str
    note: str = ""
    changes: str = ""


class ReportOut(Schema):
    article_id: int
    slug: str
    total: int
    decided: int
    approved: int
    approval_rate: float | None
    incorporated: int


def _out(d: Deviation) -> dict[str, Any]:
    return {"id": d.pk, "client_id": d.client_id, "case": d.case.reference,
            "article_id": d.article_id, "slug": d.article.slug, "version_id": d.version_id,
            "step": d.step, "step_text": d.step_text, "proposal": d.proposal,
            "reason": d.reason, "justification": d.justification, "post_hoc": d.post_hoc,
            "status": d.status, "requested_by": d.requested_by.get_username(),
            "requested_at": d.requested_at, "due_at": d.due_at, "escalated_at": d.escalated_at,
            "decided_by": d.decided_by.get_username() if d.decided_by else None,
            "decided_at": d.decided_at, "decision_note": d.decision_note,
            "changes": d.changes, "revision_id": d.revision_id,
            "incorporated_at": d.incorporated_at, "customer_outcome": d.customer_outcome}


@router.get("/report", response=list[ReportOut], summary="SOPs with the most deviations")
def report(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(request.user, Perm.VIEW_REPORTS)
    return [{"article_id": r.article.pk, "slug": r.article.slug, "total": r.total,
             "decided": r.decided, "approved": r.approved,
             "approval_rate": r.approval_rate, "incorporated": r.incorporated}
            for r in deviations.report(request_client_ids(request))]


@router.get("", response=list[DeviationOut], summary="Deviations you may see")
def list_deviations(request: HttpRequest, status: str | None = None,
                    case: str | None = None) -> list[dict[str, Any]]:
    rows = deviations.visible(request)
    if status:
        rows = rows.filter(status=status)
    if case:
        rows = rows.filter(case__reference=case)
    return [_out(d) for d in rows[:200]]


@router.get("/{deviation_id}", response=DeviationOut, summary="One deviation")
def get_deviation(request: HttpRequest, deviation_id: int) -> dict[str, Any]:
    return _out(get_visible_or_404(deviations.visible(request), pk=deviation_id))


@router.post("", response={201: DeviationOut}, summary="Ask for a deviation from an SOP step")
def create(request: HttpRequest, payload: DeviationIn) -> Status:
    from satupintu.cases.models import Case

    require_perm(request.user, Perm.VIEW_OWN_WORK)
    case = get_visible_or_404(scoped(Case.objects.all(), request), reference=payload.case)
    version = get_visible_or_404(
        scoped_or_shared(ArticleVersion.objects.select_related("article"), request,
                         field="article__client"), pk=payload.version_id)
    d = deviations.request_deviation(
        case, version=version, step=payload.step, proposal=payload.proposal,
        reason=payload.reason, justification=payload.justification,
        post_hoc=payload.post_hoc, by=request.user, request=request)  # type: ignore[arg-type]
    return Status(201, _out(d))


@router.post("/{deviation_id}/decide", response=DeviationOut,
             summary="Approve, approve with changes, or reject (with a reason)")
def decide(request: HttpRequest, deviation_id: int, payload: DecisionIn) -> dict[str, Any]:
    d = get_visible_or_404(deviations.visible(request), pk=deviation_id)
    d = deviations.decide(d, payload.outcome, by=request.user,  # type: ignore[arg-type]
                          note=payload.note, changes=payload.changes, request=request)
    return _out(get_visible_or_404(deviations.visible(request), pk=d.pk))
