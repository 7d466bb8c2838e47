"""The router: one event-driven matcher over all queues, and a pure choose function.

Two callers share the same rule semantics:

* :class:`Matcher` keeps agents and waiting interactions in memory and reacts to events
  (arrival, agent ready, completion, step time-outs, offer time-outs). The simulator and a
  routing worker drive it.
* :func:`choose_agent` / :func:`choose_interaction` are pure: given rows a database
  transaction has locked, they say which one to take. No state, no I/O.

With ``auto_accept=True`` the simulator uses the matcher's auto-accept lane
(:meth:`Matcher.arrive_accept`, :meth:`Matcher.complete_accept`): the same decisions and
state changes as :meth:`Matcher.enqueue` / :meth:`Matcher.complete`, without Offer
objects and without an Interaction for a contact answered at once.

Waiting interactions are served by (effective priority, place in line, arrival order).
Interactions that share a queue, a step and the interaction attributes the step's target
reads form one *group*; a freed agent tests only the head of each group, so the cost of
an agent event grows with the number of groups, not with the number of waiting contacts.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .model import BLOCKING_CHANNELS, Agent, AgentState, Interaction, RouterError, copy_for
from .rules import RuleSet, Step

SortKey = tuple[int, float, int]


@dataclass(eq=False, slots=True)
class Offer:
    """An interaction offered to (reserved for) an agent."""

    interaction: Interaction
    agent: Agent
    time: float
    expires: float
    step: Step
    max_missed: int = 3
    accepted: bool = False
    token: int = 0


class _Wait:
    """A waiting interaction: its rule schedule, current step and heap token."""

    __slots__ = ("declined", "group", "ix", "pos", "rules", "schedule", "seq", "token")

    def __init__(
        self, ix: Interaction, rules: RuleSet, schedule: list[tuple[Step, float]], seq: int
    ) -> None:
        self.ix = ix
        self.rules = rules
        self.schedule = schedule
        self.seq = seq
        self.pos = 0
        self.token = 0
        self.group: tuple[Any, ...] | None = None
        self.declined: set[str] = _NO_DECLINED

    @property
    def step(self) -> Step:
        return self.schedule[self.pos][0]

    def add_declined(self, agent_id: str) -> None:
        if self.declined is _NO_DECLINED:
            self.declined = set()
        self.declined.add(agent_id)


_NO_DECLINED: set[str] = set()  # shared and never written: see _Wait.add_declined
_NO_PAIRS: list[tuple[Interaction, Agent]] = []  # shared and never written
_READY = AgentState.READY


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _group_key(w: _Wait) -> tuple[Any, ...]:
    return _key_of(w.ix, w.schedule[w.pos][0], w.rules.version)


def _key_of(ix: Interaction, step: Step, version: str) -> tuple[Any, ...]:
    if step.target is None:
        sig: Any = ()
    elif "*" in step.target.interaction_fields:
        sig = ("#", ix.id)
    else:
        sig = tuple(_freeze(getattr(ix, f)) for f in step.target.sorted_interaction_fields)
    pref = ix.preferred_agent if step.preferred_agent else ""
    return (version, step.queue, step.index, ix.channel, ix.client, pref, sig)


def effective_priority(ix: Interaction, step: Step, rules: RuleSet) -> int:
    return ix.priority + step.priority_boost + (rules.vip_boost if ix.vip else 0)


def _client_ok(agent: Agent, ix: Interaction) -> bool:
    return not ix.client or ix.client in agent.clients


def _proficiency(agent: Agent, ix: Interaction) -> int:
    if not ix.skills:
        return 0
    return min(agent.skills.get(s, 0) for s in ix.skills)


def _agent_key(strategy: str, agent: Agent, ix: Interaction, idx: int, rr: int, n: int) -> Any:
    if strategy == "longest_idle":
        return (agent.last_contact_end, idx)
    if strategy == "fewest_contacts":
        return (agent.contacts_today, agent.last_contact_end, idx)
    if strategy == "highest_proficiency":
        return (-_proficiency(agent, ix), agent.last_contact_end, idx)
    if strategy == "least_occupied":
        return (agent.occupancy(), agent.last_contact_end, idx)
    if strategy == "round_robin":
        return ((idx - rr - 1) % max(n, 1), idx)
    raise RouterError(f"unknown strategy {strategy!r}")


def active_step(ix: Interaction, rules: RuleSet, now: float) -> Step:
    """The step in force for ``ix`` after waiting since ``ix.enqueue_time``."""
    schedule = rules.plan(ix.queue).schedule(ix)
    wait = now - ix.enqueue_time
    current = schedule[0][0]
    for step, start in schedule:
        if wait >= start:
            current = step
    return current


def choose_agent(
    interaction: Interaction,
    candidates: Sequence[Agent],
    rules: RuleSet,
    now: float,
    *,
    declined: Iterable[str] = (),
) -> Agent | None:
    """Pure: the agent among ``candidates`` (rows the caller has locked) to offer to.

    Candidates must be present (ready); capacity, client and the active step's target are
    checked here. Round robin needs memory and falls back to longest idle here.
    """
    step = active_step(interaction, rules, now)
    skip = set(declined)
    best: Agent | None = None
    best_key: Any = None
    for idx, agent in enumerate(candidates):
        if agent.id in skip or not agent.can_take(interaction.channel):
            continue
        if not _client_ok(agent, interaction) or not step.eligible(agent, interaction):
            continue
        strategy = "longest_idle" if step.strategy == "round_robin" else step.strategy
        key = _agent_key(strategy, agent, interaction, idx, 0, len(candidates))
        if best_key is None or key < best_key:
            best, best_key = agent, key
    return best


def choose_interaction(
    agent: Agent,
    waiting: Sequence[Interaction],
    rules_by_version: dict[str, RuleSet] | RuleSet,
    now: float,
) -> Interaction | None:
    """Pure: which of the ``waiting`` interactions (locked rows) ``agent`` should take."""
    best: Interaction | None = None
    best_key: Any = None
    for order, ix in enumerate(waiting):
        rules = _rules_for(ix, rules_by_version)
        if not agent.can_take(ix.channel) or not _client_ok(agent, ix):
            continue
        step = active_step(ix, rules, now)
        if not step.eligible(agent, ix):
            continue
        key = (-effective_priority(ix, step, rules), ix.place_time, order)
        if best_key is None or key < best_key:
            best, best_key = ix, key
    return best


def _rules_for(ix: Interaction, rules: dict[str, RuleSet] | RuleSet) -> RuleSet:
    if isinstance(rules, RuleSet):
        return rules
    if ix.rule_version is None or ix.rule_version not in rules:
        raise RouterError(f"interaction {ix.id}: unknown rule version {ix.rule_version!r}")
    return rules[ix.rule_version]


class _Lane:
    """arrive_accept's view of one template under the current rules (see _new_lane)."""

    __slots__ = ("boost", "cache", "channel", "client", "key", "kind", "no", "pool",
                 "rules", "schedule", "step", "version", "vip_boost")

    def __init__(self, rules: RuleSet, schedule: list[tuple[Step, float]], channel: str,
                 client: str, pool: dict[str, Agent]) -> None:
        self.rules = rules
        self.version = rules.version
        self.vip_boost = rules.vip_boost
        self.schedule = schedule
        self.step = schedule[0][0]
        self.boost = self.step.priority_boost
        self.channel = channel
        self.client = client
        self.pool = pool
        #: 0 no target and longest idle, 1 a memoised target that reads no interaction
        #: field and longest idle, -1 anything else (use enqueue)
        self.kind = -1
        self.key: tuple[Any, ...] = ()
        self.cache: dict[str, bool] = {}
        self.no: set[str] = set()


