"""What each role's home page shows: reads only, one builder per role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest

from satupintu.accounts.models import AgentSkill, Skill, Team, User, UserSession
from satupintu.accounts.permissions import request_client_ids, visible_clients, visible_teams
from satupintu.accounts.roles import MFA_REQUIRED_ROLES, Role
from satupintu.audit.models import AuditEntry


def _my_skills(user: User) -> list[AgentSkill]:
    return list(user.skills.select_related("skill").order_by("skill__kind", "skill__name"))


def _team_members(team: Team | None) -> list[User]:
    if team is None:
        return []
    return list(team.members.filter(is_active=True).prefetch_related("skills__skill")
                .order_by("full_name"))


def _skill_coverage(request: HttpRequest, agents: Any) -> list[dict[str, Any]]:
    """Agents per skill by proficiency band: the planner's first question."""
    client_ids = request_client_ids(request)
    skills = Skill.objects.filter(Q(client__isnull=True) | Q(client__in=client_ids))
    rows = []
    for skill in skills.order_by("kind", "name"):
        counts = skill.agents.filter(user__in=agents).aggregate(
            expert=Count("id", filter=Q(proficiency__gte=4)),
            able=Count("id", filter=Q(proficiency__in=[2, 3])),
            learning=Count("id", filter=Q(proficiency=1)),
        )
        rows.append({"skill": skill, **counts})
    return rows


def _agents_in_scope(request: HttpRequest) -> Any:
    return (User.objects.filter(role=Role.AGENT, is_active=True,
                                clients__in=request_client_ids(request)).distinct())


def agent(request: HttpRequest) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    from satupintu.knowledge.queries import pending_acknowledgements

    return {"skills": _my_skills(user), "team": user.team,
            "clients": visible_clients(request), "teammates": _team_members(user.team),
            "pending_acks": pending_acknowledgements(user)}


def team_leader(request: HttpRequest) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    teams = list(user.led_teams.all()) or ([user.team] if user.team else [])
    return {"teams": [{"team": t, "members": _team_members(t)} for t in teams],
            "clients": visible_clients(request)}


def supervisor(request: HttpRequest) -> dict[str, Any]:
    teams = (visible_teams(request).select_related("site", "leader")
             .annotate(headcount=Count("members", filter=Q(members__is_active=True),
                                       distinct=True)))
    return {"teams": teams, "clients": visible_clients(request)}


def qa_analyst(request: HttpRequest) -> dict[str, Any]:
    agents = _agents_in_scope(request).select_related("team").order_by("team__name", "full_name")
    return {"agents": agents, "clients": visible_clients(request)}


def wfm_planner(request: HttpRequest) -> dict[str, Any]:
    agents = _agents_in_scope(request)
    return {"coverage": _skill_coverage(request, agents), "agent_count": agents.count(),
            "teams": supervisor(request)["teams"]}


def manager(request: HttpRequest) -> dict[str, Any]:
    people = User.objects.filter(is_active=True, clients__in=request_client_ids(request)).distinct()
    by_role = dict(people.values_list("role").annotate(n=Count("id", distinct=True)))
    return {
        "clients": visible_clients(request).annotate(
            headcount=Count("users", filter=Q(users__role=Role.AGENT), distinct=True)),
        "by_role": [(label, by_role.get(value, 0)) for value, label in Role.choices],
        "teams": supervisor(request)["teams"],
    }


def client_viewer(request: HttpRequest) -> dict[str, Any]:
    clients = list(visible_clients(request))
    return {"clients": clients, "teams": supervisor(request)["teams"],
            "agent_count": _agents_in_scope(request).count()}


def admin(request: HttpRequest) -> dict[str, Any]:
    required = User.objects.filter(is_active=True, role__in=MFA_REQUIRED_ROLES)
    return {
        "user_count": User.objects.filter(is_active=True).count(),
        "mfa_pending": required.exclude(totpdevice__confirmed=True).count(),
        "active_sessions": UserSession.objects.filter(ended_at__isnull=True).count(),
        "recent_audit": AuditEntry.objects.order_by("-id")[:15],
    }


BUILDERS: dict[str, Callable[[HttpRequest], dict[str, Any]]] = {
    Role.AGENT: agent,
    Role.TEAM_LEADER: team_leader,
    Role.SUPERVISOR: supervisor,
    Role.QA_ANALYST: qa_analyst,
    Role.WFM_PLANNER: wfm_planner,
    Role.MANAGER: manager,
    Role.CLIENT_VIEWER: client_viewer,
    Role.ADMIN: admin,
}
