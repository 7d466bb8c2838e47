"""Pages of the web shell: home by role, clients, teams and the audit trail."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from satupintu.accounts.models import Team, User
from satupintu.accounts.permissions import (
    get_visible_or_404,
    request_client_ids,
    require_perm,
    scoped,
    visible_clients,
    visible_teams,
)
from satupintu.accounts.roles import Perm, Role
from satupintu.audit.models import AuditEntry
from satupintu.web.home import BUILDERS


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = request.user.role  # type: ignore[union-attr]
    context = BUILDERS[role](request)
    return render(request, f"web/home/{role}.html", context)


@login_required
def clients(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    rows = visible_clients(request).annotate(
        team_count=Count("teams", distinct=True),
        agent_count=Count("users", filter=Q(users__role=Role.AGENT), distinct=True),
    )
    return render(request, "web/clients.html", {"clients": rows})


@login_required
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    client = get_visible_or_404(visible_clients(request), pk=pk)
    teams = client.teams.select_related("site", "leader").annotate(
        headcount=Count("members", filter=Q(members__is_active=True), distinct=True))
    return render(request, "web/client_detail.html", {"client": client, "teams": teams})


@login_required
def teams(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_TEAMS)
    rows = visible_teams(request).select_related("site", "leader").annotate(
        headcount=Count("members", filter=Q(members__is_active=True), distinct=True))
    return render(request, "web/teams.html", {"teams": rows})


@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_TEAMS)
    team: Team = get_visible_or_404(visible_teams(request).select_related("site", "leader"),
                                    pk=pk)
    members: list[User] = []
    if request.user.permissions & {Perm.VIEW_TEAM_MEMBERS}:  # type: ignore[union-attr]
        members = list(team.members.filter(is_active=True).prefetch_related("skills__skill")
                       .order_by("full_name"))
    clients = team.clients.filter(id__in=request_client_ids(request))
    return render(request, "web/team_detail.html",
                  {"team": team, "members": members, "clients": clients})


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_AUDIT)
    rows = AuditEntry.objects.order_by("-id")
    if request.user.role != Role.ADMIN:  # type: ignore[union-attr]
        rows = scoped(rows, request)
    action = request.GET.get("action", "").strip()
    if action:
        rows = rows.filter(action__startswith=action)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "web/audit.html", {"page": page, "action": action})


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
