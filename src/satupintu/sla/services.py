"""SLA writes and reads: evaluate a case's clocks, keep ``CaseSla`` current, warn and escalate.

A case's clocks are always recomputed from its timeline (``CaseEvent``) by
``satupintu.engine.sla.evaluate``; nothing here does business-time arithmetic itself. The case
page, the API, the queues and the breach job therefore read one answer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from satupintu.audit import services as audit
from satupintu.cases import live
from satupintu.cases.models import ACTIVE_STATUSES, Case, CaseEvent, Priority
from satupintu.engine import business_time as bt
from satupintu.engine import sla as engine
from satupintu.sla.models import CaseSla, SlaPolicy

log = logging.getLogger(__name__)

_INSTANT = timedelta(microseconds=1)
CLOCKS = ("first_response", "next_response", "resolution")
_PRIORITY_STEPS = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
_EVENT_KINDS = {
    CaseEvent.Kind.OUTBOUND: engine.EventKind.AGENT_REPLY,
    CaseEvent.Kind.CALL: engine.EventKind.AGENT_REPLY,
    CaseEvent.Kind.INBOUND: engine.EventKind.CUSTOMER_MESSAGE,
}


@dataclass(frozen=True)
class CaseClocks:
    """A case's policy, the engine calendar used and the evaluated clocks (``state``)."""

    policy: SlaPolicy | None
    calendar: bt.BusinessCalendar | None
    state: engine.SlaState | None
    now: datetime

    @property
    def clocks(self) -> list[engine.Clock]:
        return self.state.clocks if self.state is not None else []


def to_sla_events(rows: Iterable[tuple[str, dict[str, object], datetime]]
                  ) -> list[engine.SlaEvent]:
    """(kind, data, created_at) of case events → the engine's events. Notes, assignments,
    detail changes and SLA entries do not move a clock."""
    events = []
    for kind, data, at in rows:
        if kind == CaseEvent.Kind.STATUS:
            events.append(engine.SlaEvent(at, engine.EventKind.STATUS, str(data.get("to", ""))))
        elif kind in _EVENT_KINDS:
            events.append(engine.SlaEvent(at, _EVENT_KINDS[kind]))
    return events


def targets(policy: SlaPolicy) -> engine.SlaTargets:
    return engine.SlaTargets(
        first_response_s=policy.first_response_minutes * 60,
        next_response_s=(policy.next_response_minutes * 60
                         if policy.next_response_minutes else None),
        resolution_s=policy.resolution_minutes * 60,
        warn_at=policy.warn_at_percent / 100,
    )


def policy_for(case: Case) -> SlaPolicy | None:
    return (SlaPolicy.objects.filter(client_id=case.client_id, priority=case.priority,
                                     is_active=True).select_related("calendar").first())


def calendar_years(opened_at: datetime, now: datetime) -> range:
    """Holiday years a case's deadlines can fall in (one spare year for late deadlines)."""
    return range(opened_at.year, max(opened_at.year, now.year) + 2)


def evaluate_case(case: Case, now: datetime | None = None, *,
                  policy: SlaPolicy | bool | None = True,
                  events: list[engine.SlaEvent] | None = None,
                  calendar: bt.BusinessCalendar | None = None) -> CaseClocks:
    """The case's clocks at ``now`` (default: now). ``policy=True`` looks the policy up."""
    now = now or timezone.now()
    chosen = policy_for(case) if policy is True else policy
    if not isinstance(chosen, SlaPolicy):
        return CaseClocks(None, None, None, now)
    if events is None:
        events = to_sla_events(case.events.values_list("kind", "data", "created_at"))
    # The engine counts a resolution from the instant after it: an event written at this
    # very ``now`` (the usual case inside a service) must already count.
    if events and max(e.at for e in events) >= now:
        now = max(e.at for e in events) + _INSTANT
    try:
        cal = calendar or chosen.calendar.to_engine(calendar_years(case.created_at, now))
        state = engine.evaluate(cal, targets(chosen), case.created_at, events, now)
    except (bt.CalendarError, ValueError):
        log.warning("SLA policy %s cannot be evaluated for %s", chosen.pk, case.reference)
        return CaseClocks(chosen, None, None, now)
    return CaseClocks(chosen, cal, state, now)


def clock_key(clock: engine.Clock) -> str:
    """Identifies one clock run: next-response clocks restart with each customer message."""
    if clock.name == "next_response":
        return f"next_response@{clock.started_at.isoformat()}"
    return clock.name


def _running(clocks: CaseClocks) -> list[engine.Clock]:
    return [c for c in clocks.clocks
            if c.met_at is None and c.state is not engine.ClockState.PAUSED]


