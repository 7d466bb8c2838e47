"""A client's routing figures for one local day, read from the event logs.

One function (``day_figures``) serves the live wallboard (the day so far) and the historical
report (a whole past day), so the two can never disagree: both read ``RoutingEvent`` and
``PresenceEvent`` up to ``as_of`` = min(now, end of the day) and hand the contacts to the
engine's KPI functions (``satupintu.engine.kpi``); no formula is written here.

Attribution (as the usual ACD reports do it): a contact counts as *offered* in the interval it
entered a queue, as *answered* / *abandoned* in the interval it was accepted / abandoned (the
service level, ASA and abandonment of an interval are over those outcomes), and in *AHT* in the
interval its handling ended. A contact still waiting at ``as_of`` counts as waiting, with its
wait so far as the longest wait.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from satupintu.accounts.models import Client, Team, User
from satupintu.engine.kpi import (
    AgentTime,
    Outcome,
    QueuedContact,
    SlFormula,
    abandonment_rate,
    aht,
    asa,
    occupancy,
    service_level,
)
from satupintu.routing.models import (
    PresenceEvent,
    PresenceState,
    Queue,
    ReasonCode,
    RoutingEvent,
    RoutingSettings,
    WorkItem,
)
from satupintu.wallboard.models import Thresholds

log = logging.getLogger(__name__)

INTERVAL = timedelta(minutes=30)
# The built-in colours, which a client's ``Thresholds`` may replace (``Limits.of``):
# a cell turns amber at this share of its limit and red past the limit;
AMBER_SHARE = 0.8
# the service level is red below the target, amber less than this many points above it.
SL_AMBER_POINTS = 5.0

# The client setting may hold the engine's names or these descriptive aliases.
_SL_ALIASES = {
    "answered_over_offered": SlFormula.OFFERED,
    "over_offered": SlFormula.OFFERED,
    "answered_over_answered": SlFormula.ANSWERED,
    "over_answered": SlFormula.ANSWERED,
    "answered_and_abandoned": SlFormula.ASTERISK_SL2,
}

K = RoutingEvent.Kind


def _now() -> datetime:
    """The clock the wallboard reads (a seam for tests)."""
    return timezone.now()


def sl_formula(name: str) -> SlFormula:
    try:
        return SlFormula(name)
    except ValueError:
        if name not in _SL_ALIASES:
            log.warning("unknown service level formula %r: using answered/offered", name)
        return _SL_ALIASES.get(name, SlFormula.OFFERED)


def client_timezone(client: Client) -> ZoneInfo:
    """The client's local day follows the site of its first team (WIB/WITA/WIT)."""
    team = (Team.objects.filter(clients=client).select_related("site").order_by("id").first())
    return ZoneInfo(team.site.timezone if team is not None else settings.TIME_ZONE)


def local_today(client: Client, now: datetime | None = None) -> date:
    return (now or _now()).astimezone(client_timezone(client)).date()


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


@dataclass(frozen=True)
class Band:
    """When a cell turns amber and red. Higher is worse: amber from ``amber``, red above
    ``red``; with ``lower_is_worse`` (the service level): amber below ``amber``, red below
    ``red``. ``None``: that colour never shows."""

    amber: float | None = None
    red: float | None = None
    lower_is_worse: bool = False

    @classmethod
    def of_limit(cls, limit: float | None) -> Band:
        """The built-in rule: amber from ``AMBER_SHARE`` of the limit, red past it; no limit
        (``None`` or 0) is no colour."""
        return cls(AMBER_SHARE * limit, limit) if limit else cls()

    def level(self, value: float | None) -> str:
        if value is None:
            return ""
        if self.lower_is_worse:
            if self.red is not None and value < self.red:
                return "red"
            return "amber" if self.amber is not None and value < self.amber else ""
        if self.red is not None and value > self.red:
            return "red"
        return "amber" if self.amber is not None and value >= self.amber else ""


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _band(amber: Any, red: Any, built_in_red: float | None) -> Band:
    """A higher-is-worse band: an empty red is ``built_in_red``; an empty amber is
    ``AMBER_SHARE`` of the red limit (none without one)."""
    red_v = _num(red) if red is not None else (built_in_red or None)
    amber_v = _num(amber) if amber is not None else (
        AMBER_SHARE * red_v if red_v is not None else None)
    return Band(amber_v, red_v)


