"""Who may see which wallboard figures, and the figures as the page, the API and the WebSocket
frames carry them (one shape for all three, so the page's script applies any of them).

Supervisors, managers and administrators see every team of their clients with agent names;
a team leader sees the teams they lead (and their own); client viewers and other report
readers see the queue figures only, never an agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext, override

from satupintu.accounts.models import Client, Team
from satupintu.accounts.permissions import client_ids, has_perm
from satupintu.accounts.roles import Perm, Role
from satupintu.wallboard import kpis

STATE_LABELS = {
    "ready": _lazy("Ready"),
    "offered": _lazy("Offered"),
    "busy": _lazy("Busy"),
    "not_ready": _lazy("Not ready"),
    "acw": _lazy("After-contact work"),
    "logged_out": _lazy("Logged out"),
}
QUEUE_KPIS = ("waiting", "longest_wait", "offered", "answered", "abandoned", "sl", "asa", "aht")


@dataclass(frozen=True)
class Viewer:
    client_ids: frozenset[int]
    see_agents: bool
    team_ids: frozenset[int] | None  # None: every team of the client
    language: str


def viewer_for(user: Any, scope: set[int] | None = None) -> Viewer | None:
    """``None`` when the user's role has no wallboard; ``scope`` narrows the clients (the
    request's, e.g. an API token's)."""
    supervise = has_perm(user, Perm.SUPERVISE)
    if not (supervise or has_perm(user, Perm.VIEW_REPORTS)):
        return None
    ids = client_ids(user) if scope is None else scope
    team_ids: frozenset[int] | None = None
    if supervise and user.role == Role.TEAM_LEADER:
        team_ids = frozenset(Team.objects.filter(Q(leader=user) | Q(members=user))
                             .values_list("id", flat=True))
    return Viewer(client_ids=frozenset(ids), see_agents=supervise, team_ids=team_ids,
                  language=getattr(user, "language", "") or "id")


def visible_clients(viewer: Viewer) -> list[Client]:
    return list(Client.objects.filter(id__in=viewer.client_ids, is_active=True)
                .order_by("name", "id"))


# --- formatting ------------------------------------------------------------------------------

def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = max(0, round(seconds))
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _cell(value: float | None, text: str, level: str = "",
          tick_from: float | None = None) -> dict[str, Any]:
    """``tick_from`` (epoch ms): the page counts the cell up from there between frames."""
    cell: dict[str, Any] = {"value": value, "text": text, "level": level}
    if tick_from is not None:
        cell["tick_from"] = int(tick_from)
    return cell


def queue_cells(q: kpis.QueueFigures, fig: kpis.DayFigures, *, live: bool) -> dict[str, Any]:
    limits = fig.settings.limits  # the client's colours (kpis.Limits)
    since = None
    if live and q.longest_wait is not None:
        since = (fig.as_of.timestamp() - q.longest_wait) * 1000
    return {
        "waiting": _cell(q.waiting, str(q.waiting), limits.waiting.level(q.waiting)),
        "longest_wait": _cell(q.longest_wait, duration(q.longest_wait),
                              limits.longest_wait.level(q.longest_wait), since),
        "offered": _cell(q.offered, str(q.offered)),
        "answered": _cell(q.answered, str(q.answered)),
        "abandoned": _cell(q.abandoned, str(q.abandoned)),
        "overflowed": _cell(q.overflowed, str(q.overflowed)),
        "sl": _cell(q.sl, percent(q.sl), limits.sl.level(q.sl)),
        "asa": _cell(q.asa, duration(q.asa), limits.asa.level(q.asa)),
        "aht": _cell(q.aht, duration(q.aht)),
        "abandon_rate": _cell(q.abandon_rate, percent(q.abandon_rate)),
    }


def payload(fig: kpis.DayFigures, viewer: Viewer) -> dict[str, Any]:
    """The figures one viewer may see, as JSON-ready data with display texts in their
    language."""
    live = not fig.complete
    with override(viewer.language):
        data: dict[str, Any] = {
            "type": "figures",
            "client": fig.client_code,
            "client_name": fig.client_name,
            "day": fig.day.isoformat(),
            "as_of": fig.as_of.isoformat(),
            "as_of_text": fig.as_of.astimezone(fig.tz).strftime("%H:%M:%S"),
            "sl_threshold": fig.settings.threshold_s,
            "sl_target": fig.settings.target,
            "sl_formula": str(fig.settings.formula),
            "queues": [{"code": q.code, "name": q.label(viewer.language),
                        "cells": queue_cells(q, fig, live=live)} for q in fig.queues],
            "teams": [],
        }
        if not viewer.see_agents:
            return data
        for team in fig.teams:
            if viewer.team_ids is not None and team.id not in viewer.team_ids:
                continue
            data["teams"].append({
                "id": team.id, "name": team.name,
                "counts": [{"state": k, "label": str(STATE_LABELS[k]), "count": v}
                           for k, v in team.counts.items()],
                "occupancy": _cell(team.occupancy, percent(team.occupancy)),
                "agents": [_agent(a, viewer.language, live) for a in team.agents],
            })
    return data


def _agent(a: kpis.AgentFigures, language: str, live: bool) -> dict[str, Any]:
    reason = a.reason_en if language == "en" else a.reason_id
    if a.state == "busy":
        reason = ngettext("%(count)s contact", "%(count)s contacts",
                          a.contacts) % {"count": a.contacts}
    return {
        "username": a.username, "name": a.name, "state": a.state,
        "fields": {
            "state": _cell(None, str(STATE_LABELS.get(a.state, a.state)), a.level),
            "reason": _cell(None, reason if a.presence == "not_ready" or a.state == "busy"
                            else ""),
            "time": _cell(a.time_in_state, duration(a.time_in_state), a.level,
                          a.since.timestamp() * 1000 if live and a.since is not None
                          else None),
        },
    }


KPI_LABELS = {
    "waiting": _lazy("Waiting"),
    "longest_wait": _lazy("Longest wait"),
    "offered": _lazy("Offered"),
    "answered": _lazy("Answered"),
    "abandoned": _lazy("Abandoned"),
    "overflowed": _lazy("Overflowed out"),
    "abandon_rate": _lazy("Abandon rate"),
    "sl": _lazy("Service level"),
    "asa": _lazy("ASA"),
    "aht": _lazy("AHT"),
}
REPORT_KPIS = ("offered", "answered", "abandoned", "overflowed", "abandon_rate", "sl", "asa",
               "aht")


def report_payload(fig: kpis.DayFigures, viewer: Viewer) -> dict[str, Any]:
    """The day's payload plus its 30-minute intervals (those with any traffic)."""
    data = payload(fig, viewer)
    data["intervals"] = []
    with override(viewer.language):
        for slot in fig.intervals:
            busy = [q for q in slot.queues
                    if q.offered or q.answered or q.abandoned or q.overflowed or q.aht]
            if not busy:
                continue
            data["intervals"].append({
                "start": slot.start.astimezone(fig.tz).strftime("%H:%M"),
                "queues": [{"code": q.code, "name": q.label(viewer.language),
                            "cells": queue_cells(q, fig, live=False)} for q in busy]})
    return data
