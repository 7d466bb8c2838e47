"""Routable work: entry (classification and queue choice), offers accepted, declined,
missed and expired, contacts completed and wrapped up, supervisors' re-assignments.

Every step locks the agent's presence row first and the item second (see ``_core``), writes
the item, the agent's load and a ``RoutingEvent`` in one transaction, and starts a routing
pass for the client after commit so that freed capacity is used at once.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.accounts.models import User
from satupintu.accounts.permissions import client_ids, require_perm
from satupintu.accounts.roles import Perm
from satupintu.audit import services as audit
from satupintu.cases.models import Case, CaseEvent, Channel, Priority
from satupintu.routing.models import (
    ENGINE_CHANNEL,
    LIVE_WORK,
    AgentPresence,
    PresenceEvent,
    PresenceState,
    Queue,
    RoutingEvent,
    RuleVersion,
    WorkItem,
    WorkStatus,
)
from satupintu.routing.services import _core, live
from satupintu.routing.services.rules import compile_rules_id, current_rules

log = logging.getLogger(__name__)

PRIORITY = {Priority.LOW: -1, Priority.NORMAL: 0, Priority.HIGH: 1, Priority.URGENT: 2}
QUEUE_NAMES = {
    Channel.EMAIL: ("Email", "E-mail"),
    Channel.PHONE: ("Telepon", "Phone"),
    Channel.WHATSAPP: ("WhatsApp", "WhatsApp"),
    Channel.CHAT: ("Chat", "Chat"),
    Channel.WEB: ("Formulir web", "Web form"),
}


# --- entry -------------------------------------------------------------------------------


def choose_queue(case: Case, channel: str, language: str) -> Queue:
    """The client's active queue for the channel: same language first, then the default
    one, then by order. A client without one gets a default queue named after the channel."""
    queues = list(Queue.objects.filter(client_id=case.client_id, channel=channel,
                                       is_active=True, language__in=["", language]))
    if queues:
        queues.sort(key=lambda q: (q.language != language, not q.is_default, q.order, q.code))
        return queues[0]
    queue = Queue.objects.filter(client_id=case.client_id, code=channel).first()
    if queue is not None:
        return queue
    name_id, name_en = QUEUE_NAMES.get(channel, (channel, channel))
    with transaction.atomic():
        queue, _created = Queue.objects.get_or_create(
            client_id=case.client_id, code=channel,
            defaults={"name_id": name_id, "name_en": name_en, "channel": channel,
                      "is_default": True})
    return queue


_FACTS_SQL = """
SELECT EXISTS (SELECT 1 FROM {item} w WHERE w.case_id = c.id AND w.status IN ({live})),
       COALESCE(cu.language, ''),
       EXISTS (SELECT 1 FROM {case_tags} ct JOIN {tag} t ON t.id = ct.tag_id
               WHERE ct.case_id = c.id AND UPPER(t.name) = 'VIP'),
       (SELECT q.id FROM {queue} q
         WHERE q.client_id = c.client_id AND q.channel = %s AND q.is_active
           AND q.language IN ('', COALESCE(cu.language, ''))
         ORDER BY CASE WHEN q.language = '' THEN 1 ELSE 0 END,
                  CASE WHEN q.is_default THEN 0 ELSE 1 END, q."order", q.code
         LIMIT 1),
       (SELECT r.id FROM {rules} r WHERE r.client_id = c.client_id AND r.is_current),
       (SELECT r.number FROM {rules} r WHERE r.client_id = c.client_id AND r.is_current)
FROM {case} c LEFT JOIN {customer} cu ON cu.id = c.customer_id
WHERE c.id = %s"""

_QUEUE_SQL = """
SELECT q.code, q.min_proficiency, s.code
FROM {queue} q LEFT JOIN {queue_skills} qs ON qs.queue_id = q.id
     LEFT JOIN {skill} s ON s.id = qs.skill_id