@dataclass(frozen=True)
class Limits:
    """A client's effective wallboard colours: its ``Thresholds`` with every empty value
    replaced by the built-in rule (``satupintu.wallboard.models``)."""

    waiting: Band
    longest_wait: Band
    sl: Band
    asa: Band
    acw: Band
    break_amber_share: float
    break_red_grace_s: float

    @classmethod
    def of(cls, row: Thresholds, routing: RoutingSettings) -> Limits:
        sl_red = _num(row.sl_red_below)
        if sl_red is None:
            sl_red = float(routing.sl_target_percent)
        sl_amber = _num(row.sl_amber_below)
        if sl_amber is None:
            sl_amber = sl_red + SL_AMBER_POINTS
        return cls(
            waiting=_band(row.waiting_amber, row.waiting_red, None),
            longest_wait=_band(row.longest_wait_amber_s, row.longest_wait_red_s,
                               float(routing.sl_threshold_seconds)),
            sl=Band(sl_amber, sl_red, lower_is_worse=True),
            asa=_band(row.asa_amber_s, row.asa_red_s, None),
            acw=_band(row.acw_amber_s, row.acw_red_s, float(routing.acw_max_seconds)),
            break_amber_share=row.break_amber_percent / 100.0,
            break_red_grace_s=float(row.break_red_grace_s))

    def break_band(self, limit_s: float | None) -> Band:
        """A not-ready reason's band: amber from a share of its longest duration, red past
        it plus the grace; a reason without a longest duration has no colour."""
        if not limit_s:
            return Band()
        return Band(self.break_amber_share * limit_s, limit_s + self.break_red_grace_s)


@dataclass(frozen=True)
class Settings:
    threshold_s: int
    target: int
    formula: SlFormula
    acw_max_s: int
    limits: Limits

    @classmethod
    def of(cls, client: Client) -> Settings:
        row = RoutingSettings.objects.filter(client=client).first() or RoutingSettings()
        colours = Thresholds.objects.filter(client=client).first() or Thresholds()
        return cls(threshold_s=row.sl_threshold_seconds, target=row.sl_target_percent,
                   formula=sl_formula(row.sl_formula), acw_max_s=row.acw_max_seconds,
                   limits=Limits.of(colours, row))


# --- figures ---------------------------------------------------------------------------------

