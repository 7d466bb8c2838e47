"""Deviations from an SOP: request (live, or justified after the fact), decision, escalation,
review clusters, a draft revision that links them, and "incorporated" on publication.

Every write validates, writes in one transaction with its audit entry, documents itself on
the case through the cases service for notes, and publishes its live notice on commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client, User
from satupintu.accounts.permissions import has_perm, require_perm, user_may_see_client
from satupintu.accounts.roles import Perm, Role
from satupintu.audit import services as audit
from satupintu.engine.text_search import Analyzer
from satupintu.knowledge import queries
from satupintu.knowledge.models import (
    Article,
    ArticleVersion,
    Deviation,
    DeviationReason,
    DeviationSettings,
    DeviationStatus,
    Kind,
    Status,
)
from satupintu.knowledge.models_deviation import APPROVED_STATUSES, UNDECIDED
from satupintu.knowledge.services import articles
from satupintu.web.consumers import user_group

if TYPE_CHECKING:
    from satupintu.cases.models import Case

log = logging.getLogger(__name__)

DEFAULT_RESPONSE_MINUTES = 3
SIMILARITY = 0.3  # Jaccard over analysed terms at or above which two proposals cluster
DECIDER_ROLES = (Role.SUPERVISOR, Role.TEAM_LEADER)
OUTCOMES = (DeviationStatus.APPROVED, DeviationStatus.APPROVED_WITH_CHANGES,
            DeviationStatus.REJECTED)


# -- live notices -------------------------------------------------------------------------

def _send(user_ids: Iterable[int], payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for uid in dict.fromkeys(user_ids):
        try:
            async_to_sync(layer.group_send)(user_group(uid), {"type": "notify",
                                                              "payload": payload})
        except Exception:  # a notice must never break the write that caused it
            log.exception("could not notify user %s", uid)


def _notify_on_commit(user_ids: Iterable[int], payload: dict[str, Any]) -> None:
    ids = list(user_ids)
    if ids:
        transaction.on_commit(lambda: _send(ids, payload))


def _payload(deviation: Deviation, event: str) -> dict[str, Any]:
    """Codes and references only: the receiving page words it in its reader's language."""
    return {"kind": "deviation", "event": event, "id": deviation.pk,
            "case": deviation.case.reference, "article": deviation.article.slug,
            "step": deviation.step, "status": deviation.status,
            "post_hoc": deviation.post_hoc, "url": f"/knowledge/deviations/{deviation.pk}/"}


def _staff(client_id: int, roles: Iterable[str]) -> QuerySet[User]:
    return User.objects.filter(is_active=True, role__in=list(roles), clients__id=client_id)


def deciders(deviation: Deviation) -> QuerySet[User]:
    """The on-duty deciders: supervisors and team leaders assigned to the case's client."""
    return _staff(deviation.client_id, DECIDER_ROLES).exclude(
        pk=deviation.requested_by_id).distinct()


def managers(client_id: int) -> QuerySet[User]:
    return _staff(client_id, (Role.MANAGER,)).distinct()


# -- settings -------------------------------------------------------------------------------

def response_minutes(client_id: int) -> int:
    row = DeviationSettings.objects.filter(client_id=client_id).first()
    return row.response_minutes if row else DEFAULT_RESPONSE_MINUTES


@transaction.atomic
def set_response_minutes(client: Client, minutes: int | str, *, by: User,
                         request: HttpRequest | None = None) -> DeviationSettings:
    require_perm(by, Perm.MANAGE_KNOWLEDGE)
    if not user_may_see_client(by, client.pk):
        raise PermissionDenied(_("Your role does not allow this."))
    try:
        value = int(minutes)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 240:
        raise ValidationError(_("The answer time must be between 1 and 240 minutes."))
    row, _created = DeviationSettings.objects.update_or_create(
        client=client, defaults={"response_minutes": value})
    audit.record("knowledge.deviation_settings", actor=by, obj=row, client=client,
                 request=request, data={"response_minutes": value})
    return row


# -- request --------------------------------------------------------------------------------

def _summary(deviation: Deviation) -> str:
    kind = _("Deviation justified after the fact") if deviation.post_hoc else _(
        "Deviation requested")
    return _("%(kind)s from %(sop)s v%(n)s, step %(step)s (%(step_text)s). Instead: "
             "%(proposal)s. Why: %(reason)s.") % {
        "kind": kind, "sop": deviation.version.title, "n": deviation.version.number,
        "step": deviation.step, "step_text": deviation.step_text,
        "proposal": deviation.proposal, "reason": deviation.get_reason_display()}