class Matcher:
    """Event-driven matcher seeing every queue every agent serves.

    Every method that can create offers returns them. With ``auto_accept=True`` (the
    simulator) offers are accepted at once and come back already accepted.
    """

    def __init__(self, rules: RuleSet, *, auto_accept: bool = False) -> None:
        self.rules_by_version: dict[str, RuleSet] = {}
        self.rules = rules
        self._lanes: dict[Interaction, _Lane] = {}  # arrive_accept: template -> lane
        self.load_rules(rules)
        self.auto_accept = auto_accept
        self.agents: dict[str, Agent] = {}
        self._idx: dict[str, int] = {}
        self._next_no = 0
        self._slots: dict[str, tuple[tuple[str, int, bool, dict[str, Agent]], ...]] = {}
        self._single: dict[str, tuple[str, int, dict[str, Agent]] | None] = {}
        self._avail: dict[str, dict[str, Agent]] = {"call": {}, "chat": {}, "email": {}}
        self._waiting: dict[str, _Wait] = {}
        self._groups: dict[tuple[Any, ...], list[tuple[SortKey, int, _Wait]]] = {}
        self._timers: list[tuple[float, int, int, str, int]] = []  # (t, seq, kind, id, token)
        self._offers: dict[str, Offer] = {}
        self._active: dict[str, tuple[Agent, str]] = {}  # interaction id -> (agent, channel)
        self._rr: dict[str, int] = {}
        self._elig: dict[tuple[Any, ...], dict[str, bool]] = {}
        self._no: dict[tuple[Any, ...], set[str]] = {}  # per group: agents known ineligible
        self._declined: dict[str, set[str]] = {}  # offered interaction -> agents who declined
        self._seq = 0
        self.decisions = 0

    # -- configuration ------------------------------------------------------------------
    def load_rules(self, rules: RuleSet) -> None:
        """Make ``rules`` current; interactions already queued keep their version."""
        self.rules_by_version[rules.version] = rules
        self.rules = rules
        self._lanes = {}

    def add_agent(self, agent: Agent) -> None:
        if agent.id in self.agents:
            raise RouterError(f"agent {agent.id} added twice")
        self.agents[agent.id] = agent
        self._idx[agent.id] = self._next_no  # "added first" wins ties
        self._next_no += 1
        self._set_slots(agent)
        self._reindex(agent)

    def update_agent(
        self,
        agent_id: str,
        now: float,
        *,
        skills: dict[str, int] | None = None,
        languages: Iterable[str] | None = None,
        clients: Iterable[str] | None = None,
        capacity: dict[str, int] | None = None,
        team: str | None = None,
        site: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> list[Offer]:
        """Change an agent's static attributes while the matcher runs.

        Only the given attributes change (``skills`` replaces the whole proficiency map;
        ``capacity`` is merged into the current one). Contacts in hand are not touched, even
        when they no longer fit the new skills or capacity; memoised rule results for the
        agent are dropped, and a ready agent with room may be offered waiting work at once.
        Bad values raise :class:`RouterError` and change nothing.
        """
        agent = self.agent(agent_id)
        new_capacity = dict(agent.capacity)
        if capacity is not None:
            new_capacity.update(capacity)
        # validate with the same checks as a new agent; nothing changes on error
        probe = Agent(
            agent.id,
            skills=dict(agent.skills if skills is None else skills),
            languages=tuple(agent.languages if languages is None else languages),
            clients=tuple(agent.clients if clients is None else clients),
            capacity=new_capacity,
            team=agent.team if team is None else team,
            site=agent.site if site is None else site,
            attributes=dict(agent.attributes if attributes is None else attributes),
        )
        agent.skills = probe.skills
        agent.languages = probe.languages
        agent.clients = probe.clients
        agent.capacity = probe.capacity
        agent.team = probe.team
        agent.site = probe.site
        agent.attributes = probe.attributes
        agent._view = None
        self._forget_eligibility(agent_id)
        for pool in self._avail.values():
            pool.pop(agent_id, None)
        self._set_slots(agent)
        self._reindex(agent)
        if agent.state is AgentState.READY and self._groups:
            return self._serve_agent(agent, now)
        return []

    def remove_agent(self, agent_id: str, now: float) -> list[Offer]:
        """Take an agent out of routing for good (deleted, or moved out of this matcher).

        It gets nothing new. Its open offers are withdrawn (the interactions keep their
        place in line, no missed offer is counted) and may go to other agents at once: the
        returned offers. Contacts it is handling stay until :meth:`complete` /
        :meth:`end_wrap_up`. The same id may be added again later as a new agent.
        """
        agent = self.agent(agent_id)
        agent.state = AgentState.LOGGED_OUT
        agent.reason = "removed"
        for pool in self._avail.values():
            pool.pop(agent_id, None)
        del self.agents[agent_id]
        del self._slots[agent_id]
        del self._single[agent_id]
        self._forget_eligibility(agent_id)
        out: list[Offer] = []
        for iid in [i for i, o in self._offers.items() if o.agent is agent]:
            offer = self._offers.pop(iid)
            agent.offered -= 1
            agent.load[offer.interaction.channel] -= 1
            w = self._requeue(offer.interaction, now)
            previous = self._declined.pop(iid, None)
            if previous:
                w.declined = previous
            out.extend(self._place(w, now))
        return out

    def _set_slots(self, agent: Agent) -> None:
        slots = self._slots[agent.id] = tuple(
            (ch, cap, ch in BLOCKING_CHANNELS, self._avail[ch])
            for ch, cap in agent.capacity.items() if cap > 0
        )
        # an agent with capacity on one channel only is available while load < capacity
        self._single[agent.id] = (
            (slots[0][0], slots[0][1], slots[0][3]) if len(slots) == 1 else None
        )

    def _forget_eligibility(self, agent_id: str) -> None:
        for cache in self._elig.values():
            cache.pop(agent_id, None)
        for no in self._no.values():
            no.discard(agent_id)

    # -- queries ------------------------------------------------------------------------
    @property
    def waiting_count(self) -> int:
        return len(self._waiting)

    def is_waiting(self, interaction_id: str) -> bool:
        return interaction_id in self._waiting

    def waiting(self) -> list[Interaction]:
        return [w.ix for w in self._waiting.values()]

    def offers(self) -> list[Offer]:
        return list(self._offers.values())

    def offer_of(self, interaction_id: str) -> Offer | None:
        """The open (not yet accepted) offer of an interaction, if any."""
        return self._offers.get(interaction_id)

    def next_deadline(self) -> float | None:
        timers = self._timers
        while timers and not self._timer_live(timers[0]):
            heapq.heappop(timers)
        return timers[0][0] if timers else None

    # -- agent presence -------------------------------------------------------------------
    def agent(self, agent_id: str) -> Agent:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise RouterError(f"unknown agent {agent_id!r}") from None

    def set_ready(self, agent_id: str, now: float) -> list[Offer]:
        agent = self.agent(agent_id)
        agent.state = AgentState.READY
        agent.reason = ""
        agent.missed_offers = 0
        self._refresh(agent)
        return self._serve_agent(agent, now)

    def set_not_ready(self, agent_id: str, now: float, reason: str = "") -> None:
        agent = self.agent(agent_id)
        agent.state = AgentState.NOT_READY
        agent.reason = reason
        self._refresh(agent)

    def logout(self, agent_id: str, now: float) -> None:
        agent = self.agent(agent_id)
        agent.state = AgentState.LOGGED_OUT
        agent.reason = ""
        self._refresh(agent)

    def new_day(self) -> None:
        for agent in self.agents.values():
            agent.contacts_today = 0

    # -- interactions ---------------------------------------------------------------------
    def enqueue(self, ix: Interaction, now: float) -> list[Offer]:
        iid = ix.id
        if iid in self._waiting or iid in self._offers or iid in self._active:
            raise RouterError(f"interaction {iid} enqueued twice")
        version = ix.rule_version
        if version is None:
            version = ix.rule_version = self.rules.version
        rules = self.rules_by_version.get(version)
        if rules is None:
            raise RouterError(f"interaction {iid}: unknown rule version {version!r}")
        schedule = rules.plan(ix.queue).schedule(ix)
        key: tuple[Any, ...] | None = None
        if len(schedule) == 1:
            # one step, so no time-outs: with an agent free at once nothing needs to wait
            step = schedule[0][0]
            pool = self._avail[ix.channel]
            if pool:
                if step.simple:
                    agent = self._longest_idle(pool, ix.client, _NO_DECLINED)
                else:
                    if step.target is not None:
                        key = _key_of(ix, step, version)
                    agent = self._best_agent(ix, step, _NO_DECLINED, key)
                if agent is not None:
                    return [self._make_offer(ix, rules, step, agent, now, _NO_DECLINED)]
            self._seq += 1
            w = _Wait(ix, rules, schedule, self._seq)
            self._waiting[iid] = w
            w.token += 1
            self._file(w, step, key)
            return []
        self._seq += 1
        w = _Wait(ix, rules, schedule, self._seq)
        wait = now - ix.enqueue_time
        while w.pos + 1 < len(schedule) and wait >= schedule[w.pos + 1][1]:
            w.pos += 1
        self._waiting[iid] = w
        return self._place(w, now)

    def cancel(self, interaction_id: str, now: float) -> bool:
        """The customer left (abandon). True when it was still waiting or offered."""
        w = self._waiting.pop(interaction_id, None)
        if w is not None:
            w.token += 1
            return True
        offer = self._offers.pop(interaction_id, None)
        if offer is not None:
            self._declined.pop(interaction_id, None)
            offer.agent.offered -= 1
            self._release(offer.agent, offer.interaction.channel)
            return True
        return False

    def accept(self, interaction_id: str, now: float) -> None:
        offer = self._offers.pop(interaction_id, None)
        if offer is None:
            raise RouterError(f"no open offer for interaction {interaction_id}")
        self._accepted(offer)

    def decline(self, interaction_id: str, now: float, *, missed: bool = True) -> list[Offer]:
        """The agent declined or let the offer time out; the interaction keeps its place."""
        offer = self._offers.pop(interaction_id, None)
        if offer is None:
            raise RouterError(f"no open offer for interaction {interaction_id}")
        agent = offer.agent
        agent.offered -= 1
        agent.load[offer.interaction.channel] -= 1
        if missed:
            agent.missed_offers += 1
            if agent.missed_offers >= offer.max_missed:
                agent.state = AgentState.NOT_READY
                agent.reason = "missed offers"
        self._refresh(agent)
        w = self._requeue(offer.interaction, now)
        previous = self._declined.pop(interaction_id, None)
        if previous:
            w.declined = previous
        w.add_declined(agent.id)
        out = self._place(w, now)
        out.extend(self._serve_agent(agent, now))
        return out

    def complete(self, interaction_id: str, now: float, *, wrap_up: bool = False) -> list[Offer]:
        """Handling ended; with ``wrap_up`` the slot stays used until :meth:`end_wrap_up`."""
        try:
            agent, channel = self._active[interaction_id]
        except KeyError:
            raise RouterError(f"interaction {interaction_id} is not being handled") from None
        agent.contacts_today += 1
        if wrap_up:
            agent.acw_pending += 1
            self._refresh(agent)
            return []
        del self._active[interaction_id]
        agent.last_contact_end = now
        load = agent.load
        load[channel] -= 1
        if agent.state is not AgentState.READY:
            self._reindex(agent)
            return []
        single = self._single[agent.id]
        if single is not None and len(load) == 1 and single[0] == channel:
            if load[channel] < single[1]:
                single[2][agent.id] = agent
        else:
            self._reindex(agent)
        if self._groups:
            return self._serve_agent(agent, now)
        return []

    def end_wrap_up(self, interaction_id: str, now: float) -> list[Offer]:
        agent, channel = self._active_of(interaction_id)
        del self._active[interaction_id]
        agent.acw_pending -= 1
        agent.last_contact_end = now
        return self._release(agent, channel, now)

    # -- auto-accept lane ------------------------------------------------------------------
    # The simulator accepts every offer at once (``auto_accept=True``), so it needs no Offer
    # objects: these make exactly the decisions and state changes of enqueue() / complete()
    # and report assignments as the agent, or as (interaction, agent) pairs.
    def arrive_accept(self, like: Interaction, iid: str, now: float, vip: bool = False,
                      tag: int = -1) -> Agent | None:
        """:meth:`enqueue` of a new contact like ``like`` with auto-accept.

        The contact is ``like`` with another id, ``enqueue_time=now``, ``vip`` and ``tag``
        (a simulator's arrivals: one template per queue). Returns the agent that took it at
        once, or None when it waits. The same decisions and state changes as
        ``enqueue(copy, now)``, but the Interaction is only built when the contact has to
        wait (an answered contact is known by its id, as in :meth:`complete`).
        """
        lane = self._lanes.get(like)
        if lane is None:
            lane = self._new_lane(like)
        if lane.kind < 0:  # several steps, or a target over the interaction: enqueue()
            offers = self.enqueue(copy_for(like, iid, now, vip, tag), now)
            return offers[0].agent if offers else None
        if iid in self._waiting or iid in self._active:
            raise RouterError(f"interaction {iid} enqueued twice")
        # one step, no time-out, the current rules: what enqueue() does, inlined
        ix: Interaction | None = None
        pool = lane.pool
        agent: Agent | None = None
        if pool:
            idx = self._idx
            best_end = 0.0
            best_aid = ""
            client = lane.client
            if lane.kind == 0 and not client:  # no target, longest idle (_longest_idle)
                for aid, cand in pool.items():
                    end = cand.last_contact_end
                    if agent is None or end < best_end or (end == best_end
                                                            and idx[aid] < idx[best_aid]):
                        agent, best_end, best_aid = cand, end, aid
            elif lane.kind == 0:
                for aid, cand in pool.items():
                    if client not in cand.clients:
                        continue
                    end = cand.last_contact_end
                    if agent is None or end < best_end or (end == best_end
                                                            and idx[aid] < idx[best_aid]):
                        agent, best_end, best_aid = cand, end, aid
            else:  # a memoised target over the agent only, longest idle (as _best_agent)
                cache = lane.cache
                no = lane.no
                target = lane.step.target
                assert target is not None
                # a few agents: look at each; many: skip the known-ineligible ones in C
                cands = (pool.items() if len(pool) <= 16
                         else [(aid, pool[aid]) for aid in pool.keys() - no])
                for aid, cand in cands:
                    if aid in no:
                        continue  # every False in the memo is in ``no`` as well
                    if aid not in cache:
                        if client and client not in cand.clients:
                            ok = False
                        else:
                            if ix is None:
                                ix = copy_for(like, iid, now, vip, tag)
                            ok = target(cand.view(), ix.view())
                        cache[aid] = ok
                        if not ok:
                            no.add(aid)
                            continue
                    end = cand.last_contact_end
                    if agent is None or end < best_end or (end == best_end
                                                            and idx[aid] < idx[best_aid]):
                        agent, best_end, best_aid = cand, end, aid
            if agent is not None:
                # as _take
                self.decisions += 1
                channel = lane.channel
                load = agent.load
                busy = load[channel] = load.get(channel, 0) + 1
                agent.missed_offers = 0
                self._active[iid] = (agent, channel)
                single = self._single[best_aid]
                if single is not None and len(load) == 1 and single[0] == channel:
                    if busy >= single[1]:
                        single[2].pop(best_aid, None)
                else:
                    self._reindex(agent)
                return agent
        # no agent now: wait in the group (as _file)
        if ix is None:
            ix = copy_for(like, iid, now, vip, tag)
        ix.rule_version = lane.version
        self._seq += 1
        w = _Wait(ix, lane.rules, lane.schedule, self._seq)
        self._waiting[iid] = w
        w.token = 1
        key = lane.key
        w.group = key
        prio = ix.priority + lane.boost + (lane.vip_boost if vip else 0)
        heap = self._groups.get(key)
        if heap is None:
            heap = self._groups[key] = []
        heapq.heappush(heap, ((-prio, ix.place_time, w.seq), 1, w))
        return None

    def _new_lane(self, like: Interaction) -> _Lane:
        """What arrive_accept needs to know about a template, computed once per rule set."""
        if not self.auto_accept:
            raise RouterError("arrive_accept needs auto_accept=True")
        rules = self.rules
        schedule = rules.plan(like.queue).schedule(like)
        lane = _Lane(rules, schedule, like.channel, like.client, self._avail[like.channel])
        if like.rule_version is None and len(schedule) == 1:
            step = schedule[0][0]
            target = step.target
            if step.simple or (target is not None and not target.interaction_fields
                               and step.strategy == "longest_idle"
                               and not step.preferred_agent):
                lane.kind = 0 if step.simple else 1
                # the group every such contact waits in (the target reads no interaction
                # field, so the key is the same for all of them)
                key = lane.key = _key_of(like, step, rules.version)
                if target is not None:
                    lane.cache = self._elig.setdefault(key, {})
                    lane.no = self._no.setdefault(key, set())
        self._lanes[like] = lane
        return lane

    def complete_accept(self, interaction_id: str, now: float
                        ) -> list[tuple[Interaction, Agent]]:
        """:meth:`complete` (no wrap-up) with auto-accept: (interaction, agent) assigned."""
        if not self.auto_accept:
            raise RouterError("complete_accept needs auto_accept=True")
        try:
            agent, channel = self._active.pop(interaction_id)
        except KeyError:
            raise RouterError(f"interaction {interaction_id} is not being handled") from None
        agent.contacts_today += 1
        agent.last_contact_end = now
        load = agent.load
        busy = load[channel] = load[channel] - 1
        if agent.state is not _READY:
            self._reindex(agent)
            return _NO_PAIRS
        aid = agent.id
        single = self._single[aid]
        if single is not None and len(load) == 1 and single[0] == channel:
            if busy < single[1]:
                single[2][aid] = agent
        else:
            self._reindex(agent)
        if not self._groups:
            return _NO_PAIRS
        out: list[tuple[Interaction, Agent]] = []
        slots = self._slots[aid]
        groups = self._groups
        while groups:
            w = self._best_waiting(agent)
            if w is None:
                break
            ix = w.ix
            del self._waiting[ix.id]
            w.token += 1
            # w heads its group (no declines with auto-accept): drop it now, not lazily
            gkey = w.group
            if gkey is not None:
                heap = groups.get(gkey)
                if heap is not None and heap[0][2] is w:
                    heapq.heappop(heap)
                    if not heap:
                        del groups[gkey]
            step = w.schedule[w.pos][0]
            out.append((ix, agent))
            # as _take
            self.decisions += 1
            if step.strategy == "round_robin":
                self._rr[step.queue] = self._idx[aid]
            channel = ix.channel
            load[channel] = load.get(channel, 0) + 1
            agent.missed_offers = 0
            self._active[ix.id] = (agent, channel)
            if single is not None and len(load) == 1 and single[0] == channel:
                if load[channel] >= single[1]:
                    single[2].pop(aid, None)
                    break  # no room left
            else:
                self._reindex(agent)
                if not any(aid in slot[3] for slot in slots):
                    break  # no room left on any channel
        return out

    def advance(self, now: float) -> list[Offer]:
        """Apply every step time-out and offer time-out due at or before ``now``."""
        out: list[Offer] = []
        timers = self._timers
        while timers and timers[0][0] <= now:
            t, _, kind, key, token = heapq.heappop(timers)
            if kind == 0:
                w = self._waiting.get(key)
                if w is None or w.token != token:
                    continue
                w.pos += 1
                out.extend(self._place(w, t))
            else:
                offer = self._offers.get(key)
                if offer is None or offer.token != token:
                    continue
                out.extend(self.decline(key, t))
        return out

    # -- internals ----------------------------------------------------------------------
    def _timer_live(self, timer: tuple[float, int, int, str, int]) -> bool:
        _, _, kind, key, token = timer
        if kind == 0:
            w = self._waiting.get(key)
            return w is not None and w.token == token
        offer = self._offers.get(key)
        return offer is not None and offer.token == token

    def _active_of(self, interaction_id: str) -> tuple[Agent, str]:
        try:
            return self._active[interaction_id]
        except KeyError:
            raise RouterError(f"interaction {interaction_id} is not being handled") from None

    def _refresh(self, agent: Agent) -> None:
        self._reindex(agent)

    def _reindex(self, agent: Agent) -> None:
        aid = agent.id
        if agent.state is not AgentState.READY:
            if self.agents.get(aid) is agent:  # not a removed agent finishing its work
                for _, _, _, pool in self._slots[aid]:
                    pool.pop(aid, None)
            return
        slots = self._slots[aid]
        load = agent.load
        if len(load) == 1 and len(slots) == 1 and slots[0][0] in load:  # the common case
            ch, cap, _, pool = slots[0]
            if load[ch] < cap:
                pool[aid] = agent
            else:
                pool.pop(aid, None)
            return
        total = 0
        blocking = 0
        for ch, n in load.items():
            total += n
            if ch in BLOCKING_CHANNELS:
                blocking += n
        for ch, cap, is_blocking, pool in slots:
            n = load.get(ch, 0)
            if cap > n and ((total == n) if is_blocking else (blocking == 0)):
                pool[aid] = agent
            else:
                pool.pop(aid, None)

    def _release(self, agent: Agent, channel: str, now: float | None = None) -> list[Offer]:
        agent.load[channel] -= 1
        self._reindex(agent)
        if now is None or not self._groups or agent.state is not AgentState.READY:
            return []
        return self._serve_agent(agent, now)

    def _requeue(self, ix: Interaction, now: float) -> _Wait:
        assert ix.rule_version is not None
        rules = self.rules_by_version[ix.rule_version]
        schedule = rules.plan(ix.queue).schedule(ix)
        self._seq += 1
        w = _Wait(ix, rules, schedule, self._seq)
        wait = now - ix.enqueue_time
        while w.pos + 1 < len(schedule) and wait >= schedule[w.pos + 1][1]:
            w.pos += 1
        self._waiting[ix.id] = w
        return w

    def _place(self, w: _Wait, now: float) -> list[Offer]:
        """Offer ``w`` to the best available agent, or file it in its group and wait."""
        w.token += 1
        schedule = w.schedule
        pos = w.pos
        step = schedule[pos][0]
        ix = w.ix
        # step time-out
        if pos + 1 < len(schedule):
            due = ix.enqueue_time + schedule[pos + 1][1]
            self._seq += 1
            heapq.heappush(self._timers, (due, self._seq, 0, ix.id, w.token))
        key: tuple[Any, ...] | None = None
        if self._avail[ix.channel]:
            if step.target is not None:
                key = _group_key(w)
            agent = self._best_agent(ix, step, w.declined, key)
            if agent is not None:
                return [self._offer(w, agent, now)]
        self._file(w, step, key)
        return []

    def _file(self, w: _Wait, step: Step, key: tuple[Any, ...] | None) -> None:
        """No agent now: ``w`` waits in its group (same queue, step and target inputs)."""
        if key is None:
            key = _group_key(w)
        w.group = key
        ix = w.ix
        sort_key: SortKey = (-effective_priority(ix, step, w.rules), ix.place_time, w.seq)
        heapq.heappush(self._groups.setdefault(key, []), (sort_key, w.token, w))

    def _eligibility_cache(self, key: tuple[Any, ...], step: Step) -> dict[str, bool] | None:
        """Per-group memo of target results: a group fixes every input the target reads."""
        if step.target is None or "*" in step.target.interaction_fields:
            return None
        cache = self._elig.get(key)
        if cache is None:
            cache = self._elig[key] = {}
        return cache

    def _best_agent(self, ix: Interaction, step: Step, declined: set[str],
                    gkey: tuple[Any, ...] | None) -> Agent | None:
        pool = self._avail[ix.channel]
        if not pool:
            return None
        strategy = step.strategy
        client = ix.client
        if step.simple:
            return self._longest_idle(pool, client, declined)
        if step.preferred_agent:
            cand = pool.get(ix.preferred_agent)
            if cand is None or cand.id in declined or not _client_ok(cand, ix):
                return None
            return cand if step.eligible(cand, ix) else None
        target = step.target
        ixv: dict[str, Any] | None = None
        idx = self._idx
        if target is not None and gkey is not None and "*" not in target.interaction_fields:
            # Memoised: the group fixes the client and every input the target reads. Agents
            # known to be ineligible are skipped by one set difference (in C), so the scan
            # is over the agents that may qualify, not over every available agent. Keys are
            # unique (they end with the agent's number): the scan order does not matter.
            cache = self._elig.get(gkey)
            if cache is None:
                cache = self._elig[gkey] = {}
            no = self._no.get(gkey)
            if no is None:
                no = self._no[gkey] = set()
            found: Agent | None = None
            found_key: Any = None
            best_end = 0.0
            best_no = 0
            rr = -1 if strategy == "longest_idle" else self._rr.get(step.queue, -1)
            n = self._next_no
            for aid in (pool.keys() - no) if no else pool.keys():
                agent = pool[aid]
                if declined and aid in declined:
                    continue
                ok = cache.get(aid)
                if ok is None:
                    if client and client not in agent.clients:
                        ok = False
                    else:
                        if ixv is None:
                            ixv = ix.view()
                        ok = target(agent.view(), ixv)
                    cache[aid] = ok
                    if not ok:
                        no.add(aid)
                if not ok:
                    continue
                if strategy == "longest_idle":
                    end = agent.last_contact_end
                    if found is None or end < best_end or (
                            end == best_end and idx[aid] < best_no):
                        found, best_end, best_no = agent, end, idx[aid]
                    continue
                key_: Any = _agent_key(strategy, agent, ix, idx[aid], rr, n)
                if found_key is None or key_ < found_key:
                    found, found_key = agent, key_
            return found
        cache = self._eligibility_cache(gkey, step) if gkey is not None else None
        best = None
        best_key: Any = None
        rr = self._rr.get(step.queue, -1)
        n = self._next_no
        for agent in pool.values():
            if client and client not in agent.clients:
                continue
            if declined and agent.id in declined:
                continue
            if target is not None:
                ok = cache.get(agent.id) if cache is not None else None
                if ok is None:
                    if ixv is None:
                        ixv = ix.view()
                    ok = target(agent.view(), ixv)
                    if cache is not None:
                        cache[agent.id] = ok
                if not ok:
                    continue
            if strategy == "longest_idle":
                key: Any = (agent.last_contact_end, self._idx[agent.id])
            else:
                key = _agent_key(strategy, agent, ix, self._idx[agent.id], rr, n)
            if best_key is None or key < best_key:
                best, best_key = agent, key
        return best

    def _longest_idle(self, pool: dict[str, Agent], client: str, declined: set[str]
                      ) -> Agent | None:
        """The common case: any available agent of the client, longest idle first."""
        idx = self._idx
        best: Agent | None = None
        best_end = 0.0
        best_no = 0
        for aid, agent in pool.items():
            if client and client not in agent.clients:
                continue
            if declined and aid in declined:
                continue
            end = agent.last_contact_end
            if best is None or end < best_end or (end == best_end and idx[aid] < best_no):
                best, best_end, best_no = agent, end, idx[aid]
        return best

    def _offer(self, w: _Wait, agent: Agent, now: float) -> Offer:
        ix = w.ix
        del self._waiting[ix.id]
        w.token += 1
        return self._make_offer(ix, w.rules, w.schedule[w.pos][0], agent, now, w.declined)

    def _make_offer(self, ix: Interaction, rules: RuleSet, step: Step, agent: Agent,
                    now: float, declined: set[str]) -> Offer:
        """Reserve ``agent``'s capacity for ``ix`` (no longer waiting) and offer it."""
        auto = self.auto_accept
        offer = Offer(ix, agent, now, now + rules.accept_timeout, step, rules.max_missed_offers,
                      auto)
        if auto:
            self._take(ix, step, agent)
            return offer
        iid = ix.id
        self.decisions += 1
        if step.strategy == "round_robin":
            self._rr[step.queue] = self._idx[agent.id]
        channel = ix.channel
        load = agent.load
        load[channel] = load.get(channel, 0) + 1
        if declined:
            self._declined[iid] = declined
        agent.offered += 1
        self._offers[iid] = offer
        self._seq += 1
        offer.token = self._seq
        heapq.heappush(self._timers, (offer.expires, self._seq, 1, iid, offer.token))
        self._reindex(agent)
        return offer

    def _take(self, ix: Interaction, step: Step, agent: Agent) -> None:
        """Auto-accept: ``agent`` takes ``ix`` at once (no offer to track or time out)."""
        self.decisions += 1
        if step.strategy == "round_robin":
            self._rr[step.queue] = self._idx[agent.id]
        channel = ix.channel
        load = agent.load
        load[channel] = load.get(channel, 0) + 1
        agent.missed_offers = 0
        self._active[ix.id] = (agent, channel)
        single = self._single[agent.id]
        if single is not None and len(load) == 1 and single[0] == channel:
            if load[channel] >= single[1]:
                single[2].pop(agent.id, None)
        else:
            self._reindex(agent)

    def _accepted(self, offer: Offer) -> None:
        self._declined.pop(offer.interaction.id, None)
        if not self.auto_accept:
            offer.agent.offered -= 1
        offer.accepted = True
        offer.agent.missed_offers = 0
        self._active[offer.interaction.id] = (offer.agent, offer.interaction.channel)

    def _serve_agent(self, agent: Agent, now: float) -> list[Offer]:
        """An agent has room: give it the best waiting interaction it may take, repeatedly."""
        out: list[Offer] = []
        aid = agent.id
        slots = self._slots[aid]
        while agent.state is AgentState.READY and self._groups:
            w = self._best_waiting(agent)
            if w is None:
                break
            out.append(self._offer(w, agent, now))
            if not any(aid in slot[3] for slot in slots):
                break  # no room left on any channel
        return out

    def _best_waiting(self, agent: Agent) -> _Wait | None:
        best: _Wait | None = None
        best_key: SortKey | None = None
        empty: list[tuple[Any, ...]] | None = None
        avail = self._avail
        elig = self._elig
        aid = agent.id
        view: dict[str, Any] | None = None
        clients = agent.clients
        pop = heapq.heappop
        nos = self._no
        for key, heap in self._groups.items():
            no = nos.get(key)
            if no is not None and aid in no:
                continue  # known not to match this group's target (or client)
            # drop stale heads (abandoned, offered, moved to another step)
            while heap and heap[0][2].token != heap[0][1]:
                pop(heap)
            if not heap:
                if empty is None:
                    empty = []
                empty.append(key)
                continue
            sort_key, _, w = heap[0]
            if best_key is not None and sort_key >= best_key:
                continue
            _, _, _, channel, client, pref, _ = key
            if aid not in avail[channel] or (client and client not in clients):
                continue
            if pref and pref != aid:
                continue
            target = w.schedule[w.pos][0].target
            if target is not None:
                # memoised per group unless the target reads the whole interaction
                cache = None if "*" in target.interaction_fields else elig.get(key)
                ok = cache.get(aid) if cache is not None else None
                if ok is None:
                    if view is None:
                        view = agent.view()
                    ok = target(view, w.ix.view())
                    if "*" not in target.interaction_fields:
                        if cache is None:
                            cache = elig[key] = {}
                        cache[aid] = ok
                        if not ok:
                            if no is None:
                                no = nos[key] = set()
                            no.add(aid)
                if not ok:
                    continue
            if w.declined and aid in w.declined:
                cand = self._first_not_declined(heap, agent)
                if cand is None:
                    continue
                sort_key, w = cand
                if best_key is not None and sort_key >= best_key:
                    continue
            best, best_key = w, sort_key
        if empty is not None:
            for key in empty:
                del self._groups[key]
        return best

    @staticmethod
    def _first_not_declined(
        heap: list[tuple[SortKey, int, _Wait]], agent: Agent
    ) -> tuple[SortKey, _Wait] | None:
        for sort_key, token, w in sorted(heap, key=lambda e: e[0]):
            if w.token == token and agent.id not in w.declined:
                return sort_key, w
        return None
