"""Routing pages: queue and rules set-up, the agent's presence and offers, the team view.

Every write goes through ``satupintu.routing.services``; every page checks the role and the
client scope, and another client's queue, rules, agent or work item is a 404.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from satupintu.accounts.models import Client, User
from satupintu.accounts.permissions import (
    get_visible_or_404,
    request_client_ids,
    require_perm,
    scoped,
    visible_clients,
)
from satupintu.accounts.roles import Perm, Role
from satupintu.routing import forms, ui_tasks
from satupintu.routing.models import (
    LIVE_WORK,
    AgentPresence,
    EngineChannel,
    PresenceEvent,
    PresenceState,
    Queue,
    ReasonCode,
    RoutingSettings,
    RuleVersion,
    WorkItem,
    WorkStatus,
)
from satupintu.routing.presence_ui import bar_context, reason_choices, split_state
from satupintu.routing.services import configure, presence, rules, work

_LINE_RE = re.compile(r"(\d+)")


# --- helpers -----------------------------------------------------------------------------

def _client(request: HttpRequest, client_id: int) -> Client:
    """Another client's set-up is missing (404) even for those who may set up their own."""
    client = get_visible_or_404(visible_clients(request), pk=client_id)
    require_perm(request.user, Perm.MANAGE_ROUTING)
    return client


def _form_page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A form page; a rejected submission answers 400 with the form's errors."""
    form = context["form"]
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, template, context, status=status)


def _next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "") or request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def visible_agents(request: HttpRequest) -> QuerySet[User]:
    """Agents and team leaders who serve at least one of the request's clients."""
    return (User.objects.filter(is_active=True, role__in=[Role.AGENT, Role.TEAM_LEADER],
                                clients__in=request_client_ids(request))
            .distinct().order_by("full_name", "username"))


# --- set-up: clients, queues, settings, reason codes --------------------------------------

@login_required
def setup_index(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_ROUTING)
    clients = list(visible_clients(request).order_by("name"))
    counts = {c: 0 for c in (x.pk for x in clients)}
    for q in Queue.objects.filter(client__in=clients, is_active=True).values_list("client_id",
                                                                                  flat=True):
        counts[q] += 1
    current = {v.client_id: v for v in RuleVersion.objects.filter(client__in=clients,
                                                                   is_current=True)}
    rows = [{"client": c, "queues": counts[c.pk], "rules": current.get(c.pk)} for c in clients]
    return render(request, "routing/setup_index.html", {"rows": rows})