def _apply(row: CaseSla, clocks: CaseClocks, active: bool) -> CaseSla:
    """Copy an evaluation onto the row (warned/breached keys are kept as they are)."""
    row.policy = clocks.policy
    by_name = {c.name: c for c in clocks.clocks}
    for name in CLOCKS:
        clock = by_name.get(name)
        setattr(row, f"{name}_due", clock.deadline if clock else None)
        setattr(row, f"{name}_state", str(clock.state) if clock else "")
    running = _running(clocks) if active else []
    row.next_due = min((c.deadline for c in running), default=None)
    row.next_warn_at = min((c.warn_at for c in running), default=None)
    attention = []
    for c in running:
        key = clock_key(c)
        if key not in row.warned_keys and c.warn_at < c.deadline:
            attention.append(c.warn_at)
        elif key not in row.breached_keys:
            attention.append(c.deadline)
    row.attention_at = min(attention, default=None)
    row.warned = bool(row.warned_keys)
    row.breached = bool(clocks.state and clocks.state.breached)
    row.computed_at = clocks.now
    return row


def recompute(case: Case, now: datetime | None = None) -> CaseSla:
    """Re-evaluate the case and store the result. Call it inside the service's transaction
    after the case's events are written (the cases services do)."""
    clocks = evaluate_case(case, now)
    row = CaseSla.objects.filter(case_id=case.pk).first()
    created = row is None
    if row is None:  # a new case: insert at once (a plain save would try an UPDATE first)
        row = CaseSla(case_id=case.pk)
    _apply(row, clocks, case.status in ACTIVE_STATUSES).save(force_insert=created)
    return row


def build_rows(cases: Iterable[Case], events: dict[int, list[engine.SlaEvent]],
               now: datetime, *, mark_seen: bool = True,
               previous: dict[int, CaseSla] | None = None) -> list[CaseSla]:
    """Unsaved ``CaseSla`` rows for many cases at once (the demo, ``recompute_sla``): one
    policy and one engine calendar per (client, priority). A case's ``previous`` row keeps
    what was already reported; else ``mark_seen`` records warnings and breaches already past
    as reported, so the job does not replay history."""
    policies = {(p.client_id, p.priority): p for p in
                SlaPolicy.objects.filter(is_active=True).select_related("calendar")
                .prefetch_related("calendar__closures")}
    calendars: dict[tuple[int, range], bt.BusinessCalendar] = {}
    rows = []
    for case in cases:
        policy = policies.get((case.client_id, case.priority))
        cal = None
        if policy is not None:
            years = calendar_years(case.created_at, now)
            cal = calendars.get((policy.calendar_id, years))
            if cal is None:
                cal = policy.calendar.to_engine(years, list(policy.calendar.closures.all()))
                calendars[(policy.calendar_id, years)] = cal
        clocks = evaluate_case(case, now, policy=policy, events=events.get(case.pk, []),
                               calendar=cal)
        row = CaseSla(case_id=case.pk)
        before = (previous or {}).get(case.pk)
        if before is not None:
            row.warned_keys, row.breached_keys = before.warned_keys, before.breached_keys
            row.escalated_at = before.escalated_at
        elif mark_seen:
            row.warned_keys = [clock_key(c) for c in clocks.clocks
                               if c.state is engine.ClockState.WARNING or c.breached]
            row.breached_keys = [clock_key(c) for c in clocks.clocks if c.breached]
            row.escalated_at = now if row.breached_keys else None
        rows.append(_apply(row, clocks, case.status in ACTIVE_STATUSES))
    return rows


# --- the breach job ---------------------------------------------------------------------


def due_case_ids(now: datetime) -> list[int]:
    return list(CaseSla.objects.filter(attention_at__lte=now,
                                       case__status__in=ACTIVE_STATUSES)
                .order_by("attention_at").values_list("case_id", flat=True))


def run_checks(now: datetime | None = None) -> int:
    """Warn, breach and escalate every case that is due; returns how many SLA entries were
    written. Each case is handled in its own transaction under a row lock, and each warning,
    breach and escalation is recorded once, so running it twice (or on two workers) does
    nothing new."""
    now = now or timezone.now()
    written = 0
    for case_id in due_case_ids(now):
        try:
            written += check_case(case_id, now)
        except Exception:
            log.exception("SLA check of case %s failed", case_id)
    return written