def _check_version(case: Case, version: ArticleVersion, step: int) -> None:
    article = version.article
    if article.client_id not in (None, case.client_id):
        raise ValidationError(_("That SOP belongs to another client."))
    if article.kind not in (Kind.SOP, Kind.WORK_INSTRUCTION):
        raise ValidationError(_("Deviations are asked against an SOP or a work instruction."))
    if version.status != Status.PUBLISHED or version.is_scheduled:
        raise ValidationError(_("That version of the SOP is not published; ask against the "
                                "version in effect."))
    if article.is_retired or not queries.is_current(version):
        raise ValidationError(_("That version of the SOP has been superseded; ask against the "
                                "version in effect."))
    if not isinstance(step, int) or not 1 <= step <= len(version.steps or []):
        raise ValidationError(_("Step %(step)s does not exist in version %(n)s of this SOP.")
                              % {"step": step, "n": version.number})


@transaction.atomic
def request_deviation(case: Case, *, version: ArticleVersion, step: int, proposal: str,
                      reason: str, by: User, justification: str = "", post_hoc: bool = False,
                      request: HttpRequest | None = None,
                      now: datetime | None = None) -> Deviation:
    """Ask the on-duty supervisors (or, with ``post_hoc``, tell them it is already done)."""
    from satupintu.cases import services as cases
    from satupintu.cases.models import Case as CaseModel
    from satupintu.cases.models import Status as CaseStatus

    require_perm(by, Perm.VIEW_OWN_WORK)
    if not user_may_see_client(by, case.client_id):
        raise PermissionDenied(_("Your role does not allow this."))
    case = CaseModel.objects.get(pk=case.pk)
    if case.status == CaseStatus.CLOSED:
        raise ValidationError(_("This case is closed; a deviation cannot be asked on it."))
    version = ArticleVersion.objects.select_related("article").get(pk=version.pk)
    try:
        step = int(step)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("Choose the step you deviate from.")) from exc
    _check_version(case, version, step)
    proposal = (proposal or "").strip()
    if not proposal:
        raise ValidationError(_("Say what you propose to do instead."))
    if reason not in DeviationReason.values:
        raise ValidationError(_("Choose why the SOP does not fit."))
    now = now or timezone.now()
    deviation = Deviation.objects.create(
        client_id=case.client_id, case=case, article=version.article, version=version,
        step=step, proposal=proposal, reason=reason, justification=(justification or "").strip(),
        post_hoc=bool(post_hoc), requested_by=by, requested_at=now,
        due_at=None if post_hoc else now + timedelta(minutes=response_minutes(case.client_id)))
    cases.add_note(case, _summary(deviation), by=by, request=request)
    audit.record("knowledge.deviation_requested", actor=by, obj=deviation, client=case.client,
                 request=request, data={"case": case.reference, "version": version.pk,
                                        "step": step, "reason": reason,
                                        "post_hoc": deviation.post_hoc})
    _notify_on_commit(deciders(deviation).values_list("pk", flat=True),
                      _payload(deviation, "requested"))
    return deviation


# -- decision -------------------------------------------------------------------------------

def may_decide(user: User, deviation: Deviation) -> bool:
    return (has_perm(user, Perm.SUPERVISE) and user_may_see_client(user, deviation.client_id)
            and deviation.requested_by_id != user.pk)


