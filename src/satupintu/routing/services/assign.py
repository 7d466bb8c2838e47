"""The matching pass: waiting work meets ready agents, atomically across processes.

One pass, in one transaction:

1. lock up to ``limit`` waiting items (``FOR UPDATE SKIP LOCKED``: items another worker is
   matching are left to it);
2. read the ready agents of those clients with room, most idle first (a page of them;
   all when the page has nobody eligible), and ask the engine router's ``choose_agent``
   for each item, best item first (priority, VIP, step boost, place in line), counting
   the offers made so far;
3. lock the chosen agents' presence rows (``FOR UPDATE SKIP LOCKED``) and check each is
   still exactly the row the choice was made on; offers to an agent that is busy in
   another transaction or changed are chosen again without it. Only the chosen rows are
   locked, and only for the short write that follows, so agents answering offers are
   not held up by a pass;
4. write the offers: item offered, presence load +1 (a check constraint makes "over
   capacity" impossible), an ``offered`` event; notices go out after commit.

On SQLite the IMMEDIATE transaction holds the single write lock, which gives the same
guarantee. A process killed anywhere in between leaves nothing: the transaction rolls back.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from satupintu.accounts.models import AgentSkill, Skill, User
from satupintu.engine.router import Agent, AgentState, Interaction, RuleSet, choose_agent
from satupintu.engine.router.matcher import active_step, effective_priority
from satupintu.routing.models import (
    AgentPresence,
    EngineChannel,
    PresenceState,
    Queue,
    RoutingEvent,
    WorkItem,
    WorkStatus,
)
from satupintu.routing.services import live
from satupintu.routing.services.rules import compile_rules_id

log = logging.getLogger(__name__)

_STATE = {
    PresenceState.READY: AgentState.READY,
    PresenceState.NOT_READY: AgentState.NOT_READY,
    PresenceState.LOGGED_OUT: AgentState.LOGGED_OUT,
    PresenceState.ACW: AgentState.NOT_READY,
}
PRESENCE_FIELDS = ("user_id", "state", "load_call", "load_chat", "load_email", "cap_call",
                   "cap_chat", "cap_email", "last_contact_end", "contacts_today",
                   "contacts_day", "missed_offers")

# Static agent attributes (skills, languages, clients, team, site) change rarely; a pass
# reads them through this short cache instead of three queries over every ready agent.
_static: dict[int, tuple[float, dict[str, Any]]] = {}


def _cache_seconds() -> float:
    return float(getattr(settings, "ROUTING_AGENT_CACHE_SECONDS", 0 if settings.TESTING else 5))


def clear_cache() -> None:
    _static.clear()


def _static_attrs(user_ids: list[int]) -> dict[int, dict[str, Any]]:
    ttl = _cache_seconds()
    now = time.monotonic()
    out: dict[int, dict[str, Any]] = {}
    missing = []
    for uid in user_ids:
        hit = _static.get(uid)
        if hit is not None and now - hit[0] < ttl:
            out[uid] = hit[1]
        else:
            missing.append(uid)
    if missing:
        fresh: dict[int, dict[str, Any]] = {
            uid: {"skills": {}, "languages": set(), "clients": [], "team": "", "site": ""}
            for uid in missing}
        for uid, lang, team, site in User.objects.filter(pk__in=missing).values_list(
                "pk", "language", "team_id", "site__code"):
            fresh[uid]["languages"].add(lang)
            fresh[uid]["team"] = str(team or "")
            fresh[uid]["site"] = site or ""
        for uid, code, kind, level in AgentSkill.objects.filter(user_id__in=missing).values_list(
                "user_id", "skill__code", "skill__kind", "proficiency"):
            fresh[uid]["skills"][code] = int(level)
            if kind == Skill.Kind.LANGUAGE:
                fresh[uid]["languages"].add(code)
        for uid, cid in User.clients.through.objects.filter(user_id__in=missing).values_list(
                "user_id", "client_id"):
            fresh[uid]["clients"].append(str(cid))
        for uid, attrs in fresh.items():
            attrs["languages"] = tuple(sorted(attrs["languages"]))
            attrs["clients"] = tuple(sorted(attrs["clients"]))
            _static[uid] = (now, attrs)
            out[uid] = attrs
    return out


def _apply_row(agent: Agent, row: dict[str, Any], today: Any) -> None:
    agent.state = _STATE.get(row["state"], AgentState.LOGGED_OUT)
    agent.load = {"call": row["load_call"], "chat": row["load_chat"],
                  "email": row["load_email"]}
    agent.capacity = {"call": row["cap_call"], "chat": row["cap_chat"],
                      "email": row["cap_email"]}
    end = row["last_contact_end"]
    agent.last_contact_end = end.timestamp() if end else float("-inf")
    agent.contacts_today = row["contacts_today"] if row["contacts_day"] == today else 0
    agent.missed_offers = row["missed_offers"]


def agent_for(user_id: int, presence: AgentPresence | None) -> Agent:
    """The engine's view of one agent (for previews and tests)."""
    attrs = _static_attrs([user_id])[user_id]
    agent = Agent(str(user_id), skills=dict(attrs["skills"]), languages=attrs["languages"],
                  clients=attrs["clients"], team=attrs["team"], site=attrs["site"])
    if presence is not None:
        _apply_row(agent, {f: getattr(presence, f) for f in PRESENCE_FIELDS},
                   timezone.localdate())
    return agent