WHERE q.id = %s"""


class _Facts(NamedTuple):
    live: bool
    language: str
    vip_tag: bool
    queue_id: int | None  # the queue choose_queue() would pick, if the client has one
    rules_id: int | None  # the client's current rule version, if it has one
    rules_number: int | None


@functools.cache
def _sql() -> tuple[str, str]:
    from satupintu.accounts.models import Skill
    from satupintu.cases.models import Tag
    from satupintu.customers.models import Customer

    qn = connection.ops.quote_name
    facts = _FACTS_SQL.format(
        item=qn(WorkItem._meta.db_table), live=", ".join(["%s"] * len(LIVE_WORK)),
        customer=qn(Customer._meta.db_table), case_tags=qn(Case.tags.through._meta.db_table),
        tag=qn(Tag._meta.db_table), case=qn(Case._meta.db_table),
        queue=qn(Queue._meta.db_table), rules=qn(RuleVersion._meta.db_table))
    queue = _QUEUE_SQL.format(
        queue=qn(Queue._meta.db_table), queue_skills=qn(Queue.skills.through._meta.db_table),
        skill=qn(Skill._meta.db_table))
    return facts, queue


def _facts(case: Case, channel: str) -> _Facts | None:
    """Everything the entry needs to know before it writes, in one statement, on every
    arrival: live work on the case, the customer's language (the language alone, so no
    personal data is loaded and decrypted for it), a "vip" tag, the queue and the current
    rule version. The queue is choose_queue()'s: among queues of the customer's language or
    none, the language's first (a queue that passes the filter with a language has the
    customer's; SQLite does not let ORDER BY read the outer row). Hand-written because
    building these reads with the ORM cost more than running them (they were four ORM
    queries, two thirds of an enqueue's CPU)."""
    with connection.cursor() as cursor:
        cursor.execute(_sql()[0], [*[str(s) for s in LIVE_WORK], channel, case.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    return _Facts(bool(row[0]), row[1] or "", bool(row[2]), row[3], row[4], row[5])


def _queue_plan(queue_id: int) -> tuple[str, dict[str, int]]:
    """A queue's code and required skills ({code: minimum proficiency}), one statement."""
    with connection.cursor() as cursor:
        cursor.execute(_sql()[1], [queue_id])
        rows = cursor.fetchall()
    return rows[0][0], {skill: rows[0][1] for _code, _min, skill in rows if skill}


def classify(case: Case, channel: str, *, language: str = "", vip_tag: bool = False
             ) -> dict[str, Any]:
    """What routing needs to know of a contact: client, channel, reason, language, VIP."""
    return {
        "channel": ENGINE_CHANNEL.get(channel, "email"),
        "language": language,
        "vip": case.priority == Priority.URGENT or vip_tag,
        "priority": PRIORITY.get(case.priority, 0),
        "reason_code": str(case.reason_id or ""),
    }


def enqueue_case(case: Case, *, channel: str, event: CaseEvent | None = None,
                 now: datetime | None = None) -> WorkItem | None:
    """A contact enters its queue; no-op while the case has live work. A customer writing
    on a case someone is working re-enters with that agent as the preferred agent."""
    if channel not in ENGINE_CHANNEL:
        channel = case.channel
    facts = _facts(case, channel)
    if facts is None or facts.live:
        return None
    now = now or timezone.now()
    info = classify(case, channel, language=facts.language, vip_tag=facts.vip_tag)
    if facts.queue_id is not None:
        queue_id = facts.queue_id
        queue_code, skills = _queue_plan(queue_id)
    else:  # the client's first contact on this channel: its default queue is made now
        queue = choose_queue(case, channel, info["language"])
        queue_id, queue_code = queue.pk, queue.code
        skills = {s.code: queue.min_proficiency for s in queue.skills.all()}
    if facts.rules_id is not None and facts.rules_number is not None:
        rules_id, rules_number = facts.rules_id, facts.rules_number
    else:  # no rules yet: the default plan becomes version 1
        version = current_rules(case.client_id)
        rules_id, rules_number = version.pk, version.number
    preferred = None
    if case.assignee_id and case.status not in ("resolved", "closed"):
        preferred = case.assignee_id
    place = now
    if event is not None and isinstance(event.data, dict) and event.data.get("callback_place_at"):
        try:
            place = datetime.fromisoformat(str(event.data["callback_place_at"]))
        except ValueError:
            place = now
    # No savepoint of its own: a failure here fails the caller's block (the customer_wrote
    # receiver wraps this in one, so a routing fault never loses the message).
    with transaction.atomic(savepoint=False):
        item = WorkItem.objects.create(
            case=case, queue_id=queue_id, client_id=case.client_id, channel=info["channel"],
            rules_id=rules_id, priority=info["priority"], vip=info["vip"],
            language=info["language"], reason_code=info["reason_code"], skills=skills,
            preferred_agent_id=preferred, enqueued_at=now, place_at=place)
        _core.item_event(item, RoutingEvent.Kind.ENQUEUED, now=now,
                         data={"rules": rules_number, "queue": queue_code,
                               "event": event.pk if event is not None else None})
    live.routing([case.client_id])
    _core.route_after_commit([case.client_id])
    return item


# --- the agent's answers -----------------------------------------------------------------


def _own_offer(item: WorkItem, by: User) -> tuple[AgentPresence, WorkItem]:
    p = _core.lock_presence(by.pk)
    assert p is not None
    locked = _core.lock_item(item.pk)
    if locked is None or locked.status != WorkStatus.OFFERED or locked.agent_id != by.pk:
        raise ValidationError(_("This offer is no longer yours (it expired or was withdrawn)."),
                              code="offer_gone")
    return p, locked


@transaction.atomic
def accept(item: WorkItem, *, by: User, now: datetime | None = None) -> WorkItem:
    require_perm(by, Perm.VIEW_OWN_WORK)
    p, item = _own_offer(item, by)
    now = now or timezone.now()
    item.status = WorkStatus.ASSIGNED
    item.accepted_at = now
    item.version += 1
    item.save(update_fields=["status", "accepted_at", "version"])
    today = timezone.localdate(now)
    if p.contacts_day != today:
        p.contacts_day, p.contacts_today = today, 0
    p.contacts_today += 1
    p.missed_offers = 0
    p.version += 1
    p.save(update_fields=["contacts_day", "contacts_today", "missed_offers", "version"])
    _core.item_event(item, RoutingEvent.Kind.ACCEPTED, now=now, agent_id=by.pk, by=by,
                     data={"wait_ms": int((now - item.enqueued_at).total_seconds() * 1000)})
    case = Case.objects.get(pk=item.case_id)
    if case.assignee_id != by.pk:
        from satupintu.cases import services as case_services

        case_services.update_case(case, by=by, assignee=by)
    live.routing([item.client_id])
    return item


def _requeue(p: AgentPresence, item: WorkItem, kind: str, *, now: datetime,
             by: User | None, route: bool = True) -> None:
    agent_id = item.agent_id
    _core.release_load(p, item.channel)
    declined = list(item.declined_by or [])
    if agent_id not in declined:
        declined.append(agent_id)
    item.declined_by = declined
    _core._back_to_waiting(item)
    item.save(update_fields=["status", "agent", "offered_at", "offer_expires_at",
                             "declined_by", "version"])
    _core.item_event(item, kind, now=now, agent_id=agent_id, by=by)
    if agent_id:
        live.withdrawn(item.pk, agent_id)
    live.routing([item.client_id])
    if route:
        _core.route_after_commit([item.client_id])


@transaction.atomic
def decline(item: WorkItem, *, by: User, now: datetime | None = None) -> WorkItem:
    """The offer goes to the next candidate; the item keeps its place in line."""
    require_perm(by, Perm.VIEW_OWN_WORK)
    p, item = _own_offer(item, by)
    now = now or timezone.now()
    _requeue(p, item, RoutingEvent.Kind.DECLINED, now=now, by=by)
    p.version += 1
    p.save(update_fields=["load_call", "load_chat", "load_email", "version"])
    return item


def _lock_for_agent(item: WorkItem) -> tuple[AgentPresence | None, WorkItem]:
    """Lock the presence of the item's agent, then the item (retrying if it moved)."""
    for _attempt in range(5):
        agent_id = WorkItem.objects.filter(pk=item.pk).values_list("agent_id", flat=True).first()
        p = _core.lock_presence(agent_id) if agent_id else None
        locked = _core.lock_item(item.pk)
        if locked is None:
            raise Http404(_("Not found."))
        if locked.agent_id == agent_id:
            return p, locked
    raise ValidationError(_("The contact is changing hands; try again."), code="busy")


def _require_handler(item: WorkItem, by: User) -> None:
    """The agent handling the item, or a supervisor of its client."""
    if item.agent_id == by.pk:
        require_perm(by, Perm.VIEW_OWN_WORK)
        return
    require_perm(by, Perm.SUPERVISE)
    if item.client_id not in client_ids(by):
        raise Http404(_("Not found."))


@transaction.atomic
def complete(item: WorkItem, *, by: User, wrap_up: bool = True,
             now: datetime | None = None) -> WorkItem:
    """The contact is handled: its capacity is free; with ``wrap_up`` the agent goes into
    after-contact work (no new offers) until ``end_wrap_up`` or the client's maximum."""
    p, item = _lock_for_agent(item)
    _require_handler(item, by)
    if item.status != WorkStatus.ASSIGNED or p is None:
        raise ValidationError(_("Only a contact being handled can be completed."),
                              code="not_assigned")
    now = now or timezone.now()
    _core.release_load(p, item.channel)
    p.last_contact_end = now
    item.status = WorkStatus.WRAP_UP if wrap_up else WorkStatus.DONE
    if wrap_up:
        item.wrap_up_at = now
    else:
        item.ended_at = now
    item.version += 1
    item.save(update_fields=["status", "wrap_up_at", "ended_at", "version"])
    _core.item_event(item, RoutingEvent.Kind.WRAP_UP if wrap_up else RoutingEvent.Kind.DONE,
                     now=now, agent_id=item.agent_id, by=by)
    if wrap_up and p.state == PresenceState.READY:
        _core.change_state(p, PresenceState.ACW, reason=None, source=PresenceEvent.Source.SYSTEM,
                           by=by if by.pk != p.user_id else None, now=now,
                           data={"item": item.pk})
    else:
        p.version += 1
        p.save()
    live.routing([item.client_id])
    _core.route_after_commit([item.client_id])
    return item


@transaction.atomic
def end_wrap_up(user: User, *, by: User, now: datetime | None = None,
                to_state: str = PresenceState.READY, reason_code: str = "",
                source: str = PresenceEvent.Source.AGENT) -> AgentPresence:
    """After-contact work is over: the wrapped-up contacts are done, the agent is ready
    (or not ready when the client's maximum ran out and its settings say so)."""
    if by.pk != user.pk:
        require_perm(by, Perm.SUPERVISE)
        if not set(client_ids(user)) & set(client_ids(by)):
            raise Http404(_("Not found."))
        source = PresenceEvent.Source.SUPERVISOR
    else:
        require_perm(by, Perm.VIEW_OWN_WORK)
    p = _core.lock_presence(user.pk)
    assert p is not None
    now = now or timezone.now()
    if p.state != PresenceState.ACW:
        _core.finish_wrap_up(p, now=now, by=by)
        return p
    reason = _core.system_reason(reason_code) if reason_code else None
    _core.change_state(p, to_state, reason=reason, source=source,
                       by=by if by.pk != user.pk else None, now=now)
    return p


# --- supervisors -------------------------------------------------------------------------


@transaction.atomic
def reassign(item: WorkItem, to_user: User, *, by: User,
             request: HttpRequest | None = None) -> WorkItem:
    """A supervisor hands a live contact to another agent, who gets it as being handled."""
    require_perm(by, Perm.SUPERVISE)
    if item.client_id not in client_ids(by):
        raise Http404(_("Not found."))
    if (not to_user.is_active or Perm.VIEW_OWN_WORK not in to_user.permissions
            or item.client_id not in client_ids(to_user)):
        raise ValidationError(_("That person cannot work on this client's contacts."),
                              code="bad_agent")
    now = timezone.now()
    for _attempt in range(5):
        old_id = WorkItem.objects.filter(pk=item.pk).values_list("agent_id", flat=True).first()
        ids = sorted({i for i in (old_id, to_user.pk) if i})
        locked_p = {uid: _core.lock_presence(uid) for uid in ids}
        locked = _core.lock_item(item.pk)
        if locked is None:
            raise Http404(_("Not found."))
        if locked.agent_id == old_id:
            break
    else:
        raise ValidationError(_("The contact is changing hands; try again."), code="busy")
    item = locked
    if item.status not in (WorkStatus.WAITING, WorkStatus.OFFERED, WorkStatus.ASSIGNED):
        raise ValidationError(_("Only a waiting, offered or handled contact can be re-assigned."),
                              code="not_live")
    if old_id == to_user.pk:
        raise ValidationError(_("The contact is already with that agent."), code="same_agent")
    target = locked_p[to_user.pk]
    assert target is not None
    if old_id and item.status in (WorkStatus.OFFERED, WorkStatus.ASSIGNED):
        old = locked_p[old_id]
        assert old is not None
        _core.release_load(old, item.channel)
        old.version += 1
        old.save(update_fields=["load_call", "load_chat", "load_email", "version"])
        if item.status == WorkStatus.OFFERED:
            live.withdrawn(item.pk, old_id)
    field = f"load_{item.channel}"
    probe = _engine_room(target, item.channel)
    if not probe:
        raise ValidationError(_("That agent has no room for another %(channel)s contact.")
                              % {"channel": item.channel}, code="no_capacity")
    setattr(target, field, getattr(target, field) + 1)
    target.version += 1
    target.save(update_fields=[field, "version"])
    item.status = WorkStatus.ASSIGNED
    item.agent_id = to_user.pk
    item.accepted_at = now
    item.offer_expires_at = None
    item.version += 1
    item.save(update_fields=["status", "agent", "accepted_at", "offer_expires_at", "version"])
    _core.item_event(item, RoutingEvent.Kind.TRANSFERRED, now=now, agent_id=to_user.pk, by=by,
                     data={"from": old_id})
    case = Case.objects.get(pk=item.case_id)
    if case.assignee_id != to_user.pk:
        from satupintu.cases import services as case_services

        case_services.update_case(case, by=by, assignee=to_user, request=request)
    audit.record("routing.reassigned", actor=by, obj=item, client=case.client, request=request,
                 data={"from": old_id, "to": to_user.pk, "case": case.reference})
    live.routing([item.client_id])
    return item


def _engine_room(p: AgentPresence, channel: str) -> bool:
    from satupintu.routing.services.assign import agent_for

    return agent_for(p.user_id, p).can_take(channel)


@transaction.atomic
def cancel(item: WorkItem, *, by: User | None, now: datetime | None = None) -> WorkItem:
    """The contact ends before an agent handled it (the customer hung up: ``by=None``
    records it as abandoned), or a supervisor takes it out of routing."""
    if by is not None:
        require_perm(by, Perm.SUPERVISE)
        if item.client_id not in client_ids(by):
            raise Http404(_("Not found."))
    p, item = _lock_for_agent(item)
    if item.status not in LIVE_WORK:
        return item
    now = now or timezone.now()
    if p is not None and item.status in (WorkStatus.OFFERED, WorkStatus.ASSIGNED):
        _core.release_load(p, item.channel)
        p.version += 1
        p.save(update_fields=["load_call", "load_chat", "load_email", "version"])
        if item.status == WorkStatus.OFFERED:
            live.withdrawn(item.pk, p.user_id)
    abandoned = by is None and item.status in (WorkStatus.WAITING, WorkStatus.OFFERED)
    item.status = WorkStatus.ABANDONED if abandoned else WorkStatus.CANCELLED
    item.ended_at = now
    item.version += 1
    item.save(update_fields=["status", "ended_at", "version"])
    _core.item_event(item, RoutingEvent.Kind.ABANDONED if abandoned else
                     RoutingEvent.Kind.CANCELLED, now=now, agent_id=item.agent_id, by=by)
    live.routing([item.client_id])
    if p is not None:
        _core.route_after_commit([item.client_id])
    return item


# --- time ---------------------------------------------------------------------------------


def expire(now: datetime | None = None) -> int:
    """Offers past their expiry are missed and go to the next candidate; N missed in a row
    set the agent not ready ("missed_offers"); after-contact work past the client's
    maximum ends (ready or not ready, per the client's settings). Returns the count."""
    now = now or timezone.now()
    count = 0
    missed_clients: set[int] = set()
    due = list(WorkItem.objects.filter(status=WorkStatus.OFFERED, offer_expires_at__lte=now)
               .values_list("pk", "agent_id")[:500])
    for item_id, agent_id in due:
        with transaction.atomic():
            p = _core.lock_presence(agent_id, skip_locked=True)
            if p is None:
                continue  # busy right now: the next pass
            item = (WorkItem.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(pk=item_id, status=WorkStatus.OFFERED, agent_id=agent_id,
                            offer_expires_at__lte=now).first())
            if item is None:
                continue
            _requeue(p, item, RoutingEvent.Kind.MISSED, now=now, by=None, route=False)
            missed_clients.add(item.client_id)
            p.missed_offers += 1
            p.version += 1
            p.save(update_fields=["load_call", "load_chat", "load_email", "missed_offers",
                                  "version"])
            rules = compile_rules_id(item.rules_id)
            if p.missed_offers >= rules.max_missed_offers and p.state == PresenceState.READY:
                _core.change_state(p, PresenceState.NOT_READY,
                                   reason=_core.system_reason("missed_offers"),
                                   source=PresenceEvent.Source.SYSTEM, now=now,
                                   data={"missed": p.missed_offers})
            count += 1
    _core.route_after_commit(missed_clients)  # one pass per client, not one per miss
    count += _expire_acw(now)
    return count


def _expire_acw(now: datetime) -> int:
    count = 0
    rows = list(AgentPresence.objects.filter(state=PresenceState.ACW,
                                             since__lte=now - timedelta(seconds=1))
                .values_list("user_id", "since")[:500])
    for user_id, since in rows:
        last = (WorkItem.objects.filter(agent_id=user_id, status=WorkStatus.WRAP_UP)
                .order_by("-wrap_up_at").values_list("client_id", flat=True).first())
        s = _core.settings_for(last)
        if since > now - timedelta(seconds=s.acw_max_seconds):
            continue
        with transaction.atomic():
            p = _core.lock_presence(user_id, skip_locked=True)
            if p is None or p.state != PresenceState.ACW or p.since != since:
                continue
            if s.after_acw == s.AfterWrapUp.NOT_READY:
                _core.change_state(p, PresenceState.NOT_READY,
                                   reason=_core.system_reason("acw_timeout"),
                                   source=PresenceEvent.Source.SYSTEM, now=now)
            else:
                _core.change_state(p, PresenceState.READY, reason=None,
                                   source=PresenceEvent.Source.SYSTEM, now=now,
                                   data={"why": "acw_timeout"})
            count += 1
    return count


def live_items_of(user: User) -> list[WorkItem]:
    return list(WorkItem.objects.filter(agent=user, status__in=[
        WorkStatus.OFFERED, WorkStatus.ASSIGNED, WorkStatus.WRAP_UP])
        .select_related("case", "queue").order_by("offered_at", "id"))

