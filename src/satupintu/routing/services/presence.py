"""Agent presence: one row per agent, every change an append-only event in UTC.

An agent sets their own state; a supervisor of one of the agent's clients may set it too
(audited). One presence per agent: the connection (tab, machine) that last set the state
holds it, heartbeats of any other connection are ignored, and a presence whose heartbeat
stops is logged out with the source ``connection_lost`` (its offers go back in line).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.accounts.models import User
from satupintu.accounts.permissions import client_ids, require_perm
from satupintu.accounts.roles import Perm
from satupintu.audit import services as audit
from satupintu.routing.models import (
    AgentPresence,
    PresenceEvent,
    PresenceState,
    ReasonCode,
    RoutingSettings,
)
from satupintu.routing.services import _core

SETTABLE = (PresenceState.READY, PresenceState.NOT_READY, PresenceState.LOGGED_OUT)
DEFAULT_HEARTBEAT_TIMEOUT = 90


def presence_of(user: User) -> AgentPresence:
    _core.ensure_presence(user.pk)
    return AgentPresence.objects.select_related("reason").get(pk=user.pk)


def reasons_for(user: User) -> list[ReasonCode]:
    """The reason codes an agent may choose: their clients' own and the shared ones; a
    client's code replaces a shared one with the same code."""
    ids = _core.user_client_ids(user.pk)
    rows = ReasonCode.objects.filter(Q(client__isnull=True) | Q(client_id__in=ids),
                                     is_active=True, system=False)
    out: dict[str, ReasonCode] = {}
    for r in sorted(rows, key=lambda r: (r.client_id is not None, r.order, r.code)):
        out[r.code] = r
    return sorted(out.values(), key=lambda r: (r.order, r.code))


def _reason(user: User, code: str, *, allow_system: bool) -> ReasonCode:
    ids = _core.user_client_ids(user.pk)
    rows = ReasonCode.objects.filter(Q(client__isnull=True) | Q(client_id__in=ids),
                                     code=code, is_active=True)
    if not allow_system:
        rows = rows.filter(system=False)
    found = sorted(rows, key=lambda r: r.client_id is None)
    if not found:
        raise ValidationError(_("Unknown reason: %(code)s") % {"code": code},
                              code="unknown_reason")
    return found[0]


def set_state(user: User, state: str, *, reason_code: str = "", by: User | None = None,
              source: str = "", connection: str = "",
              request: HttpRequest | None = None) -> AgentPresence:
    """Set an agent's presence. ``by`` another user: a supervisor of one of the agent's
    clients (others get 404), recorded with source ``supervisor`` and audited."""
    supervised = by is not None and by.pk != user.pk
    if supervised:
        assert by is not None
        require_perm(by, Perm.SUPERVISE)
        if not set(client_ids(user)) & set(client_ids(by)):
            raise Http404(_("Not found."))
        source = PresenceEvent.Source.SUPERVISOR
    else:
        require_perm(user, Perm.VIEW_OWN_WORK)
        source = source or PresenceEvent.Source.AGENT
    if state not in SETTABLE:
        raise ValidationError(_("Unknown state: %(state)s") % {"state": state},
                              code="unknown_state")
    reason = None
    if state == PresenceState.NOT_READY:
        if not reason_code:
            raise ValidationError(_("Choose a reason for not being ready."),
                                  code="reason_required")
        reason = _reason(user, reason_code, allow_system=source == PresenceEvent.Source.SYSTEM)
    connection = (connection or "")[:64]
    with transaction.atomic():
        p = _core.lock_presence(user.pk)
        assert p is not None
        now = timezone.now()
        data: dict[str, object] = {}
        if connection and connection != p.connection:
            if p.connection and p.state != PresenceState.LOGGED_OUT:
                data["took_over"] = p.connection
            p.connection = connection
        if not supervised:
            p.heartbeat_at = now
        if p.state == state and p.reason_id == (reason.pk if reason else None):
            p.save(update_fields=["connection", "heartbeat_at"])
            return p
        if data:
            data["connection"] = connection
        _core.change_state(p, state, reason=reason, source=source,
                           by=by if supervised else None, now=now, data=data)
        if supervised:
            assert by is not None
            audit.record("routing.presence_set", actor=by, obj=p.user, request=request,
                         data={"agent": user.username, "state": state, "reason": reason_code})
        return p


def heartbeat(user: User, connection: str) -> AgentPresence:
    """Keep the presence alive. A connection that another one has taken over is ignored
    (the page learns it from ``presence.connection``)."""
    connection = (connection or "")[:64]
    _core.ensure_presence(user.pk)
    now = timezone.now()
    AgentPresence.objects.filter(pk=user.pk).filter(
        Q(connection=connection) | Q(connection="") | Q(state=PresenceState.LOGGED_OUT)
    ).update(heartbeat_at=now, connection=connection)
    return presence_of(user)


def go_offline(user: User, *, source: str = PresenceEvent.Source.AGENT,
               connection: str = "") -> AgentPresence:
    """The session ends (log-out, tab closed). A connection that no longer holds the
    presence cannot end it: closing an old tab leaves the new one logged in."""
    with transaction.atomic():
        p = _core.lock_presence(user.pk)
        assert p is not None
        if connection and p.connection and connection != p.connection:
            return p
        if p.state != PresenceState.LOGGED_OUT:
            _core.change_state(p, PresenceState.LOGGED_OUT, reason=None, source=source,
                               now=timezone.now())
        return p


def _timeouts() -> dict[int, int]:
    return dict(RoutingSettings.objects.values_list("client_id", "heartbeat_timeout_seconds"))


def sweep_lost(now: datetime | None = None) -> int:
    """Agents whose heartbeat stopped: logged out (source connection_lost), offers back in
    line. The timeout is the shortest of the agent's clients' settings."""
    now = now or timezone.now()
    timeouts = _timeouts()
    shortest = min([DEFAULT_HEARTBEAT_TIMEOUT, *timeouts.values()])
    stale = list(AgentPresence.objects.exclude(state=PresenceState.LOGGED_OUT)
                 .filter(Q(heartbeat_at__lte=now - timedelta(seconds=shortest))
                         | Q(heartbeat_at__isnull=True))
                 .values_list("user_id", "heartbeat_at", "since"))
    count = 0
    for user_id, beat, since in stale:
        clients = _core.user_client_ids(user_id)
        limit = min([timeouts.get(c, DEFAULT_HEARTBEAT_TIMEOUT) for c in clients]
                    or [DEFAULT_HEARTBEAT_TIMEOUT])
        last = beat or since
        if last > now - timedelta(seconds=limit):
            continue
        with transaction.atomic():
            p = _core.lock_presence(user_id, skip_locked=True)
            if p is None or p.state == PresenceState.LOGGED_OUT:
                continue
            if (p.heartbeat_at or p.since) > now - timedelta(seconds=limit):
                continue
            _core.change_state(p, PresenceState.LOGGED_OUT, reason=None,
                               source=PresenceEvent.Source.CONNECTION_LOST, now=now,
                               data={"last_heartbeat": last.isoformat()})
            count += 1
    return count