@dataclass
class QueueFigures:
    code: str
    name_id: str
    name_en: str
    waiting: int = 0
    longest_wait: float | None = None  # seconds, at as_of
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    overflowed: int = 0  # left for another queue by its overflow rule
    sl: float | None = None
    asa: float | None = None
    aht: float | None = None
    abandon_rate: float | None = None

    def label(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_id


@dataclass
class AgentFigures:
    username: str
    name: str
    state: str  # logged_out / ready / offered / busy / not_ready / acw
    presence: str  # the PresenceState
    reason_code: str
    reason_id: str
    reason_en: str
    since: datetime | None
    time_in_state: float | None
    contacts: int  # being handled at as_of
    offers: int
    level: str  # "", "amber" or "red": over break or too long in ACW
    limit_s: float | None  # the break or ACW limit that the level is measured against


@dataclass
class TeamFigures:
    id: int
    name: str
    counts: dict[str, int]
    occupancy: float | None
    agents: list[AgentFigures] = field(default_factory=list)


@dataclass
class IntervalFigures:
    start: datetime
    queues: list[QueueFigures]


@dataclass
class DayFigures:
    client_id: int
    client_code: str
    client_name: str
    day: date
    tz: ZoneInfo
    start: datetime
    end: datetime
    as_of: datetime
    settings: Settings
    queues: list[QueueFigures]
    teams: list[TeamFigures]
    intervals: list[IntervalFigures] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.as_of >= self.end


# --- contacts from the routing log -----------------------------------------------------------

@dataclass
class _Contact:
    """One work item as of ``as_of``, from its events."""

    client_id: int
    entered: list[tuple[int, datetime]] = field(default_factory=list)  # (queue, at)
    queue_id: int | None = None  # where it is / was last
    overflowed_from: list[tuple[int | None, datetime]] = field(default_factory=list)
    enqueued_at: datetime | None = None
    outcome: Outcome | None = None
    outcome_at: datetime | None = None
    outcome_queue: int | None = None
    accepted_at: datetime | None = None
    wrap_at: datetime | None = None
    done_at: datetime | None = None
    offered_to: int | None = None
    # (agent, from, to or None): who handled it when (a re-assignment starts a new segment).
    handling: list[list[Any]] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        return self.enqueued_at is not None and self.outcome is None

    def wait_s(self) -> float:
        assert self.enqueued_at is not None and self.outcome_at is not None
        return max(0.0, (self.outcome_at - self.enqueued_at).total_seconds())

    def record(self) -> QueuedContact:
        return QueuedContact(wait_s=self.wait_s(), outcome=self.outcome or Outcome.FLOW_OUT)

    def handled_record(self) -> QueuedContact:
        assert self.accepted_at is not None and self.done_at is not None
        talk_end = self.wrap_at or self.done_at
        return QueuedContact(wait_s=self.wait_s(), outcome=Outcome.ANSWERED,
                             talk_s=max(0.0, (talk_end - self.accepted_at).total_seconds()),
                             acw_s=max(0.0, (self.done_at - talk_end).total_seconds()))


def _contacts(items: QuerySet[WorkItem], as_of: datetime) -> dict[int, _Contact]:
    contacts = {pk: _Contact(client_id=client_id)
                for pk, client_id in items.values_list("pk", "client_id")}
    # A subquery, not a list of ids: a busy day has more items than SQLite has parameters.
    events = (RoutingEvent.objects.filter(item__in=items.values("pk"), at__lt=as_of)
              .order_by("at", "id").values_list("item_id", "kind", "queue_id", "agent_id", "at"))
    for item_id, kind, queue_id, agent_id, at in events:
        c = contacts.get(item_id)
        if c is None:
            continue
        if kind == K.ENQUEUED:
            c.entered.append((queue_id, at))
            if c.enqueued_at is None:
                c.enqueued_at = at
            c.queue_id = queue_id
        elif c.enqueued_at is None:
            continue  # a log without its start: nothing to measure from
        elif kind == K.OVERFLOWED:  # offered where it entered; waits and ends in the new one
            c.overflowed_from.append((c.queue_id, at))
            c.queue_id = queue_id
        elif kind == K.OFFERED:
            c.offered_to = agent_id
        elif kind in (K.DECLINED, K.MISSED, K.WITHDRAWN):
            c.offered_to = None
        elif kind == K.ACCEPTED and c.outcome is None:
            c.outcome, c.outcome_at, c.outcome_queue = Outcome.ANSWERED, at, queue_id
            c.accepted_at, c.offered_to = at, None
            c.handling.append([agent_id, at, None])
        elif kind == K.TRANSFERRED:
            c.queue_id = queue_id
            if c.handling and c.done_at is None:
                c.handling[-1][2] = at
                c.handling.append([agent_id, at, None])
            elif c.outcome is None:
                c.offered_to = agent_id
        elif kind == K.WRAP_UP and c.accepted_at is not None and c.wrap_at is None:
            c.wrap_at = at
        elif kind == K.DONE and c.accepted_at is not None and c.done_at is None:
            c.done_at = at
            if c.handling:
                c.handling[-1][2] = at
        elif kind in (K.ABANDONED, K.CANCELLED) and c.outcome is None:
            c.outcome = Outcome.ABANDONED if kind == K.ABANDONED else Outcome.FLOW_OUT
            c.outcome_at, c.outcome_queue, c.offered_to = at, queue_id, None
    return contacts


def _in(at: datetime | None, a: datetime, b: datetime) -> bool:
    return at is not None and a <= at < b


def _queue_figures(queue: Queue, contacts: Sequence[_Contact], cfg: Settings,
                   a: datetime, b: datetime, as_of: datetime) -> QueueFigures:
    """``contacts``: those that touched the queue (entered, waited or ended there)."""
    qid = queue.pk
    out = QueueFigures(code=queue.code, name_id=queue.name_id, name_en=queue.name_en)
    out.offered = sum(1 for c in contacts for q, at in c.entered if q == qid and a <= at < b)
    out.overflowed = sum(1 for c in contacts for q, at in c.overflowed_from
                         if q == qid and a <= at < b)
    ended = [c for c in contacts if c.outcome_queue == qid and _in(c.outcome_at, a, b)]
    records = [c.record() for c in ended]
    out.answered = sum(1 for c in ended if c.outcome == Outcome.ANSWERED)
    out.abandoned = sum(1 for c in ended if c.outcome == Outcome.ABANDONED)
    out.sl = service_level(records, cfg.threshold_s, cfg.formula)
    out.asa = asa(records)
    out.abandon_rate = abandonment_rate(records)
    out.aht = aht([c.handled_record() for c in contacts
                   if c.outcome_queue == qid and c.outcome == Outcome.ANSWERED
                   and _in(c.done_at, a, b)])
    waits = [(as_of - c.enqueued_at).total_seconds() for c in contacts
             if c.waiting and c.queue_id == qid and c.enqueued_at is not None]
    out.waiting = len(waits)
    out.longest_wait = max(waits) if waits else None
    return out


# --- agents from the presence log -------------------------------------------------------------

Span = tuple[datetime, datetime]


def _measure(spans: Iterable[Span]) -> float:
    total, cursor = 0.0, None
    for a, b in sorted(spans):
        if cursor is not None and a < cursor:
            a = cursor
        if b > a:
            total += (b - a).total_seconds()
            cursor = b
    return total


def _union(spans: Iterable[Span]) -> list[Span]:
    merged: list[list[datetime]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _minus(spans: Iterable[Span], cut: list[Span]) -> float:
    """Seconds of ``spans`` outside the (merged) ``cut``."""
    total = 0.0
    for a, b in spans:
        length = (b - a).total_seconds()
        for c, d in cut:
            lo, hi = max(a, c), min(b, d)
            if hi > lo:
                length -= (hi - lo).total_seconds()
        total += max(0.0, length)
    return total


def _agents(client: Client) -> tuple[list[Team], dict[int, list[User]]]:
    teams = list(Team.objects.filter(clients=client).order_by("name", "id"))
    members: dict[int, list[User]] = defaultdict(list)
    for user in (User.objects.filter(team__in=teams, is_active=True)
                 .filter(Q(role="agent") | Q(presence__isnull=False))
                 .order_by("full_name", "username")):
        members[user.team_id].append(user)
    return teams, members


def _reason_codes(client: Client) -> dict[str, ReasonCode]:
    codes: dict[str, ReasonCode] = {}
    for row in ReasonCode.objects.filter(Q(client=client) | Q(client__isnull=True)):
        if row.code not in codes or row.client_id is not None:
            codes[row.code] = row
    return codes


def _team_figures(client: Client, cfg: Settings, start: datetime, as_of: datetime,
                  extra_items: dict[int, _Contact]) -> list[TeamFigures]:
    teams, members = _agents(client)
    users = [u for team in teams for u in members[team.pk]]
    if not users:
        return [TeamFigures(id=t.pk, name=t.name, counts={}, occupancy=None) for t in teams]
    ids = [u.pk for u in users]
    before = PresenceEvent.objects.filter(user=OuterRef("pk"), at__lt=start).order_by("-at", "-id")
    opening = {row["pk"]: row for row in User.objects.filter(pk__in=ids).annotate(
        s=Subquery(before.values("state")[:1]), r=Subquery(before.values("reason_code")[:1]),
        t=Subquery(before.values("at")[:1])).values("pk", "s", "r", "t")}
    timeline: dict[int, list[tuple[datetime, str, str]]] = defaultdict(list)
    for user_id, state, reason, at in (PresenceEvent.objects
                                       .filter(user_id__in=ids, at__gte=start, at__lt=as_of)
                                       .order_by("at", "id")
                                       .values_list("user_id", "state", "reason_code", "at")):
        timeline[user_id].append((at, state, reason))
    handling: dict[int, list[Span]] = defaultdict(list)
    busy: dict[int, int] = defaultdict(int)
    offers: dict[int, int] = defaultdict(int)
    for c in extra_items.values():
        for agent_id, a, b in c.handling:
            handling[agent_id].append((max(a, start), b or as_of))
        if c.handling and c.done_at is None:
            busy[c.handling[-1][0]] += 1
        if c.waiting and c.offered_to is not None:
            offers[c.offered_to] += 1
    reasons = _reason_codes(client)
    out = []
    for team in teams:
        times, counts = [], dict.fromkeys(
            ["ready", "offered", "busy", "not_ready", "acw", "logged_out"], 0)
        agents = []
        for user in members[team.pk]:
            first = opening.get(user.pk, {})
            state, reason = first.get("s") or PresenceState.LOGGED_OUT, first.get("r") or ""
            since: datetime | None = first.get("t")
            cursor = start
            spans: list[tuple[datetime, datetime, str]] = []
            for at, new_state, new_reason in timeline[user.pk]:
                spans.append((cursor, at, state))
                if new_state != state or new_reason != reason:
                    since = at
                state, reason, cursor = new_state, new_reason, at
            spans.append((cursor, as_of, state))
            ready = [(a, b) for a, b, s in spans if s == PresenceState.READY]
            acw = [(a, b) for a, b, s in spans if s == PresenceState.ACW]
            worked = _union([s for s in handling[user.pk] if s[1] > s[0]] + acw)
            handle_s = _measure(worked)
            idle_s = _minus(ready, worked)
            times.append(AgentTime(handle_s=handle_s, idle_s=idle_s))
            shown = str(state)
            if state == PresenceState.READY and busy[user.pk]:
                shown = "busy"
            elif state == PresenceState.READY and offers[user.pk]:
                shown = "offered"
            counts[shown] = counts.get(shown, 0) + 1
            in_state = (as_of - since).total_seconds() if since else None
            code = reasons.get(reason)
            limit, band = None, Band()
            if state == PresenceState.NOT_READY and code is not None and code.max_minutes:
                limit = code.max_minutes * 60.0
                band = cfg.limits.break_band(limit)
            elif state == PresenceState.ACW:
                limit, band = float(cfg.acw_max_s), cfg.limits.acw
            agents.append(AgentFigures(
                username=user.username, name=user.display_name, state=shown,
                presence=str(state), reason_code=reason,
                reason_id=code.name_id if code else reason,
                reason_en=code.name_en if code else reason, since=since,
                time_in_state=in_state, contacts=busy[user.pk], offers=offers[user.pk],
                level=band.level(in_state), limit_s=limit))
        out.append(TeamFigures(id=team.pk, name=team.name, counts=counts,
                               occupancy=occupancy(times), agents=agents))
    return out


# --- the one function ------------------------------------------------------------------------

def day_figures(client: Client, day: date | None = None, *, now: datetime | None = None,
                intervals: bool = False, agents: bool = True) -> DayFigures:
    """``client``'s figures for its local ``day`` (today by default) as of min(now, end of
    day): the wallboard asks for today, the report for a past day with ``intervals``."""
    now = now or _now()
    tz = client_timezone(client)
    day = day or now.astimezone(tz).date()
    start, end = day_bounds(day, tz)
    as_of = max(start, min(now, end))
    cfg = Settings.of(client)
    live = Q(ended_at__isnull=True) | Q(ended_at__gte=start)
    items = WorkItem.objects.filter(live, enqueued_at__lt=as_of)
    mine = items.filter(client=client)
    everything = _contacts(mine, as_of)
    if agents:
        # The client's agents may also work for other clients: their occupancy counts it all.
        touched = RoutingEvent.objects.filter(
            at__gte=start, at__lt=as_of, agent__team__clients=client,
            kind__in=[K.OFFERED, K.ACCEPTED, K.TRANSFERRED]).values("item_id")
        others = items.exclude(client=client).filter(
            Q(agent__team__clients=client) | Q(pk__in=touched)).distinct()
        everything = {**_contacts(others, as_of), **everything}
    contacts = {pk: c for pk, c in everything.items() if c.client_id == client.pk}
    queues = {q.pk: q for q in Queue.objects.filter(client=client)}
    touching: dict[int, list[_Contact]] = defaultdict(list)
    for c in contacts.values():
        for q in {c.queue_id, c.outcome_queue, *(e[0] for e in c.entered),
                  *(e[0] for e in c.overflowed_from)}:
            if q is not None:
                touching[q].append(c)
    shown = [q for q in queues.values() if q.is_active or q.pk in touching]
    result = DayFigures(
        client_id=client.pk, client_code=client.code, client_name=client.name, day=day, tz=tz,
        start=start, end=end, as_of=as_of, settings=cfg,
        queues=[_queue_figures(q, touching[q.pk], cfg, start, end, as_of) for q in shown], teams=[])
    if intervals:
        slot = start
        while slot < end:
            result.intervals.append(IntervalFigures(start=slot, queues=[
                _queue_figures(q, touching[q.pk], cfg, slot, slot + INTERVAL, as_of)
                for q in shown]))
            slot += INTERVAL
    if agents:
        result.teams = _team_figures(client, cfg, start, as_of, everything)
    return result


def sl_level(value: float | None, target: float) -> str:
    """The built-in service-level colour (a client's own is ``Settings.limits.sl``)."""
    return Band(target + SL_AMBER_POINTS, target, lower_is_worse=True).level(value)


def wait_level(seconds: float | None, threshold_s: float) -> str:
    """The built-in longest-wait colour (a client's own is ``Settings.limits.longest_wait``)."""
    return Band.of_limit(threshold_s).level(seconds)

