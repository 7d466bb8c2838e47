"""Overflow: a contact still waiting after its queue's ``overflow.after`` seconds moves to the
``overflow.to`` queue, as the rule version it entered with says.

It keeps its place in line (``place_at``: a callback or a long waiter is not sent to the back)
and its rule version; the wait in the new queue counts from the move (``queue_since``), so a
chain A → B → C follows each queue's own rule. Only waiting contacts move: one being offered
stays until the offer is answered or missed. Each move is a ``RoutingEvent`` of kind
``overflowed`` in the destination queue (the source is in its data): the wallboard and the
report count the contact as offered where it entered and as answered or abandoned where it
ended, so no contact is counted twice.

Atomic across processes: the rows are locked with ``SKIP LOCKED`` on PostgreSQL (a routing
pass holding one moves it first or not at all) and moved only if still waiting; on SQLite
the single writer does the same.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from satupintu.engine.router import Overflow, RouterError
from satupintu.routing.models import (
    ENGINE_CHANNEL,
    Queue,
    RoutingEvent,
    WorkItem,
    WorkStatus,
)
from satupintu.routing.services import _core, live
from satupintu.routing.services.rules import compile_rules_id

log = logging.getLogger(__name__)


def _rule_of(rules_id: int, queue_code: str) -> Overflow | None:
    try:
        return compile_rules_id(rules_id).plan(queue_code).overflow
    except RouterError:
        return None


def overflow_due(now: datetime | None = None, *, limit: int = 500) -> int:
    """Move every waiting contact whose queue's overflow time has passed; returns how many
    moved. Cheap when no rule version in use has an overflow: one read of the waiting
    contacts' (rule version, queue) pairs."""
    now = now or timezone.now()
    pairs = list(WorkItem.objects.filter(status=WorkStatus.WAITING)
                 .values_list("rules_id", "queue_id").distinct())
    if not pairs:
        return 0
    queues = {q.pk: q for q in Queue.objects.filter(pk__in={qid for _r, qid in pairs})}
    moved = 0
    clients: set[int] = set()
    for rules_id, queue_id in sorted(pairs):
        source = queues.get(queue_id)
        if source is None:
            continue
        rule = _rule_of(rules_id, source.code)
        if rule is None:
            continue
        dest = Queue.objects.filter(client_id=source.client_id, code=rule.to,
                                    is_active=True).first()
        if dest is None or ENGINE_CHANNEL[dest.channel] != ENGINE_CHANNEL[source.channel]:
            # saved rules are checked against the queues; a queue deactivated since (or
            # changed channel) keeps its contacts here rather than losing them
            log.warning("overflow of queue %s to %r skipped: no such active queue of the "
                        "same channel", source.pk, rule.to)
            continue
        n = _move(source, dest, rules_id, rule, now, limit - moved)
        if n:
            moved += n
            clients.add(source.client_id)
        if moved >= limit:
            break
    if clients:
        live.routing(sorted(clients))
        _core.route_after_commit(sorted(clients))
    return moved


@transaction.atomic
def _move(source: Queue, dest: Queue, rules_id: int, rule: Overflow, now: datetime,
          limit: int) -> int:
    cutoff = now - timedelta(seconds=rule.after)
    items = list(
        WorkItem.objects.select_for_update(skip_locked=True, of=("self",))
        .annotate(in_queue_since=Coalesce("queue_since", "enqueued_at"))
        .filter(Q(status=WorkStatus.WAITING), queue_id=source.pk, rules_id=rules_id,
                in_queue_since__lte=cutoff)
        .order_by("place_at", "id")[:limit])
    if not items:
        return 0
    events = []
    for item in items:
        item.queue_id = dest.pk
        item.queue_since = now
        item.version += 1
        events.append(RoutingEvent(
            item=item, queue_id=dest.pk, kind=RoutingEvent.Kind.OVERFLOWED, at=now,
            data={"from": source.code, "from_queue": source.pk, "to": dest.code,
                  "after": rule.after}))
    WorkItem.objects.bulk_update(items, ["queue", "queue_since", "version"])
    RoutingEvent.objects.bulk_create(events)
    return len(items)

