"""SLA clocks of one case, derived from its events: first response, next response, resolution.

The clocks run on a ``BusinessCalendar`` and stop while the case waits for the customer
("pending customer") or is resolved; a reopened case's resolution clock runs on from where
it stopped. Everything is recomputed from the event list, so the clocks on the agent's screen,
the breach job and the reports cannot disagree.

>>> from datetime import datetime
>>> from satupintu.engine.business_time import BusinessCalendar
>>> from datetime import time
>>> cal = BusinessCalendar.office_hours("Asia/Jakarta", time(8), time(17))
>>> opened = datetime.fromisoformat("2026-11-23T16:00:00+07:00")
>>> state = evaluate(cal, SlaTargets(first_response_s=2 * 3600), opened, [],
...                  now=datetime.fromisoformat("2026-11-23T16:30:00+07:00"))
>>> state.first_response.deadline.isoformat(), state.first_response.remaining_s
('2026-11-24T09:00:00+07:00', 5400.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from satupintu.engine.business_time import BusinessCalendar, Interval

PAUSING_STATUSES = frozenset({"pending_customer"})
STOPPING_STATUSES = frozenset({"resolved", "closed"})


class EventKind(StrEnum):
    STATUS = "status"  # detail: the new status category
    AGENT_REPLY = "agent_reply"  # a public reply to the customer (not an internal note)
    CUSTOMER_MESSAGE = "customer_message"


@dataclass(frozen=True)
class SlaEvent:
    at: datetime
    kind: EventKind
    detail: str = ""


@dataclass(frozen=True)
class SlaTargets:
    """Targets in business seconds; None switches a clock off. Warn at this share of target."""

    first_response_s: float | None = None
    next_response_s: float | None = None
    resolution_s: float | None = None
    warn_at: float = 0.8

    def __post_init__(self) -> None:
        for name in ("first_response_s", "next_response_s", "resolution_s"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be greater than zero, got {value}")
        if not 0 < self.warn_at < 1:
            raise ValueError(f"warn_at must be between 0 and 1, got {self.warn_at}")


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    WARNING = "warning"
    MET = "met"
    BREACHED = "breached"  # deadline passed and not met yet
    MET_LATE = "met_late"


@dataclass(frozen=True)
class Clock:
    name: str
    started_at: datetime
    deadline: datetime
    warn_at: datetime
    met_at: datetime | None
    remaining_s: float  # business seconds left at ``now`` (negative once breached)
    state: ClockState

    @property
    def breached(self) -> bool:
        return self.state in (ClockState.BREACHED, ClockState.MET_LATE)


@dataclass(frozen=True)
class SlaState:
    first_response: Clock | None
    next_response: Clock | None
    resolution: Clock | None

    @property
    def clocks(self) -> list[Clock]:
        return [c for c in (self.first_response, self.next_response, self.resolution) if c]

    @property
    def breached(self) -> bool:
        return any(c.breached for c in self.clocks)


def paused_intervals(events: Sequence[SlaEvent], now: datetime,
                     statuses: frozenset[str]) -> list[Interval]:
    """Intervals the case spent in one of ``statuses``, from its status events."""
    intervals: list[Interval] = []
    since: datetime | None = None
    for event in sorted((e for e in events if e.kind is EventKind.STATUS), key=lambda e: e.at):
        if event.detail in statuses and since is None:
            since = event.at
        elif event.detail not in statuses and since is not None:
            intervals.append((since, event.at))
            since = None
    if since is not None and since < now:
        intervals.append((since, now))
    return intervals


def _clock(calendar: BusinessCalendar, name: str, start: datetime, target_s: float,
           met_at: datetime | None, now: datetime, pauses: list[Interval], warn_share: float,
           paused_now: bool) -> Clock:
    deadline = calendar.add_business_seconds(start, target_s, pauses)
    warn_at = calendar.add_business_seconds(start, target_s * warn_share, pauses)
    end = met_at if met_at is not None else now
    remaining = target_s - calendar.business_seconds_between(start, max(start, end), pauses)
    if met_at is not None:
        state = ClockState.MET if met_at <= deadline else ClockState.MET_LATE
    elif now >= deadline:
        state = ClockState.BREACHED
    elif paused_now:
        state = ClockState.PAUSED
    elif now >= warn_at:
        state = ClockState.WARNING
    else:
        state = ClockState.RUNNING
    return Clock(name, start, deadline, warn_at, met_at, remaining, state)


def evaluate(calendar: BusinessCalendar, targets: SlaTargets, opened_at: datetime,
             events: Sequence[SlaEvent], now: datetime) -> SlaState:
    ordered = sorted(events, key=lambda e: e.at)
    pauses = paused_intervals(ordered, now, PAUSING_STATUSES)
    stops = paused_intervals(ordered, now, STOPPING_STATUSES)
    status_now = next((e.detail for e in reversed(ordered) if e.kind is EventKind.STATUS), "new")
    paused_now = status_now in PAUSING_STATUSES
    replies = [e.at for e in ordered if e.kind is EventKind.AGENT_REPLY]

    first = None
    if targets.first_response_s is not None:
        first = _clock(calendar, "first_response", opened_at, targets.first_response_s,
                       replies[0] if replies else None, now, pauses, targets.warn_at, paused_now)

    following = None
    if targets.next_response_s is not None and replies:
        stretch = _latest_wait(ordered, after=replies[0])
        if stretch is not None:
            following = _clock(calendar, "next_response", stretch[0], targets.next_response_s,
                               stretch[1], now, pauses, targets.warn_at, paused_now)

    resolution = None
    if targets.resolution_s is not None:
        resolved_now = status_now in STOPPING_STATUSES
        met_at = stops[-1][0] if resolved_now and stops else None
        # Time spent resolved before a reopening does not count against the resolution clock.
        earlier_stops = stops[:-1] if resolved_now else stops
        resolution = _clock(calendar, "resolution", opened_at, targets.resolution_s, met_at, now,
                            pauses + earlier_stops, targets.warn_at, paused_now)
    return SlaState(first, following, resolution)


def _latest_wait(ordered: Sequence[SlaEvent],
                 after: datetime) -> tuple[datetime, datetime | None] | None:
    """The customer's latest wait for us after our first answer: (first message, our reply)."""
    latest: tuple[datetime, datetime | None] | None = None
    waiting_since: datetime | None = None
    for event in ordered:
        if event.at <= after:
            continue
        if event.kind is EventKind.CUSTOMER_MESSAGE and waiting_since is None:
            waiting_since = event.at
            latest = (waiting_since, None)
        elif event.kind is EventKind.AGENT_REPLY and waiting_since is not None:
            latest = (waiting_since, event.at)
            waiting_since = None
    return latest