@transaction.atomic
def check_case(case_id: int, now: datetime) -> int:
    case = (Case.objects.select_for_update(of=("self",)).select_related("client", "team")
            .get(pk=case_id))
    row = CaseSla.objects.select_for_update().get(case_id=case_id)
    if case.status not in ACTIVE_STATUSES:
        _apply(row, evaluate_case(case, now), active=False).save()
        return 0
    clocks = evaluate_case(case, now)
    written = 0
    breaches: list[engine.Clock] = []
    for clock in _running(clocks):
        key = clock_key(clock)
        if clock.state is engine.ClockState.BREACHED and key not in row.breached_keys:
            row.breached_keys = [*row.breached_keys, key]
            if key not in row.warned_keys:
                row.warned_keys = [*row.warned_keys, key]
            _sla_event(case, "breach", clock, now)
            breaches.append(clock)
            written += 1
        elif clock.state is engine.ClockState.WARNING and key not in row.warned_keys:
            row.warned_keys = [*row.warned_keys, key]
            _sla_event(case, "warning", clock, now)
            written += 1
    if breaches and row.escalated_at is None and clocks.policy is not None:
        row.escalated_at = now
        written += _escalate(case, clocks.policy, breaches[0], now)
        clocks = evaluate_case(case, now)  # a raised priority may bring another policy
    _apply(row, clocks, active=True).save()
    return written


def _sla_event(case: Case, what: str, clock: engine.Clock, now: datetime) -> None:
    data = {"sla": what, "clock": clock.name, "deadline": clock.deadline.isoformat()}
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.SLA, data=data, created_at=now)
    audit.record(f"sla.{'breached' if what == 'breach' else 'warning'}", obj=case,
                 client=case.client, actor_label="system",
                 data={"reference": case.reference, **data})
    live.publish_case(case, f"sla_{what}", clock=clock.name,
                      deadline=clock.deadline.isoformat())


def _escalate(case: Case, policy: SlaPolicy, clock: engine.Clock, now: datetime) -> int:
    """The policy's breach actions, each recorded on the timeline and audited."""
    from satupintu.cases.services import _event, _touch

    actions: list[str] = []
    fields: list[str] = []
    leader_id = case.team.leader_id if case.team is not None else None
    if policy.raise_priority and case.priority != _PRIORITY_STEPS[-1]:
        old = case.priority
        case.priority = _PRIORITY_STEPS[_PRIORITY_STEPS.index(Priority(old)) + 1]
        fields.append("priority")
        _event(case, CaseEvent.Kind.UPDATE, actor=None, now=now,
               data={"priority": [old, case.priority], "why": "sla"})
        actions.append("raise_priority")
    team = policy.escalate_to_team
    if team is not None and team.pk != case.team_id and team.clients.filter(
            pk=case.client_id).exists():
        old_team = case.team_id
        case.team = team
        fields.append("team")
        _event(case, CaseEvent.Kind.ASSIGNMENT, actor=None, now=now,
               data={"team": [old_team, team.pk], "why": "sla"})
        actions.append("reassign_team")
        live.publish_on_commit([live.team_group(team.pk)],
                               {"kind": "sla_escalated", "case": case.reference,
                                "subject": case.subject, "clock": clock.name})
    if policy.notify_leader and leader_id:
        actions.append("notify_leader")
    if not actions:
        return 0
    if fields:
        _touch(case, None, now, fields)
    data = {"sla": "escalated", "clock": clock.name, "actions": actions, "leader": leader_id}
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.SLA, data=data, created_at=now)
    audit.record("sla.escalated", obj=case, client=case.client, actor_label="system",
                 data={"reference": case.reference, **data})
    live.publish_case(case, "sla_escalated", clock=clock.name,
                      extra_users=[leader_id] if "notify_leader" in actions else [])
    return 1


def clocks_for_display(clocks: CaseClocks) -> list[dict[str, object]]:
    """Plain values for the case page and the API. ``ticking``: the countdown may run in
    wall-clock seconds right now (the calendar is open and the clock not paused or met)."""
    policy = clocks.policy
    if policy is None:
        return []
    minutes = {"first_response": policy.first_response_minutes,
               "next_response": policy.next_response_minutes or 0,
               "resolution": policy.resolution_minutes}
    open_now = clocks.calendar.is_open(clocks.now) if clocks.calendar else False
    live_states = (engine.ClockState.RUNNING, engine.ClockState.WARNING,
                   engine.ClockState.BREACHED)
    return [{
        "name": c.name, "state": str(c.state), "deadline": c.deadline, "warn_at": c.warn_at,
        "met_at": c.met_at, "remaining_s": round(c.remaining_s),
        "warn_remaining_s": round(minutes[c.name] * 60 * (100 - policy.warn_at_percent) / 100),
        "ticking": open_now and c.state in live_states,
        "tz": clocks.calendar.tz if clocks.calendar else "Asia/Jakarta",
    } for c in clocks.clocks]
