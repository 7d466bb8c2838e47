"""Navigation by role: each role sees the menu for its work, nothing it cannot open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.roles import Perm

_MENU = [
    ("web:home", _("Home"), None),
    ("cases:mine", _("My cases"), Perm.VIEW_OWN_WORK),
    ("cases:queue", _("Team queue"), Perm.VIEW_OWN_WORK),
    ("webchat:chats", _("Chats"), Perm.VIEW_OWN_WORK),
    ("customers:list", _("Customers"), Perm.VIEW_OWN_WORK),
    ("telephony:list", _("Calls"), Perm.VIEW_OWN_WORK),
    ("knowledge:list", _("Knowledge base"), Perm.VIEW_KNOWLEDGE),
    ("knowledge:team_report", _("Acknowledgements"), Perm.VIEW_TEAM_MEMBERS),
    ("knowledge:deviations", _("Deviations"), Perm.VIEW_OWN_WORK),
    ("routing:team", _("Team routing"), Perm.SUPERVISE),
    ("routing:setup", _("Routing set-up"), Perm.MANAGE_ROUTING),
    ("wallboard:board", _("Wallboard"), Perm.VIEW_REPORTS),
    ("wallboard:thresholds", _("Wallboard colours"), Perm.MANAGE_ROUTING),
    ("web:clients", _("Clients"), Perm.VIEW_CLIENTS),
    ("web:teams", _("Teams"), Perm.VIEW_TEAMS),
    ("web:audit", _("Audit trail"), Perm.VIEW_AUDIT),
    ("inbox:overview", _("Inbox operations"), Perm.MANAGE_INBOX),
    ("whatsapp:accounts", _("WhatsApp"), Perm.MANAGE_ORGANISATION),
    ("mail:setup", _("E-mail set-up"), Perm.MANAGE_ORGANISATION),
    ("webchat:setup", _("Chat widget"), Perm.MANAGE_ORGANISATION),
    ("accounts:all_sessions", _("Sessions"), Perm.MANAGE_SESSIONS),
    ("accounts:tokens", _("API tokens"), Perm.USE_API),
    ("accounts:security", _("Security"), None),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    perms = user.permissions
    items = [
        {"url": reverse(name), "label": label, "active": request.path == reverse(name)}
        for name, label, perm in _MENU
        if perm is None or perm in perms
    ]
    return {"nav": items, "role_label": user.get_role_display()}