def interaction_for(item: WorkItem, queue_code: str, rules: RuleSet) -> Interaction:
    place = item.place_at.timestamp()
    enq = item.enqueued_at.timestamp()
    return Interaction(
        id=str(item.pk), queue=queue_code, channel=item.channel, client=str(item.client_id),
        skills=dict(item.skills or {}), language=item.language, priority=item.priority,
        vip=item.vip, enqueue_time=enq,
        preferred_agent=str(item.preferred_agent_id or ""),
        callback_keeps_place=place != enq, original_enqueue_time=place,
        attributes={"reason": item.reason_code}, rule_version=rules.version)


def _room(channels: set[str]) -> Q:
    q = Q(pk__in=[])
    if EngineChannel.CALL in channels:
        q |= Q(load_call__lt=F("cap_call"), load_chat=0, load_email=0)
    if EngineChannel.CHAT in channels:
        q |= Q(load_chat__lt=F("cap_chat"), load_call=0)
    if EngineChannel.EMAIL in channels:
        q |= Q(load_email__lt=F("cap_email"), load_call=0)
    return q


PAGE = 64
CHUNK = 32
# Strategies whose choice is the first eligible agent in (last_contact_end, user id) order;
# round robin falls back to longest idle in the pure choose function.
_IDLE_ORDER = ("longest_idle", "round_robin")


def _anyone_ready(client_id: int) -> bool:
    serving = User.clients.through.objects.filter(client_id=client_id)
    return AgentPresence.objects.filter(
        _room({EngineChannel.CALL, EngineChannel.CHAT, EngineChannel.EMAIL}),
        state=PresenceState.READY, user__is_active=True,
        user_id__in=serving.values("user_id")).exists()


def _fetch(client_ids: set[int], channels: set[str], limit: int | None,
           skip: set[str]) -> list[dict[str, Any]]:
    """Ready agents of these clients with room, most idle first (read without locks: the
    chosen ones are locked and checked in ``_Pass.confirm``)."""
    serving = User.clients.through.objects.filter(client_id__in=client_ids)
    qs = (AgentPresence.objects.filter(
        _room(channels), state=PresenceState.READY, user__is_active=True,
        user_id__in=serving.values("user_id"))
        .exclude(user_id__in=[int(k) for k in skip])
        .order_by(F("last_contact_end").asc(nulls_first=True), "user_id")
        .values(*PRESENCE_FIELDS))
    return list(qs[:limit] if limit else qs)


def _choose(ix: Interaction, cands: list[Agent], rules: RuleSet, nowts: float,
            declined: list[str]) -> Agent | None:
    """The engine's choice over ``cands`` (sorted by idle order). For idle-ordered steps the
    list is offered in chunks: the first chunk with an eligible agent holds the overall
    best, so the answer is the same as over the whole list, found sooner."""
    step = active_step(ix, rules, nowts)
    if step.strategy not in _IDLE_ORDER or len(cands) <= CHUNK:
        return choose_agent(ix, cands, rules, nowts, declined=declined)
    for start in range(0, len(cands), CHUNK):
        found = choose_agent(ix, cands[start:start + CHUNK], rules, nowts, declined=declined)
        if found is not None:
            return found
    return None