@transaction.atomic
def decide(deviation: Deviation, outcome: str, *, by: User, note: str = "", changes: str = "",
           request: HttpRequest | None = None) -> Deviation:
    """Approve, approve with changes, or reject (with a reason). Decided once."""
    from satupintu.cases import services as cases

    require_perm(by, Perm.SUPERVISE)
    if not user_may_see_client(by, deviation.client_id):
        raise PermissionDenied(_("Your role does not allow this."))
    deviation = (Deviation.objects.select_for_update()
                 .select_related("case", "article", "version").get(pk=deviation.pk))
    if deviation.requested_by_id == by.pk:
        raise ValidationError(_("You cannot decide on your own deviation."))
    if deviation.is_decided:
        raise ValidationError(_("This deviation has already been decided (%(status)s).")
                              % {"status": deviation.get_status_display()})
    if outcome not in OUTCOMES:
        raise ValidationError(_("Unknown decision."))
    note, changes = (note or "").strip(), (changes or "").strip()
    if outcome == DeviationStatus.REJECTED and not note:
        raise ValidationError(_("Say why the deviation is rejected."))
    if outcome == DeviationStatus.APPROVED_WITH_CHANGES and not changes:
        raise ValidationError(_("Say which changes you ask for."))
    deviation.status = outcome
    deviation.decided_by, deviation.decided_at = by, timezone.now()
    deviation.decision_note, deviation.changes = note, changes
    deviation.save(update_fields=["status", "decided_by", "decided_at", "decision_note",
                                  "changes"])
    text = _("Deviation from %(sop)s step %(step)s: %(status)s by %(name)s.") % {
        "sop": deviation.version.title, "step": deviation.step,
        "status": deviation.get_status_display(), "name": by.display_name}
    if changes:
        text += " " + _("Changes: %(changes)s") % {"changes": changes}
    if note:
        text += " " + _("Note: %(note)s") % {"note": note}
    cases.add_note(deviation.case, text, by=by, request=request)
    audit.record("knowledge.deviation_decided", actor=by, obj=deviation,
                 client=deviation.client, request=request,
                 data={"outcome": outcome, "note": note, "changes": changes})
    _notify_on_commit([deviation.requested_by_id], _payload(deviation, "decided"))
    return deviation


# -- escalation -----------------------------------------------------------------------------

def escalate_overdue(now: datetime | None = None) -> int:
    """Mark live requests nobody answered in time as escalated and tell the client's
    managers. A conditional update claims each row, so running twice (or on two workers)
    escalates once."""
    now = now or timezone.now()
    done = 0
    due = Deviation.objects.filter(status=DeviationStatus.PENDING, post_hoc=False,
                                   escalated_at__isnull=True, due_at__lte=now)
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            claimed = Deviation.objects.filter(
                pk=pk, status=DeviationStatus.PENDING, escalated_at__isnull=True,
            ).update(status=DeviationStatus.ESCALATED, escalated_at=now)
            if not claimed:
                continue
            deviation = Deviation.objects.select_related("case", "article", "client").get(pk=pk)
            targets = list(managers(deviation.client_id).values_list("pk", flat=True))
            audit.record("knowledge.deviation_escalated", obj=deviation,
                         client=deviation.client, actor_label="system",
                         data={"due_at": deviation.due_at.isoformat() if deviation.due_at
                               else None, "managers": targets})
            _notify_on_commit(targets, _payload(deviation, "escalated"))
            done += 1
    return done


# -- review ---------------------------------------------------------------------------------

_ANALYZER = Analyzer.with_synonyms()


