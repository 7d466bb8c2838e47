"""Deviation pages: ask from a case, decide, review clusters into a revision, report.

Reads go through ``deviations.visible`` (client scope; agents see their own); writes through
``knowledge.services.deviations``. Another client's deviation is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from satupintu.accounts.models import User
from satupintu.accounts.permissions import (
    get_visible_or_404,
    has_perm,
    request_client_ids,
    require_perm,
    scoped_or_shared,
)
from satupintu.accounts.roles import Perm
from satupintu.knowledge.models import Article, ArticleVersion, Deviation, DeviationReason
from satupintu.knowledge.models_deviation import UNDECIDED
from satupintu.knowledge.services import deviations


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _fail(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _case(request: HttpRequest, reference: str):  # type: ignore[no-untyped-def]
    from satupintu.accounts.permissions import scoped
    from satupintu.cases.models import Case

    require_perm(request.user, Perm.VIEW_OWN_WORK)
    return get_visible_or_404(scoped(Case.objects.select_related("client"), request),
                              reference=reference)


@login_required
def deviation_list(request: HttpRequest) -> HttpResponse:
    rows = deviations.visible(request)
    user = _user(request)
    waiting = [d for d in rows.filter(status__in=UNDECIDED) if deviations.may_decide(user, d)]
    return render(request, "knowledge/deviations/list.html", {
        "waiting": waiting, "recent": rows[:50],
        "may_review": has_perm(user, Perm.MANAGE_KNOWLEDGE),
        "may_report": has_perm(user, Perm.VIEW_REPORTS)})


@login_required
def deviation_new(request: HttpRequest) -> HttpResponse:
    case = _case(request, request.GET.get("case") or request.POST.get("case") or "")
    choices = deviations.sop_choices(case, _user(request).language)
    if request.method == "POST":
        try:
            version_id, step = (request.POST.get("step") or ":").split(":", 1)
            version = get_visible_or_404(
                scoped_or_shared(ArticleVersion.objects.select_related("article"), request,
                                 field="article__client"), pk=int(version_id or 0))
            deviation = deviations.request_deviation(
                case, version=version, step=int(step or 0),
                proposal=request.POST.get("proposal", ""),
                reason=request.POST.get("reason", ""),
                justification=request.POST.get("justification", ""),
                post_hoc=bool(request.POST.get("post_hoc")), by=_user(request),
                request=request)
        except ValueError:
            messages.error(request, _("Choose the step you deviate from."))
        except ValidationError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Your deviation was sent to the supervisors on duty.")
                             if not deviation.post_hoc else
                             _("Your deviation was recorded for review."))
            return redirect("knowledge:deviation", deviation.pk)
    return render(request, "knowledge/deviations/new.html", {
        "case": case, "choices": choices, "reasons": DeviationReason.choices,
        "posted": request.POST})


@login_required
def deviation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deviation = get_visible_or_404(deviations.visible(request), pk=pk)
    return render(request, "knowledge/deviations/detail.html", {
        "d": deviation,
        "may_decide": (not deviation.is_decided
                       and deviations.may_decide(_user(request), deviation))})


@login_required
@require_POST
def deviation_decide(request: HttpRequest, pk: int) -> HttpResponse:
    deviation = get_visible_or_404(deviations.visible(request), pk=pk)
    try:
        deviations.decide(deviation, request.POST.get("outcome", ""), by=_user(request),
                          note=request.POST.get("note", ""),
                          changes=request.POST.get("changes", ""), request=request)
    except ValidationError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("knowledge:deviation", deviation.pk)


@login_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_KNOWLEDGE)
    article = get_visible_or_404(scoped_or_shared(Article.objects.all(), request), pk=pk)
    queue = deviations.review_queue(article)
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
        try:
            draft = deviations.create_revision(list(queue.filter(pk__in=ids)),
                                               by=_user(request), request=request)
        except ValidationError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Draft revision opened; the deviations are linked to "
                                        "it."))
            return redirect("knowledge:version", draft.pk)
    linked = (Deviation.objects.filter(article=article, revision__isnull=False)
              .select_related("revision", "case", "decided_by").order_by("-requested_at"))
    return render(request, "knowledge/deviations/review.html", {
        "article": article, "clusters": deviations.clusters(queue), "linked": linked[:50]})


@login_required
def report(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_REPORTS)
    return render(request, "knowledge/deviations/report.html", {
        "rows": deviations.report(request_client_ids(request)),
        "may_review": has_perm(request.user, Perm.MANAGE_KNOWLEDGE)})