def route(now: datetime | None = None, *, client: Any = None, limit: int = 200,
          max_items: int = 5000) -> list[WorkItem]:
    """One matching pass (its own transaction); returns the items offered. Waiting items
    are read ``limit`` at a time in line order while agents with room remain, so a long
    line of work nobody present may take never hides routable work behind it."""
    now = now or timezone.now()
    if client is not None and not _anyone_ready(getattr(client, "pk", client)):
        # Nobody of the client is ready with room: nothing can be offered, so do not read
        # (and lock) the waiting line. Most inline passes after an arrival end here when
        # the floor is busy.
        return []
    with transaction.atomic():
        state = _Pass(now)
        after: tuple[datetime, int] | None = None
        scanned = 0
        while scanned < max_items:
            qs = WorkItem.objects.filter(status=WorkStatus.WAITING)
            if client is not None:
                qs = qs.filter(client_id=getattr(client, "pk", client))
            if after is not None:
                qs = qs.filter(Q(place_at__gt=after[0]) | Q(place_at=after[0], id__gt=after[1]))
            items = list(qs.order_by("place_at", "id").select_related("case")
                         .select_for_update(skip_locked=True, of=("self",))[:limit])
            if not items:
                break
            scanned += len(items)
            items = _drop_closed(items, now)
            state.match(items)
            if len(items) < limit or state.full:
                break
            after = (items[-1].place_at, items[-1].pk)
        state.confirm()
        if state.offers:
            _write(state.offers, now)
        return [o[0] for o in state.offers]


