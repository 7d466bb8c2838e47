"""What the presence bar shows: read-only, cheap (three small queries a page), and only for
people who take routed work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from satupintu.accounts.permissions import has_perm
from satupintu.accounts.roles import Perm, Role
from satupintu.cases.models import Channel
from satupintu.routing.models import (
    AgentPresence,
    EngineChannel,
    PresenceState,
    Queue,
    RoutingSettings,
    WorkItem,
    WorkStatus,
)

AGENT_ROLES = (Role.AGENT, Role.TEAM_LEADER)
DEFAULT_ACW = RoutingSettings._meta.get_field("acw_max_seconds").default


def takes_routed_work(user: Any) -> bool:
    """Agents and team leaders, and anyone else who already has a presence row."""
    if not has_perm(user, Perm.VIEW_OWN_WORK):
        return False
    if user.role in AGENT_ROLES:
        return True
    return AgentPresence.objects.filter(user=user).exists()


def split_state(value: str) -> tuple[str | None, str]:
    """``ready`` / ``logged_out`` / ``not_ready:<reason code>`` → (state, reason code)."""
    state, _sep, reason = (value or "").partition(":")
    if state in (PresenceState.READY, PresenceState.LOGGED_OUT) and not reason:
        return state, ""
    if state == PresenceState.NOT_READY:
        return state, reason
    return None, ""


def reason_choices(user: Any, language: str | None = None) -> list[tuple[str, str]]:
    """(code, label) of the reason codes the agent may choose (``presence.reasons_for``)."""
    from satupintu.routing.services import presence

    language = language or get_language() or "id"
    return [(r.code, r.label(language)) for r in presence.reasons_for(user)]


def page_path(request: HttpRequest) -> str:
    """The page the bar is on: the request's own, or for an htmx swap the page that asked
    (its forms send the agent back there, not to the fragment's URL)."""
    if request.headers.get("HX-Request") != "true":
        return request.get_full_path()
    current = request.headers.get("HX-Current-URL", "")
    parts = urlsplit(current)
    if parts.path.startswith("/") and url_has_allowed_host_and_scheme(
            current, allowed_hosts={request.get_host()}):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return reverse("web:home")


def bar_context(request: HttpRequest, *, connection: str = "") -> dict[str, Any] | None:
    user = request.user
    if not getattr(user, "is_authenticated", False) or not takes_routed_work(user):
        return None
    language = get_language() or "id"
    now = timezone.now()
    p = AgentPresence.objects.filter(user=user).select_related("reason").first()
    state = p.state if p else PresenceState.LOGGED_OUT
    items = list(WorkItem.objects.filter(
        agent=user, status__in=[WorkStatus.OFFERED, WorkStatus.ASSIGNED, WorkStatus.WRAP_UP])
        .select_related("case", "queue").order_by("offered_at", "id"))
    acw_limits = dict(RoutingSettings.objects.filter(
        client_id__in={i.client_id for i in items}).values_list("client_id", "acw_max_seconds"))
    page = page_path(request)
    current_case = ""
    try:
        match = resolve(urlsplit(page).path)
    except Resolver404:
        match = None
    if match is not None and match.view_name == "cases:detail":
        current_case = str(match.kwargs.get("reference", ""))
    offers, handling, wrapping = [], [], []
    for item in items:
        entry = {"item": item, "case": item.case, "queue": item.queue.label(language),
                 "channel": EngineChannel(item.channel).label if item.channel in
                 EngineChannel.values else item.channel,
                 "here": item.case.reference == current_case}
        if item.status == WorkStatus.OFFERED:
            offers.append(entry)
        elif item.status == WorkStatus.ASSIGNED:
            handling.append(entry)
        else:
            start = item.wrap_up_at or now
            limit = acw_limits.get(item.client_id, DEFAULT_ACW)
            entry["acw_deadline"] = start + timedelta(seconds=limit)
            wrapping.append(entry)
    label = dict(PresenceState.choices)[state]
    if state == PresenceState.NOT_READY and p and p.reason:
        label = f"{label} — {p.reason.label(language)}"
    elif state == PresenceState.READY and offers:
        label = _("Offered")
    elif state == PresenceState.READY and handling:
        label = _("Busy on %(n)s contacts") % {"n": len(handling)} if len(handling) > 1 \
            else _("Busy on 1 contact")
    selected = state
    if state == PresenceState.NOT_READY and p and p.reason:
        selected = f"{state}:{p.reason.code}"
    reasons = reason_choices(user, language)
    known = {PresenceState.READY.value, PresenceState.LOGGED_OUT.value,
             *(f"{PresenceState.NOT_READY.value}:{code}" for code, _label in reasons)}
    loads = []
    if p is not None:
        for code, name in EngineChannel.choices:
            loads.append({"code": code, "label": name, "load": p.load(code),
                          "cap": p.capacity(code)})
    return {
        "presence": p, "state": state, "state_label": label, "selected": selected,
        "since": p.since if p else now, "reasons": reasons,
        "selected_known": selected in known,
        "loads": loads, "offers": offers, "handling": handling, "wrapping": wrapping,
        "connection": connection, "request": request, "now": now, "page_path": page,
        "channel_labels": {k: str(v) for k, v in [*Channel.choices, *EngineChannel.choices]},
        # Offer notices carry the queue's code; the pop-up shows its name.
        "queue_labels": {q.code: q.label(language) for q in
                         Queue.objects.filter(client__in=user.clients.all()).only(
                             "code", "name_id", "name_en")},
        "heartbeat_ms": int(float(getattr(settings, "ROUTING_HEARTBEAT_SECONDS", 20)) * 1000),
        "moved": bool(connection and p and p.connection and p.connection != connection),
    }
