"""The roles of a contact center, and what each may do.

Permissions are checked in one place (``satupintu.accounts.permissions``); this module only
names them, so that the UI, the API and the CLI read the same table.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    TEAM_LEADER = "team_leader", _("Team leader")
    SUPERVISOR = "supervisor", _("Supervisor")
    QA_ANALYST = "qa_analyst", _("QA analyst")
    WFM_PLANNER = "wfm_planner", _("Workforce planner")
    MANAGER = "manager", _("Manager")
    CLIENT_VIEWER = "client_viewer", _("Client viewer")
    ADMIN = "admin", _("Administrator")


class Perm:
    """Capabilities; a role holds a set of them (``ROLE_PERMS``)."""

    VIEW_OWN_WORK = "view_own_work"
    VIEW_CLIENTS = "view_clients"
    VIEW_TEAMS = "view_teams"
    VIEW_TEAM_MEMBERS = "view_team_members"
    VIEW_ALL_PEOPLE = "view_all_people"
    VIEW_REPORTS = "view_reports"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    MANAGE_SESSIONS = "manage_sessions"
    MANAGE_ORGANISATION = "manage_organisation"
    PLAN_WORKFORCE = "plan_workforce"
    EVALUATE_QUALITY = "evaluate_quality"
    SUPERVISE = "supervise"
    USE_API = "use_api"
    VIEW_KNOWLEDGE = "view_knowledge"
    MANAGE_KNOWLEDGE = "manage_knowledge"
    APPROVE_KNOWLEDGE = "approve_knowledge"
    MANAGE_INBOX = "manage_inbox"            # quarantined/failed messages of one's clients
    VIEW_RAW_MESSAGES = "view_raw_messages"  # the raw bytes of an inbound message (audited)
    # A PBX/CTI bridge posting call events (the telephony app); a service account's token.
    INTEGRATE_TELEPHONY = "integrate_telephony"
    # Queues, routing rules, reason codes and routing settings of one's clients (issue 7).
    MANAGE_ROUTING = "manage_routing"


_BASE = {Perm.VIEW_OWN_WORK, Perm.VIEW_CLIENTS, Perm.USE_API, Perm.VIEW_KNOWLEDGE}
_LEAD = _BASE | {Perm.VIEW_TEAMS, Perm.VIEW_TEAM_MEMBERS, Perm.VIEW_REPORTS,
                 Perm.MANAGE_KNOWLEDGE}

ROLE_PERMS: dict[str, frozenset[str]] = {
    Role.AGENT: frozenset(_BASE | {Perm.VIEW_TEAMS}),
    Role.TEAM_LEADER: frozenset(_LEAD | {Perm.SUPERVISE}),
    Role.SUPERVISOR: frozenset(_LEAD | {Perm.SUPERVISE, Perm.VIEW_ALL_PEOPLE,
                                        Perm.APPROVE_KNOWLEDGE, Perm.INTEGRATE_TELEPHONY,
                                        Perm.MANAGE_INBOX, Perm.MANAGE_ROUTING}),
    Role.QA_ANALYST: frozenset(_LEAD | {Perm.EVALUATE_QUALITY}),
    Role.WFM_PLANNER: frozenset(_LEAD | {Perm.PLAN_WORKFORCE, Perm.VIEW_ALL_PEOPLE}),
    Role.MANAGER: frozenset(
        _LEAD | {Perm.SUPERVISE, Perm.VIEW_ALL_PEOPLE, Perm.VIEW_AUDIT, Perm.PLAN_WORKFORCE,
                 Perm.EVALUATE_QUALITY, Perm.APPROVE_KNOWLEDGE, Perm.MANAGE_ROUTING}
    ),
    Role.CLIENT_VIEWER: frozenset({Perm.VIEW_CLIENTS, Perm.VIEW_REPORTS, Perm.USE_API,
                                   Perm.VIEW_KNOWLEDGE}),
    Role.ADMIN: frozenset(
        _LEAD | {Perm.VIEW_ALL_PEOPLE, Perm.VIEW_AUDIT, Perm.MANAGE_USERS, Perm.MANAGE_SESSIONS,
                 Perm.MANAGE_ORGANISATION, Perm.SUPERVISE, Perm.APPROVE_KNOWLEDGE,
                 Perm.INTEGRATE_TELEPHONY, Perm.MANAGE_INBOX, Perm.VIEW_RAW_MESSAGES,
                 Perm.MANAGE_ROUTING}
    ),
}

# Supervisor and above must use a second factor (the rule); agents may.
MFA_REQUIRED_ROLES = frozenset(
    {Role.SUPERVISOR, Role.QA_ANALYST, Role.WFM_PLANNER, Role.MANAGER, Role.ADMIN}
)
# Roles that see every client without being assigned to each one.
ALL_CLIENT_ROLES = frozenset({Role.ADMIN})