class _Pass:
    """What one pass knows: the agents it read (and locked), and item kinds nobody fits."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.nowts = now.timestamp()
        self.today = timezone.localdate(now)
        self.agents: dict[str, Agent] = {}
        self.by_client: dict[str, list[Agent]] = defaultdict(list)
        # (client, channel) → agents that may still take such a contact, in idle order;
        # the engine would skip the others anyway (same choice, shorter scans)
        self.room: dict[tuple[str, str], list[Agent]] = {}
        self.loaded: tuple[frozenset[int], frozenset[str]] | None = None
        self.complete = False
        self.nobody: set[tuple[Any, ...]] = set()
        self.offers: list[tuple[WorkItem, Agent, RuleSet, str, str]] = []
        self.entries: dict[int, tuple[Any, WorkItem, Interaction, RuleSet]] = {}
        self.snap: dict[str, tuple[Any, ...]] = {}
        self.locked: set[str] = set()
        self.dropped: set[str] = set()
        self.full = False

    def load(self, client_ids: set[int], channels: set[str], limit_rows: int | None) -> None:
        """Read more agents (those already read keep their in-pass loads)."""
        rows = _fetch(client_ids, channels, limit_rows, set(self.agents) | self.dropped)
        attrs = _static_attrs([r["user_id"] for r in rows])
        for row in rows:
            a = attrs[row["user_id"]]
            agent = Agent(str(row["user_id"]), skills=a["skills"], languages=a["languages"],
                          clients=a["clients"], team=a["team"], site=a["site"])
            _apply_row(agent, row, self.today)
            self.agents[agent.id] = agent
            self.snap[agent.id] = _sig(row)
        order = sorted(self.agents.values(),
                       key=lambda a: (a.last_contact_end, int(a.id)))
        self.by_client.clear()
        self.room.clear()
        for agent in order:
            for c in agent.clients:
                self.by_client[c].append(agent)
        self.complete = limit_rows is None or len(rows) < limit_rows

    def match(self, items: list[WorkItem]) -> None:
        nowts = self.nowts
        codes = _queue_codes({i.queue_id for i in items})
        client_ids = {i.client_id for i in items}
        channels = {i.channel for i in items}
        work: list[tuple[Any, WorkItem, Interaction, RuleSet]] = []
        idle_only = True
        for item in items:
            rules = compile_rules_id(item.rules_id)
            ix = interaction_for(item, codes[item.queue_id], rules)
            step = active_step(ix, rules, nowts)
            idle_only = idle_only and step.strategy in _IDLE_ORDER
            work.append(((-effective_priority(ix, step, rules), ix.place_time, item.pk),
                         item, ix, rules))
        work.sort(key=lambda w: w[0])
        # With idle-ordered steps the first PAGE agents in idle order usually suffice (the
        # best eligible agent is the first eligible one); when they run out, all of them.
        wanted = (frozenset(client_ids), frozenset(channels))
        if self.loaded is None or not (wanted[0] <= self.loaded[0]
                                       and wanted[1] <= self.loaded[1]):
            self.loaded = wanted
            self.load(client_ids, channels, PAGE if idle_only else None)
        elif not idle_only and not self.complete:
            self.load(client_ids, channels, None)
        if not self.agents and self.complete:
            self.full = True  # nobody ready with room: nothing to look at
            return
        for entry in work:
            self.entries[entry[1].pk] = entry
        self._assign(work)
        self.full = self.complete and not any(
            a.can_take(ch) for a in self.agents.values() for ch in ("call", "chat", "email"))

    def _assign(self, work: list[tuple[Any, WorkItem, Interaction, RuleSet]]) -> None:
        """Tentative offers, best item first; ``confirm`` locks and checks the agents."""
        nowts = self.nowts
        for _key, item, ix, rules in work:
            declined = [str(d) for d in (item.declined_by or [])]
            step = active_step(ix, rules, nowts)
            reads = step.target.interaction_fields if step.target is not None else ()
            kind = None if ("id" in reads or "*" in reads) else (
                item.rules_id, ix.queue, step.index, ix.channel, ix.client, ix.language,
                tuple(sorted(ix.skills.items())), ix.vip, ix.priority, item.reason_code,
                ix.preferred_agent if step.preferred_agent else "", tuple(sorted(declined)))
            if kind is not None and kind in self.nobody:
                continue  # an identical item found nobody, and loads only grew since
            chosen = self._pick(ix, rules, declined)
            if chosen is None:
                if kind is not None:
                    self.nobody.add(kind)
                continue
            chosen.load[ix.channel] = chosen.load.get(ix.channel, 0) + 1
            for (client_key, channel), agents in self.room.items():
                if client_key in chosen.clients and chosen in agents and \
                        not chosen.can_take(channel):
                    agents.remove(chosen)
            self.offers.append((item, chosen, rules, step.name, ix.queue))

    def confirm(self) -> None:
        """Lock the chosen agents' rows (``FOR UPDATE SKIP LOCKED``) and keep only offers to
        agents whose locked row is exactly what the choice was made on. Offers to an agent
        that is busy in another transaction or changed meanwhile are chosen again without
        that agent; so every offer written stands on a row this transaction holds."""
        for attempt in range(4):
            chosen = {o[1].id for o in self.offers} - self.locked
            if not chosen:
                return
            rows = {str(r["user_id"]): r for r in AgentPresence.objects
                    .select_for_update(skip_locked=True, of=("self",))
                    .filter(pk__in=[int(i) for i in chosen], state=PresenceState.READY)
                    .values(*PRESENCE_FIELDS)}
            bad = {i for i in chosen if i not in rows or _sig(rows[i]) != self.snap[i]}
            self.locked |= chosen - bad
            if not bad:
                return
            retry = [self.entries[o[0].pk] for o in self.offers if o[1].id in bad]
            self.offers = [o for o in self.offers if o[1].id not in bad]
            self.dropped |= bad
            for agent_id in bad:
                agent = self.agents.pop(agent_id)
                for agents in (*self.by_client.values(), *self.room.values()):
                    if agent in agents:
                        agents.remove(agent)
            if attempt < 3:
                self._assign(sorted(retry, key=lambda w: w[0]))

    def _pick(self, ix: Interaction, rules: RuleSet, declined: list[str]) -> Agent | None:
        while True:
            key = (ix.client, ix.channel)
            cands = self.room.get(key)
            if cands is None:
                cands = self.room[key] = [a for a in self.by_client.get(ix.client, [])
                                          if a.can_take(ix.channel)]
            agent = _choose(ix, cands, rules, self.nowts, declined) if cands else None
            if agent is None and not self.complete:  # the page had nobody: lock the rest
                assert self.loaded is not None
                self.load(set(self.loaded[0]), set(self.loaded[1]), None)
                continue
            return agent


def _drop_closed(items: list[WorkItem], now: datetime) -> list[WorkItem]:
    """A case resolved or closed while its contact waited needs no agent any more."""
    keep = []
    for item in items:
        if item.case.status not in ("resolved", "closed"):
            keep.append(item)
            continue
        item.status = WorkStatus.CANCELLED
        item.ended_at = now
        item.version += 1
        item.save(update_fields=["status", "ended_at", "version"])
        RoutingEvent.objects.create(item=item, queue_id=item.queue_id,
                                    kind=RoutingEvent.Kind.CANCELLED, at=now,
                                    data={"why": "case_" + item.case.status})
    return keep


def _sig(row: dict[str, Any]) -> tuple[Any, ...]:
    """What a choice depends on in a presence row."""
    return (row["state"], row["load_call"], row["load_chat"], row["load_email"],
            row["cap_call"], row["cap_chat"], row["cap_email"], row["last_contact_end"],
            row["contacts_today"], row["contacts_day"])


def _queue_codes(ids: set[int]) -> dict[int, str]:
    return dict(Queue.objects.filter(pk__in=ids).values_list("id", "code"))


def _write(offers: list[tuple[WorkItem, Agent, RuleSet, str, str]], now: datetime) -> None:
    """Write a pass's offers: items, loads (rows this transaction holds), events, notices."""
    by_expiry: dict[datetime, list[int]] = defaultdict(list)
    by_agent: dict[int, list[int]] = defaultdict(list)
    for item, agent, rules, _step, _code in offers:
        item.status = WorkStatus.OFFERED
        item.agent_id = int(agent.id)
        item.offered_at = now
        item.offer_expires_at = now + timedelta(seconds=rules.accept_timeout)
        item.offers += 1
        item.version += 1
        by_expiry[item.offer_expires_at].append(item.pk)
        by_agent[item.agent_id].append(item.pk)
    # Few statements for many offers: one per distinct expiry, per agent, per load tuple.
    # the agent first: the table allows no offered row without one
    _set_agents([(o[0].pk, o[0].agent_id) for o in offers])
    for expires, ids in by_expiry.items():
        WorkItem.objects.filter(pk__in=ids).update(
            status=WorkStatus.OFFERED, offered_at=now, offer_expires_at=expires,
            offers=F("offers") + 1, version=F("version") + 1)
    by_load: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for agent in {o[1] for o in offers}:
        by_load[(agent.load.get("call", 0), agent.load.get("chat", 0),
                 agent.load.get("email", 0))].append(int(agent.id))
    for (call, chat, email), ids in by_load.items():
        AgentPresence.objects.filter(pk__in=ids).update(
            load_call=call, load_chat=chat, load_email=email, version=F("version") + 1)
    RoutingEvent.objects.bulk_create([
        RoutingEvent(item=item, queue_id=item.queue_id, kind=RoutingEvent.Kind.OFFERED,
                     agent_id=item.agent_id, at=now,
                     data={"step": step, "wait_ms": int((now - item.enqueued_at)
                                                        .total_seconds() * 1000)})
        for item, _a, _r, step, _c in offers])
    live.offers([(item, item.case.reference, item.case.subject, code)
                 for item, _a, _r, _s, code in offers])
    live.routing({o[0].client_id for o in offers})


def _set_agents(pairs: list[tuple[int, int | None]]) -> None:
    """``UPDATE … SET agent_id = CASE id WHEN … END`` in chunks: one statement for hundreds
    of offers (only integers are interpolated as parameters)."""
    table = WorkItem._meta.db_table
    for start in range(0, len(pairs), 500):
        chunk = pairs[start:start + 500]
        whens = " ".join(["WHEN %s THEN %s"] * len(chunk))
        marks = ", ".join(["%s"] * len(chunk))
        params: list[Any] = [v for pair in chunk for v in pair] + [pk for pk, _a in chunk]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET agent_id = CASE id {whens} END "  # noqa: S608
                f"WHERE id IN ({marks})", params)
