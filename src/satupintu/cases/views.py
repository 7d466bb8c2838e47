"""Case pages: "My cases", the team queue, the case page with its timeline and composer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from satupintu.accounts.models import User
from satupintu.accounts.permissions import (
    get_visible_or_404,
    has_perm,
    request_client_ids,
    require_perm,
    scoped,
    visible_teams,
)
from satupintu.accounts.roles import Perm
from satupintu.cases import services
from satupintu.cases.models import (
    ACTIVE_STATUSES,
    TRANSITIONS,
    Attachment,
    CannedResponse,
    Case,
    CaseEvent,
    CaseLink,
    ClientStatus,
    ContactReason,
    Priority,
    SavedView,
    Status,
)
from satupintu.customers.models import Customer
from satupintu.sla import services as sla_services

PAGE_SIZE = 50


def visible_cases(request: HttpRequest) -> QuerySet[Case]:
    return scoped(Case.objects.all(), request)


CLOCK_NAMES = {"first_response": _lazy("First response"),
               "next_response": _lazy("Next response"),
               "resolution": _lazy("Resolution")}
SLA_WHAT = {"warning": _lazy("warning"), "breach": _lazy("breached"),
            "escalated": _lazy("escalated")}


def _filtered(request: HttpRequest, rows: QuerySet[Case]) -> tuple[QuerySet[Case], dict[str, str]]:
    f = {k: request.GET.get(k, "").strip()
         for k in ("status", "priority", "q", "assignee", "sort")}
    if f["status"] == "active" or not f["status"]:
        rows = rows.filter(status__in=ACTIVE_STATUSES)
    elif f["status"] in Status.values:
        rows = rows.filter(status=f["status"])
    if f["priority"] in Priority.values:
        rows = rows.filter(priority=f["priority"])
    if f["assignee"] == "none":
        rows = rows.filter(assignee__isnull=True)
    elif f["assignee"] == "me":
        rows = rows.filter(assignee=request.user)
    if f["q"]:
        rows = rows.filter(Q(reference__iexact=f["q"]) | Q(subject__icontains=f["q"]))
    return rows, f


def _list(request: HttpRequest, rows: QuerySet[Case], title: str, url: str) -> HttpResponse:
    saved = SavedView.objects.filter(user=request.user, list_name=url.split(":")[1])
    view_id = request.GET.get("view", "")
    if view_id.isdigit() and not any(request.GET.get(k) for k in services.SAVED_FILTER_KEYS):
        chosen = get_visible_or_404(saved, pk=int(view_id))
        request.GET = request.GET.copy()
        request.GET.update(chosen.filters)
    rows, filters = _filtered(request, rows)
    rows = rows.select_related("customer", "assignee", "client", "client_status", "reason",
                               "sla")
    if filters["sort"] == "deadline":
        rows = rows.order_by(F("sla__next_due").asc(nulls_last=True), "-created_at", "-id")
    else:
        rows = rows.order_by("-created_at", "-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/case_list.html", {
        "title": title, "page": page, "filters": filters, "url": url, "now": timezone.now(),
        "statuses": Status.choices, "priorities": Priority.choices,
        "saved_views": saved, "list_name": url.split(":")[1],
    })


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    rows = visible_cases(request).filter(assignee=request.user)
    return _list(request, rows, _("My cases"), "cases:mine")


@login_required
def team_queue(request: HttpRequest) -> HttpResponse:
    """The user's team's cases and unassigned ones; everyone in scope for those without a
    team (supervisors, client viewers)."""
    require_perm(request.user, Perm.VIEW_CLIENTS)
    rows = visible_cases(request)
    team_id = getattr(request.user, "team_id", None)
    if team_id is not None and has_perm(request.user, Perm.VIEW_OWN_WORK):
        rows = rows.filter(Q(team_id=team_id) | Q(team__isnull=True))
    return _list(request, rows, _("Team queue"), "cases:queue")


@login_required
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    case = get_visible_or_404(
        visible_cases(request).select_related("customer", "client", "assignee", "team",
                                              "reason", "client_status"),
        reference=reference)
    worker = has_perm(request.user, Perm.VIEW_OWN_WORK)
    events = case.events.select_related("actor")
    if not worker:
        events = events.exclude(kind=CaseEvent.Kind.NOTE)
    language = get_language() or "id"
    events = _with_summaries(list(events), case, language)
    if request.GET.get("fragment") == "timeline":
        return render(request, "cases/_timeline.html", {"case": case, "events": events})
    clocks = sla_services.clocks_for_display(sla_services.evaluate_case(case))
    for clock in clocks:
        clock["label"] = CLOCK_NAMES[str(clock["name"])]
    context: dict[str, Any] = {
        "case": case, "events": events, "worker": worker, "language": language,
        "sla_clocks": clocks,
        "status_label": case.status_label(language),
        "reason_label": case.reason.path(language) if case.reason else "",
        "links": case.links_out.select_related("to_case").all(),
        "linked_from": case.links_in.select_related("from_case").all(),
        "attachments": _attachments(request, case),
        "attachment_max_mb": f"{settings.ATTACHMENT_MAX_BYTES / (1024 * 1024):g}",
    }
    if worker:
        allowed = TRANSITIONS[case.status]
        context.update({
            "next_statuses": [(s, Status(s).label) for s in Status.values if s in allowed],
            "client_statuses": [(c.code, c.label(language)) for c in
                                ClientStatus.objects.filter(client_id=case.client_id,
                                                            category__in=allowed |
                                                            {case.status})],
            "reasons": [(r.pk, r.path(language)) for r in ContactReason.objects.filter(
                client_id=case.client_id, is_active=True).select_related("parent")],
            "priorities": Priority.choices,
            "teams": visible_teams(request).filter(clients=case.client_id),
            "agents": User.objects.filter(clients=case.client_id, is_active=True)
            .order_by("full_name"),
            "canned": CannedResponse.objects.filter(client_id=case.client_id, is_active=True),
            "draft": "",
            "tags": ", ".join(t.name for t in case.tags.all()),
            "link_kinds": CaseLink.Kind.choices,
        })
        canned_id = request.GET.get("canned", "")
        if canned_id.isdigit():
            canned = get_visible_or_404(context["canned"], pk=int(canned_id))
            context["draft"] = services.render_canned(canned, case, case.customer.language)
    return render(request, "cases/case_detail.html", context)


def _with_summaries(events: list[CaseEvent], case: Case, language: str) -> list[CaseEvent]:
    """A readable line for status, assignment and detail events (their data holds ids)."""
    names = dict(Status.choices)
    custom = {c.code: c.label(language) for c in
              ClientStatus.objects.filter(client_id=case.client_id)}
    user_ids = {v for e in events if e.kind == CaseEvent.Kind.ASSIGNMENT
                for v in e.data.get("assignee", []) if v}
    users = {u.pk: u.display_name for u in User.objects.filter(pk__in=user_ids)}
    for e in events:
        summary = ""
        if e.kind == CaseEvent.Kind.STATUS:
            target = custom.get(e.data.get("custom", ""), names.get(e.data.get("to", ""), ""))
            summary = f"{names.get(e.data.get('from', ''), '')} → {target}"
        elif e.kind == CaseEvent.Kind.ASSIGNMENT and "assignee" in e.data:
            old, new = e.data["assignee"]
            summary = f"{users.get(old, '—')} → {users.get(new, '—')}"
        elif e.kind == CaseEvent.Kind.UPDATE and "priority" in e.data:
            old, new = e.data["priority"]
            summary = f"{Priority(old).label} → {Priority(new).label}"
        elif e.kind == CaseEvent.Kind.SLA and e.data.get("sla") in SLA_WHAT:
            clock = CLOCK_NAMES.get(e.data.get("clock", ""), "")
            summary = f"{clock}: {SLA_WHAT[e.data['sla']]}"
        e.summary = summary  # type: ignore[attr-defined]
    return events


def _case_for_work(request: HttpRequest, reference: str) -> Case:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    return get_visible_or_404(visible_cases(request), reference=reference)


def _pk(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def _done(request: HttpRequest, case: Case, call: Any, success: str) -> HttpResponse:
    try:
        call()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("cases:detail", reference=case.reference)


@login_required
@require_POST
def post_note(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_work(request, reference)
    return _done(request, case, lambda: services.add_note(
        case, request.POST.get("body", ""), by=request.user,  # type: ignore[arg-type]
        request=request), _("Note added."))


@login_required
@require_POST
def post_reply(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_work(request, reference)
    return _done(request, case, lambda: services.reply(
        case, request.POST.get("body", ""), by=request.user,  # type: ignore[arg-type]
        expected_version=_version(request), request=request), _("Reply sent."))


@login_required
@require_POST
def post_status(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_work(request, reference)
    return _done(request, case, lambda: services.change_status(
        case, request.POST.get("status", ""), by=request.user,  # type: ignore[arg-type]
        expected_version=_version(request), request=request), _("Status changed."))


@login_required
@require_POST
def post_update(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_work(request, reference)
    post = request.POST
    changes: dict[str, Any] = {}
    if "priority" in post:
        changes["priority"] = post["priority"]
    if "reason" in post:
        changes["reason"] = (get_visible_or_404(
            ContactReason.objects.filter(client_id=case.client_id), pk=post["reason"])
            if post["reason"].isdigit() else None)
    if "team" in post:
        changes["team"] = (get_visible_or_404(visible_teams(request), pk=post["team"])
                           if post["team"].isdigit() else None)
    if "assignee" in post:
        changes["assignee"] = (get_visible_or_404(
            User.objects.filter(clients__in=request_client_ids(request)).distinct(),
            pk=post["assignee"]) if post["assignee"].isdigit() else None)
    if "tags" in post:
        changes["tags"] = [t for t in post["tags"].split(",")]
    return _done(request, case, lambda: services.update_case(
        case, by=request.user, expected_version=_version(request),  # type: ignore[arg-type]
        request=request, **changes), _("Case updated."))


@login_required
@require_POST
def post_link(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_work(request, reference)
    other = get_visible_or_404(visible_cases(request),
                               reference=request.POST.get("other", "").strip().upper())
    return _done(request, case, lambda: services.link(
        case, other, kind=request.POST.get("kind", "related"), by=request.user,  # type: ignore[arg-type]
        request=request), _("Cases linked."))


@login_required
@require_POST
def case_new(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    customer = get_visible_or_404(scoped(Customer.objects.all(), request),
                                  pk=_pk(request.POST.get("customer")))
    try:
        case = services.create_case(
            customer.client, customer, request.POST.get("subject", ""),
            by=request.user, body=request.POST.get("body", ""),  # type: ignore[arg-type]
            channel=request.POST.get("channel", "email"),
            priority=request.POST.get("priority", "normal"), request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:detail", pk=customer.pk)
    messages.success(request, _("Case %(reference)s opened.") % {"reference": case.reference})
    return redirect("cases:detail", reference=case.reference)


# --- attachments -------------------------------------------------------------------------

def _attachments(request: HttpRequest, case: Case) -> QuerySet[Attachment]:
    rows = case.attachments.select_related("event", "uploaded_by")
    if not has_perm(request.user, Perm.VIEW_OWN_WORK):
        rows = rows.exclude(event__kind=CaseEvent.Kind.NOTE)  # notes' files stay internal
    return rows


def visible_attachments(request: HttpRequest) -> QuerySet[Attachment]:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    rows = scoped(Attachment.objects.select_related("case", "event"), request, "case__client")
    if not has_perm(request.user, Perm.VIEW_OWN_WORK):
        rows = rows.exclude(event__kind=CaseEvent.Kind.NOTE)
    return rows


def attachment_response(attachment: Attachment) -> FileResponse:
    """Always a download, never rendered inline: the stored (detected) type, nosniff, and a
    sandbox policy in case a browser tries anyway."""
    try:
        handle = default_storage.open(attachment.storage_key, "rb")
    except FileNotFoundError as exc:
        raise Http404(_("Not found.")) from exc
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    return attachment_response(get_visible_or_404(visible_attachments(request), pk=pk))


@login_required
@require_POST
def post_attachment(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_work(request, reference)
    upload = request.FILES.get("file")
    try:
        services.add_attachment(case, upload, by=request.user,  # type: ignore[arg-type]
                                note=request.POST.get("body", ""), request=request)
    except ValidationError as exc:
        if getattr(exc, "code", "") == "too_large":
            return render(request, "web/error.html", {"message": " ".join(exc.messages)},
                          status=413)
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("File attached."))
    return redirect("cases:detail", reference=case.reference)


# --- saved views ---------------------------------------------------------------------------

@login_required
@require_POST
def post_saved_view(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    list_name = request.POST.get("list", "")
    target = "cases:mine" if list_name == "mine" else "cases:queue"
    try:
        view = services.save_view(request.user, list_name,  # type: ignore[arg-type]
                                  request.POST.get("name", ""),
                                  {k: request.POST.get(k, "") for k in services.SAVED_FILTER_KEYS},
                                  request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(target)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{reverse(target)}?view={view.pk}")


@login_required
@require_POST
def delete_saved_view(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_visible_or_404(SavedView.objects.filter(user=request.user), pk=pk)
    target = "cases:mine" if view.list_name == "mine" else "cases:queue"
    services.delete_view(view, by=request.user, request=request)  # type: ignore[arg-type]
    messages.success(request, _("View deleted."))
    return redirect(target)