@login_required
def client_setup(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    language = get_language() or "id"
    queues = list(client.queues.select_related("team").prefetch_related("skills"))
    reasons = ReasonCode.objects.filter(Q(client=client) | Q(client__isnull=True))
    settings_obj = RoutingSettings.objects.filter(client=client).first() or RoutingSettings(
        client=client)
    return render(request, "routing/client_setup.html", {
        "client": client, "queues": queues, "language": language,
        "reasons": [(r, r.label(language)) for r in reasons],
        "settings": settings_obj, "rules": rules.current_rules(client),
    })


@login_required
def queue_edit(request: HttpRequest, client_id: int, pk: int | None = None) -> HttpResponse:
    client = _client(request, client_id)
    queue = get_visible_or_404(Queue.objects.filter(client=client), pk=pk) if pk else None
    if request.method == "POST":
        form = forms.QueueForm(request.POST, client=client)
        if form.is_valid():
            values = dict(form.cleaned_data)
            skills = list(values.pop("skills"))
            try:
                configure.save_queue(client, values, by=request.user,  # type: ignore[arg-type]
                                     queue=queue, skills=skills, request=request)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Queue saved."))
                return redirect("routing:client", client_id=client.pk)
    else:
        initial: dict[str, Any] = {}
        if queue is not None:
            initial = {name: getattr(queue, name) for name in configure.QUEUE_FIELDS}
            initial["skills"] = list(queue.skills.all())
        form = forms.QueueForm(initial=initial, client=client)
    return _form_page(request, "routing/queue_form.html", {"client": client, "queue": queue,
                                                            "form": form})


@login_required
def settings_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    current = RoutingSettings.objects.filter(client=client).first() or RoutingSettings(
        client=client)
    if request.method == "POST":
        form = forms.SettingsForm(request.POST)
        if form.is_valid():
            try:
                configure.save_settings(client, form.cleaned_data,
                                        by=request.user,  # type: ignore[arg-type]
                                        request=request)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Routing settings saved."))
                return redirect("routing:client", client_id=client.pk)
    else:
        form = forms.SettingsForm(initial=forms.SettingsForm.initial_from(current))
    return _form_page(request, "routing/settings_form.html", {"client": client, "form": form})


@login_required
def reason_edit(request: HttpRequest, client_id: int, pk: int | None = None) -> HttpResponse:
    client = _client(request, client_id)
    reason = (get_visible_or_404(ReasonCode.objects.filter(client=client, system=False), pk=pk)
              if pk else None)
    if request.method == "POST":
        form = forms.ReasonCodeForm(request.POST)
        if form.is_valid():
            try:
                configure.save_reason_code(client, form.cleaned_data,
                                           by=request.user,  # type: ignore[arg-type]
                                           reason=reason, request=request)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Reason code saved."))
                return redirect("routing:client", client_id=client.pk)
    else:
        initial = ({name: getattr(reason, name) for name in configure.REASON_FIELDS}
                   if reason else {"paid": True, "adherent_when_scheduled": True})
        form = forms.ReasonCodeForm(initial=initial)
    return _form_page(request, "routing/reason_form.html", {"client": client, "reason": reason,
                                                             "form": form})


# --- rules: editor, validation, preview, history -----------------------------------------

def _numbered(text: str, errors: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The text as numbered lines with the lines the errors name marked, and the errors with
    their line numbers (the first number in each message)."""
    bad: dict[int, list[str]] = {}
    listed = []
    for message in errors:
        m = _LINE_RE.search(message)
        line = int(m.group(1)) if m else 0
        bad.setdefault(line, []).append(message)
        listed.append({"line": line, "message": message})
    lines = [{"n": i, "text": t, "error": i in bad}
             for i, t in enumerate(text.splitlines() or [""], start=1)]
    return lines, listed


@login_required
def rules_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    current = rules.current_rules(client)
    errors: list[str] = []
    if request.method == "POST":
        form = forms.RulesForm(request.POST)
        if form.is_valid():
            try:
                version = rules.save_rules(client, form.cleaned_data["text"],
                                           by=request.user,  # type: ignore[arg-type]
                                           comment=form.cleaned_data["comment"],
                                           request=request)
            except ValidationError as exc:
                errors = [str(m) for m in exc.messages]
            else:
                messages.success(request, _("Rules saved as version %(n)s.")
                                 % {"n": version.number})
                return redirect("routing:rules", client_id=client.pk)
        text = request.POST.get("text", "")
    else:
        form = forms.RulesForm(initial={"text": current.text})
        text = current.text
    lines, listed = _numbered(text, errors)
    return render(request, "routing/rules_edit.html", {
        "client": client, "current": current, "form": form, "errors": listed, "lines": lines,
        "preview_form": forms.PreviewForm(client=client),
    }, status=400 if errors or (request.method == "POST" and not form.is_valid()) else 200)


@login_required
@require_POST
def rules_validate(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    text = request.POST.get("text", "")
    if len(text) > 100_000:
        errors = [_("Line %(line)d: the rules are too long.") % {"line": 1}]
    else:
        errors = rules.validate_rules(text, client)
    lines, listed = _numbered(text, errors)
    return render(request, "routing/_validation.html", {"client": client, "errors": listed,
                                                         "lines": lines, "validated": True})


@login_required
@require_POST
def rules_preview(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    form = forms.PreviewForm(request.POST, client=client)
    rows: list[Any] = []
    overflow = None
    if form.is_valid():
        queue: Queue = form.cleaned_data["queue"]
        overflow = rules.overflow_of(client, queue)
        chosen = form.cleaned_data["skills"]
        skills = None
        if chosen:
            level = form.cleaned_data["proficiency"] or queue.min_proficiency
            skills = {s.code: level for s in chosen}
        rows = rules.preview(client, queue, language=form.cleaned_data["language"],
                             vip=form.cleaned_data["vip"], skills=skills)
    states = dict(PresenceState.choices)
    for row in rows:
        row.state_label = states.get(row.state, row.state)
    # htmx swaps only 2xx answers: the form's errors are shown in place, with a 200.
    ok = form.is_valid() or _is_htmx(request)
    return render(request, "routing/_preview.html",
                  {"form": form, "rows": rows, "overflow": overflow},
                  status=200 if ok else 400)


@login_required
def rules_history(request: HttpRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    rules.current_rules(client)
    versions = RuleVersion.objects.filter(client=client).select_related("created_by")
    return render(request, "routing/rules_history.html", {"client": client,
                                                          "versions": versions})


@login_required
def rules_version(request: HttpRequest, client_id: int, number: int) -> HttpResponse:
    client = _client(request, client_id)
    versions = RuleVersion.objects.filter(client=client).select_related("created_by")
    version = get_visible_or_404(versions, number=number)
    against_raw = request.GET.get("against", "")
    if against_raw.isdigit():
        against = get_visible_or_404(versions, number=int(against_raw))
    else:
        against = versions.filter(number__lt=number).order_by("-number").first()
    diff: list[dict[str, str]] = []
    if against is not None:
        for line in difflib.unified_diff(against.text.splitlines(), version.text.splitlines(),
                                         f"v{against.number}", f"v{version.number}",
                                         lineterm="", n=3):
            kind = ("meta" if line.startswith(("---", "+++", "@@")) else
                    "add" if line.startswith("+") else
                    "del" if line.startswith("-") else "same")
            diff.append({"kind": kind, "text": line})
    return render(request, "routing/rules_version.html", {
        "client": client, "version": version, "against": against, "diff": diff,
        "others": versions.exclude(pk=version.pk),
    })


# --- the agent: presence bar, heartbeat, offers, wrap-up ----------------------------------

def _agent(request: HttpRequest) -> User:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    return request.user  # type: ignore[return-value]


def _bar(request: HttpRequest, connection: str = "", status: int = 200) -> HttpResponse:
    context = bar_context(request, connection=connection)
    if context is None:
        return HttpResponse(status=204)
    return render(request, "routing/_presence_bar.html", context, status=status)


@login_required
def presence_bar(request: HttpRequest) -> HttpResponse:
    _agent(request)
    return _bar(request, connection=request.GET.get("connection", "")[:64])


@login_required
@require_POST
def presence_state(request: HttpRequest) -> HttpResponse:
    user = _agent(request)
    form = forms.AgentStateForm(request.POST)
    connection = request.POST.get("connection", "")[:64]
    error = ""
    if not form.is_valid():
        error = _("Choose a state.")
    else:
        state, reason = split_state(form.cleaned_data["state"])
        allowed = {code for code, _label in reason_choices(user)}
        if state is None or (state == PresenceState.NOT_READY and reason not in allowed):
            error = _("Choose a state.")
        else:
            try:
                presence.set_state(user, state, reason_code=reason, by=user,
                                   source=PresenceEvent.Source.AGENT,
                                   connection=form.cleaned_data["connection"],
                                   request=request)
            except ValidationError as exc:
                error = _error_text(exc)
    if _is_htmx(request):
        response = _bar(request, connection=connection, status=400 if error else 200)
        if error:
            response["HX-Reswap"] = "none"
            response["HX-Trigger"] = "presence-error"
        return response
    if error:
        messages.error(request, error)
    return redirect(_next(request, reverse("web:home")))


@login_required
@require_POST
def presence_heartbeat(request: HttpRequest) -> HttpResponse:
    """Keeps the presence alive for one tab. The tab that loads last claims the presence;
    an older tab learns that it moved and stops beating."""
    user = _agent(request)
    connection = request.POST.get("connection", "")[:64]
    if not connection:
        return JsonResponse({"code": "invalid", "message": _("No connection id.")}, status=400)
    current = presence.presence_of(user)
    claim = request.POST.get("claim") == "1"
    if current.connection and current.connection != connection:
        if not claim:
            return JsonResponse({"moved": True, "state": current.state})
        if current.state in (PresenceState.READY, PresenceState.NOT_READY):
            # A newly opened tab takes the presence over, in the same state.
            # (A platform reason such as missed offers cannot be re-chosen: not taken.)
            with contextlib.suppress(ValidationError):
                presence.set_state(user, current.state,
                                   reason_code=current.reason.code if current.reason else "",
                                   by=user, source=PresenceEvent.Source.AGENT,
                                   connection=connection, request=request)
    updated = presence.heartbeat(user, connection)
    return JsonResponse({"moved": bool(updated.connection) and updated.connection != connection,
                         "state": updated.state})


@login_required
@require_POST
def presence_leave(request: HttpRequest) -> HttpResponse:
    """The page is being unloaded (``navigator.sendBeacon``). Moving to another page of the
    same tab claims the presence again within seconds, so logging out waits a moment and
    happens only if that tab sends nothing more."""
    user = _agent(request)
    connection = request.POST.get("connection", "")[:64]
    current = presence.presence_of(user)
    if connection and current.connection == connection and \
            current.state != PresenceState.LOGGED_OUT:
        ui_tasks.schedule_offline(user.pk, connection, timezone.now())
    return HttpResponse(status=204)


def _own_item(request: HttpRequest, pk: int, statuses: tuple[str, ...]) -> WorkItem:
    user = _agent(request)
    return get_visible_or_404(
        scoped(WorkItem.objects.select_related("case"), request).filter(
            agent=user, status__in=statuses), pk=pk)


@login_required
@require_POST
def work_accept(request: HttpRequest, pk: int) -> HttpResponse:
    item = _own_item(request, pk, (WorkStatus.OFFERED,))
    try:
        work.accept(item, by=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(_next(request, reverse("web:home")))
    return redirect("cases:detail", reference=item.case.reference)


@login_required
@require_POST
def work_decline(request: HttpRequest, pk: int) -> HttpResponse:
    item = _own_item(request, pk, (WorkStatus.OFFERED,))
    try:
        work.decline(item, by=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.info(request, _("Offer declined."))
    return redirect(_next(request, reverse("web:home")))


@login_required
@require_POST
def work_done(request: HttpRequest, pk: int) -> HttpResponse:
    item = _own_item(request, pk, (WorkStatus.ASSIGNED,))
    try:
        work.complete(item, by=request.user, wrap_up=True)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Contact done: after-contact work started."))
    return redirect(_next(request, reverse("cases:detail", args=[item.case.reference])))


@login_required
@require_POST
def wrap_up_end(request: HttpRequest) -> HttpResponse:
    user = _agent(request)
    try:
        work.end_wrap_up(user, by=user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("After-contact work ended."))
    return redirect(_next(request, reverse("web:home")))


# --- the supervisor's team view ----------------------------------------------------------

def _supervisor(request: HttpRequest) -> User:
    require_perm(request.user, Perm.SUPERVISE)
    return request.user  # type: ignore[return-value]


@login_required
def team(request: HttpRequest) -> HttpResponse:
    _supervisor(request)
    language = get_language() or "id"
    agents = list(visible_agents(request).select_related("team"))
    presences = {p.user_id: p for p in AgentPresence.objects.filter(user__in=agents)
                 .select_related("reason")}
    items = list(scoped(WorkItem.objects.filter(status__in=list(LIVE_WORK)), request)
                 .select_related("case", "queue", "agent").order_by("place_at", "id"))
    states = dict(PresenceState.choices)
    serves: dict[int, set[int]] = {}
    for user_id, client_id in User.clients.through.objects.filter(
            user__in=agents).values_list("user_id", "client_id"):
        serves.setdefault(user_id, set()).add(client_id)
    for item in items:
        item.candidates = [a for a in agents  # type: ignore[attr-defined]
                           if item.client_id in serves.get(a.pk, set())
                           and a.pk != item.agent_id]
    rows = []
    for agent in agents:
        p = presences.get(agent.pk)
        rows.append({
            "user": agent, "presence": p,
            "state": states.get(p.state if p else PresenceState.LOGGED_OUT, ""),
            "reason": p.reason.label(language) if p and p.reason else "",
            "loads": [(label, p.load(code), p.capacity(code))
                      for code, label in EngineChannel.choices] if p else [],
            "items": [i for i in items if i.agent_id == agent.pk],
        })
    reasons = ReasonCode.objects.filter(
        Q(client__isnull=True) | Q(client__in=request_client_ids(request)),
        is_active=True, system=False)
    seen: dict[str, str] = {}
    for r in reasons:
        seen.setdefault(r.code, r.label(language))
    return render(request, "routing/team.html", {
        "rows": rows, "items": items, "reasons": sorted(seen.items()),
        "language": language, "now": timezone.now(),
    })


@login_required
@require_POST
def team_state(request: HttpRequest, user_id: int) -> HttpResponse:
    by = _supervisor(request)
    agent = get_visible_or_404(visible_agents(request), pk=user_id)
    state, reason = split_state(request.POST.get("state", ""))
    if state is None:
        messages.error(request, _("Choose a state."))
        return redirect("routing:team")
    try:
        if state == PresenceState.NOT_READY and not reason:
            raise ValidationError(_("Choose a reason for not ready."))
        presence.set_state(agent, state, reason_code=reason, by=by,
                           source=PresenceEvent.Source.SUPERVISOR, request=request)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    except PermissionDenied:
        raise
    else:
        messages.success(request, _("State of %(name)s changed.") % {"name": agent.display_name})
    return redirect("routing:team")


@login_required
@require_POST
def work_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    by = _supervisor(request)
    item = get_visible_or_404(
        scoped(WorkItem.objects.filter(status__in=list(LIVE_WORK)).select_related("case"),
               request), pk=pk)
    target = request.POST.get("agent", "")
    if not target.isdigit():
        messages.error(request, _("Choose an agent."))
        return redirect("routing:team")
    to_user = get_visible_or_404(visible_agents(request).filter(clients=item.client_id),
                                 pk=int(target))
    try:
        work.reassign(item, to_user, by=by, request=request)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(case)s re-assigned to %(name)s.")
                         % {"case": item.case.reference, "name": to_user.display_name})
    return redirect("routing:team")