def terms(text: str) -> frozenset[str]:
    """Normalised words (folded, stop words dropped, stemmed both ways, synonyms applied)."""
    return frozenset(_ANALYZER.query_terms(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass
class Cluster:
    step: int
    step_text: str
    deviations: list[Deviation] = field(default_factory=list)

    @property
    def approved(self) -> int:
        return sum(1 for d in self.deviations if d.is_approved)

    @property
    def ids(self) -> list[int]:
        return [d.pk for d in self.deviations]


def review_queue(article: Article) -> QuerySet[Deviation]:
    """Deviations of this SOP not yet taken into a revision."""
    return (article.deviations.filter(revision__isnull=True)
            .select_related("case", "version", "requested_by", "decided_by")
            .order_by("step", "requested_at"))


def clusters(rows: Iterable[Deviation], threshold: float = SIMILARITY) -> list[Cluster]:
    """Same step, similar proposals (single-link over Jaccard of analysed terms); biggest
    first."""
    by_step: dict[int, list[tuple[Deviation, frozenset[str]]]] = {}
    for d in rows:
        by_step.setdefault(d.step, []).append((d, terms(d.proposal)))
    out: list[Cluster] = []
    for step, items in sorted(by_step.items()):
        groups: list[list[tuple[Deviation, frozenset[str]]]] = []
        for item in items:
            home = next((g for g in groups
                         if any(jaccard(item[1], other[1]) >= threshold for other in g)), None)
            if home is None:
                groups.append([item])
            else:
                home.append(item)
        for group in groups:
            first = group[0][0]
            out.append(Cluster(step=step, step_text=first.step_text,
                               deviations=[d for d, _t in group]))
    out.sort(key=lambda c: (-len(c.deviations), c.step))
    return out


@transaction.atomic
def create_revision(rows: Iterable[Deviation], *, by: User, language: str | None = None,
                    request: HttpRequest | None = None) -> ArticleVersion:
    """Open (or reuse) the draft of the SOP and link the chosen deviations to it."""
    chosen = list(Deviation.objects.select_for_update()
                  .filter(pk__in=[d.pk for d in rows]).order_by("pk"))
    if not chosen:
        raise ValidationError(_("Choose at least one deviation."))
    if len({d.article_id for d in chosen}) > 1:
        raise ValidationError(_("The deviations must all be on the same SOP."))
    if any(d.revision_id is not None for d in chosen):
        raise ValidationError(_("A deviation is already linked to a revision."))
    if any(not d.is_decided for d in chosen):
        raise ValidationError(_("Only decided deviations can go into a revision."))
    article = chosen[0].article
    if not user_may_see_client(by, article.client_id):
        raise PermissionDenied(_("Your role does not allow this."))
    draft = articles.start_draft(article, language or chosen[0].version.language, by=by,
                                 request=request)
    Deviation.objects.filter(pk__in=[d.pk for d in chosen]).update(revision=draft)
    audit.record("knowledge.deviation_revision", actor=by, obj=draft, client=article.client,
                 request=request, data={"deviations": [d.pk for d in chosen]})
    return draft


def mark_incorporated(version: ArticleVersion, *, by: User | None,
                      request: HttpRequest | None = None) -> int:
    """Called by ``articles.publish`` inside its transaction."""
    now = timezone.now()
    ids = list(version.linked_deviations.filter(incorporated_at__isnull=True)
               .values_list("pk", flat=True))
    if not ids:
        return 0
    Deviation.objects.filter(pk__in=ids).update(incorporated_at=now)
    audit.record("knowledge.deviations_incorporated", actor=by, obj=version,
                 client=version.article.client, request=request, data={"deviations": ids})
    return len(ids)


# -- report ---------------------------------------------------------------------------------

@dataclass
class ReportRow:
    article: Article
    total: int
    decided: int
    approved: int
    incorporated: int

    @property
    def approval_rate(self) -> float | None:
        return round(100 * self.approved / self.decided, 1) if self.decided else None


def report(client_ids: Iterable[int], limit: int = 20) -> list[ReportRow]:
    """SOPs with the most deviations, and how many were approved (of those decided)."""
    ids = list(client_ids)
    rows = (Deviation.objects.filter(client_id__in=ids).values("article_id")
            .annotate(total=Count("id"),
                      decided=Count("id", filter=~Q(status__in=UNDECIDED)),
                      approved=Count("id", filter=Q(status__in=APPROVED_STATUSES)),
                      incorporated=Count("id", filter=Q(incorporated_at__isnull=False)))
            .order_by("-total", "article_id")[:limit])
    found = Article.objects.in_bulk([r["article_id"] for r in rows])
    return [ReportRow(found[r["article_id"]], r["total"], r["decided"], r["approved"],
                      r["incorporated"]) for r in rows]


# -- reading --------------------------------------------------------------------------------

def visible(request: HttpRequest) -> QuerySet[Deviation]:
    """Deviations the request may read: its clients only; an agent only their own."""
    from satupintu.accounts.permissions import scoped

    require_perm(request.user, Perm.VIEW_OWN_WORK)
    rows = scoped(Deviation.objects.select_related(
        "case", "article", "version", "requested_by", "decided_by", "client"), request)
    user = request.user
    if not (has_perm(user, Perm.SUPERVISE) or has_perm(user, Perm.MANAGE_KNOWLEDGE)):
        rows = rows.filter(requested_by_id=user.pk)
    return rows


def sop_choices(case: Case, language: str = "id") -> list[tuple[ArticleVersion, list[str]]]:
    """The SOP versions in effect for the case's client (and shared ones), with their steps:
    what a deviation may be asked against."""
    found = queries.current_versions(
        Article.objects.filter(Q(client_id=case.client_id) | Q(client__isnull=True),
                               kind__in=(Kind.SOP, Kind.WORK_INSTRUCTION)))
    out: dict[int, ArticleVersion] = {}
    preferred_first = sorted(found.items(), key=lambda kv: kv[0][1] != language)
    for (article_id, _lang), version in preferred_first:
        if version.steps:
            out.setdefault(article_id, version)
    return [(v, [str(s.get("text", "")) for s in v.steps])
            for v in sorted(out.values(), key=lambda v: v.title)]
