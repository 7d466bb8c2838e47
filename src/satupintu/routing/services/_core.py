"""Low-level steps shared by presence, work and assignment (no permission checks here).

Lock order, everywhere: an agent's presence row first, then work item rows. The routing
pass is the one exception and never waits: it takes both with ``SKIP LOCKED``, so no cycle
of waits (deadlock) can form.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from satupintu.routing.models import (
    AgentPresence,
    PresenceEvent,
    PresenceState,
    ReasonCode,
    RoutingEvent,
    RoutingSettings,
    WorkItem,
    WorkStatus,
)
from satupintu.routing.services import live

log = logging.getLogger(__name__)


def ensure_presence(user_id: int) -> None:
    if AgentPresence.objects.filter(pk=user_id).exists():
        return
    try:
        with transaction.atomic():
            AgentPresence.objects.create(user_id=user_id, since=timezone.now())
    except IntegrityError:  # created by another process meanwhile
        pass


def lock_presence(user_id: int, *, skip_locked: bool = False) -> AgentPresence | None:
    """The agent's presence row, locked until the transaction ends (created if missing)."""
    ensure_presence(user_id)
    qs = AgentPresence.objects.select_for_update(skip_locked=skip_locked).filter(pk=user_id)
    return qs.first()


def lock_item(item_id: int, *, skip_locked: bool = False) -> WorkItem | None:
    return (WorkItem.objects.select_for_update(skip_locked=skip_locked, of=("self",))
            .filter(pk=item_id).first())


def settings_for(client_id: int | None) -> RoutingSettings:
    row = RoutingSettings.objects.filter(client_id=client_id).first() if client_id else None
    return row or RoutingSettings(client_id=client_id)


def user_client_ids(user_id: int) -> list[int]:
    from satupintu.accounts.models import User

    return list(User.clients.through.objects.filter(user_id=user_id)
                .values_list("client_id", flat=True))


def system_reason(code: str) -> ReasonCode:
    reason = ReasonCode.objects.filter(client__isnull=True, code=code).first()
    if reason is None:  # the data migration seeds these; keep working without it
        reason, _ = ReasonCode.objects.get_or_create(
            client=None, code=code,
            defaults={"name_id": code, "name_en": code, "system": True, "paid": True})
    return reason


def item_event(item: WorkItem, kind: str, *, now: datetime, agent_id: int | None = None,
               by: Any = None, data: dict[str, Any] | None = None) -> RoutingEvent:
    return RoutingEvent.objects.create(
        item=item, queue_id=item.queue_id, kind=kind, agent_id=agent_id, by=by, at=now,
        data=data or {})


def release_load(p: AgentPresence, channel: str) -> None:
    field = f"load_{channel}"
    setattr(p, field, max(0, getattr(p, field) - 1))


def withdraw_offers(p: AgentPresence, *, now: datetime, why: str,
                    by: Any = None) -> list[int]:
    """Put the agent's open offers back in line (presence row already locked). No missed
    offer is counted: the agent left, the contacts keep their place."""
    items = list(WorkItem.objects.select_for_update(of=("self",))
                 .filter(agent_id=p.user_id, status=WorkStatus.OFFERED))
    for item in items:
        release_load(p, item.channel)
        _back_to_waiting(item)
        item.save(update_fields=["status", "agent", "offered_at", "offer_expires_at",
                                 "version"])
        item_event(item, RoutingEvent.Kind.WITHDRAWN, now=now, agent_id=p.user_id, by=by,
                   data={"why": why})
        live.withdrawn(item.pk, p.user_id)
    if items:
        live.routing({i.client_id for i in items})
    return [i.pk for i in items]


def _back_to_waiting(item: WorkItem) -> None:
    item.status = WorkStatus.WAITING
    item.agent_id = None
    item.offered_at = None
    item.offer_expires_at = None
    item.version += 1


def finish_wrap_up(p: AgentPresence, *, now: datetime, by: Any = None,
                   why: str = "") -> int:
    """Every contact the agent is wrapping up is done."""
    items = list(WorkItem.objects.select_for_update(of=("self",))
                 .filter(agent_id=p.user_id, status=WorkStatus.WRAP_UP))
    for item in items:
        item.status = WorkStatus.DONE
        item.ended_at = now
        item.version += 1
        item.save(update_fields=["status", "ended_at", "version"])
        item_event(item, RoutingEvent.Kind.DONE, now=now, agent_id=p.user_id, by=by,
                   data={"why": why} if why else {})
    return len(items)


def change_state(p: AgentPresence, state: str, *, reason: ReasonCode | None, source: str,
                 by: Any = None, now: datetime | None = None,
                 data: dict[str, Any] | None = None) -> AgentPresence:
    """Move a locked presence row to ``state``: offers are withdrawn when leaving ready,
    after-contact work ends when leaving it, and the change is appended to the event log."""
    now = now or timezone.now()
    old = p.state
    if state != PresenceState.READY and old == PresenceState.READY:
        withdraw_offers(p, now=now, why=state, by=by)
    if old == PresenceState.ACW and state != PresenceState.ACW:
        finish_wrap_up(p, now=now, by=by, why=state)
    if state == PresenceState.READY:
        p.missed_offers = 0
    p.state = state
    p.reason = reason if state == PresenceState.NOT_READY else None
    p.since = now
    p.version += 1
    p.save()
    PresenceEvent.objects.create(
        user_id=p.user_id, state=state, reason_code=reason.code if reason and
        state == PresenceState.NOT_READY else "", source=source, by=by, at=now,
        data={"from": old, **(data or {})})
    live.presence(p, user_client_ids(p.user_id))
    if state == PresenceState.READY:
        route_after_commit(user_client_ids(p.user_id))
    return p


def route_after_commit(client_ids: Any) -> None:
    """Run a routing pass for these clients once the current transaction commits, so that
    routing is prompt without the worker. A failure is logged; the worker retries."""
    from django.conf import settings

    if not getattr(settings, "ROUTING_INLINE", True):
        return
    ids = sorted({int(c) for c in client_ids if c})
    if not ids:
        return

    def run() -> None:
        from satupintu.routing.services.assign import route

        for cid in ids:
            try:
                # the head of the line only: prompt for what just changed; the worker's
                # passes look further down a long line
                route(client=cid, max_items=200)
            except Exception:  # the worker's next pass does it instead
                log.warning("inline routing pass failed for client %s", cid, exc_info=True)

    transaction.on_commit(run)
