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
objects, and without an Interaction unless one is asked for.

Available agents sit in one pool per channel, in the order they became available; while
that order is the longest-idle order (tracked per pool), the auto-accept lane's
longest-idle choice is the first eligible agent of the pool instead of a scan.

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

#: a group's heap entry: (-effective priority, place in line, arrival order, token, wait);
#: flat, so comparing two entries compares floats and ints only (the arrival order is
#: unique, so a comparison never reaches the wait)
Entry = tuple[int, float, int, int, "_Wait"]
#: Agent._solo: an agent with capacity on one channel only is available while its load is
#: below the capacity: (channel, capacity, the channel's pool, the pool's order)
_Solo = tuple[str, int, dict[str, Agent], "_Order"]


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
    """A waiting interaction: its rule schedule, current step and heap token.

    A contact of the auto-accept lane waits without an Interaction (``_ix`` is None and
    ``src`` says how to make it): most are taken by the next freed agent and never need
    one. :attr:`ix` makes it on first use.
    """

    __slots__ = ("_ix", "declined", "group", "iid", "pos", "rules", "schedule", "seq", "src",
                 "tag", "token")

    def __init__(
        self, ix: Interaction, rules: RuleSet, schedule: list[tuple[Step, float]], seq: int
    ) -> None:
        self._ix: Interaction | None = ix
        self.iid = ix.id
        self.tag = ix.tag
        self.src: tuple[Interaction, float, bool, str] | None = None
        self.rules = rules
        self.schedule = schedule
        self.seq = seq
        self.pos = 0
        self.token = 0
        self.group: _Group | None = None
        self.declined: set[str] = _NO_DECLINED

    @property
    def ix(self) -> Interaction:
        ix = self._ix
        if ix is None:
            assert self.src is not None
            like, now, vip, version = self.src
            ix = self._ix = copy_for(like, self.iid, now, vip, self.tag)
            ix.rule_version = version
        return ix

    @property
    def step(self) -> Step:
        return self.schedule[self.pos][0]

    def add_declined(self, agent_id: str) -> None:
        if self.declined is _NO_DECLINED:
            self.declined = set()
        self.declined.add(agent_id)


class _Group:
    """Interactions waiting with the same queue, step and target inputs.

    ``heap`` orders them by (effective priority, place in line, arrival). ``cache`` /
    ``no`` are the group's memo of target results (the same objects as the matcher's
    ``_elig`` / ``_no`` entries for the key; None when the target is not memoised), kept
    here so that a freed agent looking at the groups hashes no key.
    """

    __slots__ = ("cache", "channel", "client", "heap", "key", "no", "pref")

    def __init__(self, key: tuple[Any, ...],
                 memo: tuple[dict[str, bool], set[str]] | None) -> None:
        self.key = key
        self.heap: list[Entry] = []
        _, _, _, self.channel, self.client, self.pref, _ = key
        self.cache: dict[str, bool] | None = None
        self.no: set[str] | None = None
        if memo is not None:
            self.cache, self.no = memo


_NO_DECLINED: set[str] = set()  # shared and never written: see _Wait.add_declined
_NO_PAIRS: list[tuple[int, Agent]] = []  # shared and never written
_READY = AgentState.READY
_new = object.__new__


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


class _Order:
    """Whether a channel's pool of available agents is in longest-idle order.

    A pool is a dict, so it keeps the order agents became available in. Agents mostly
    become available as they finish a contact, that is in the order of
    ``(last_contact_end, number)`` that longest idle ranks by; then the first eligible
    agent of the pool is the longest idle one and a choice needs no scan. ``ok`` says the
    pool is in that order. ``end`` and the number of agent ``aid`` are the key of the agent
    added last: no smaller than any key in the pool while ``ok`` (the number is looked up
    only on a tie of times). An agent added out of order, or one whose
    ``last_contact_end`` changes while it is in the pool, clears ``ok`` until the pool is
    empty again. Only the matcher may change ``last_contact_end`` of its agents.
    """

    __slots__ = ("aid", "end", "ok")

    def __init__(self) -> None:
        self.ok = True
        self.end = float("-inf")
        self.aid = ""


class _Lane:
    """arrive_accept's view of one template under the current rules (see _new_lane)."""

    __slots__ = ("cache", "channel", "client", "group", "key", "kind", "mode", "no", "order",
                 "place", "pool", "prio", "prio_vip", "rules", "schedule", "step", "version")

    def __init__(self, rules: RuleSet, schedule: list[tuple[Step, float]], like: Interaction,
                 pool: dict[str, Agent], order: _Order) -> None:
        self.rules = rules
        self.version = rules.version
        self.schedule = schedule
        self.step = schedule[0][0]
        # the first part of the sort key in the group (effective_priority, negated)
        self.prio = -(like.priority + self.step.priority_boost)
        self.prio_vip = self.prio - rules.vip_boost
        # place in line: the arrival time, or a fixed time for callbacks (place_time)
        self.place = (like.original_enqueue_time if like.callback_keeps_place else None)
        self.channel = like.channel
        self.client = like.client
        self.pool = pool
        self.order = order
        #: 0 no target and longest idle, 1 a memoised target that reads no interaction
        #: field and longest idle, -1 anything else (use enqueue)
        self.kind = -1
        self.mode = 0
        self.group: _Group  # set for kind >= 0: the group its contacts wait in
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
        self._other_lanes: dict[Interaction, _Lane] = {}  # templates that take enqueue()
        self.load_rules(rules)
        self.auto_accept = auto_accept
        self.agents: dict[str, Agent] = {}
        self._idx: dict[str, int] = {}
        self._next_no = 0
        self._slots: dict[str, tuple[tuple[str, int, bool, dict[str, Agent], _Order], ...]] = {}
        self._avail: dict[str, dict[str, Agent]] = {"call": {}, "chat": {}, "email": {}}
        self._order = {ch: _Order() for ch in self._avail}
        self._waiting: dict[str, _Wait] = {}
        self._groups: dict[tuple[Any, ...], _Group] = {}  # groups with waiting interactions
        self._kept: dict[tuple[Any, ...], _Group] = {}  # the lanes' groups, kept when empty
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
        self._other_lanes = {}

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
        agent._solo = None
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
            (ch, cap, ch in BLOCKING_CHANNELS, self._avail[ch], self._order[ch])
            for ch, cap in agent.capacity.items() if cap > 0
        )
        # An agent with capacity on one channel only, with no load on another, is available
        # while its load is below the capacity. It is only ever given contacts of that
        # channel (from its pool), so its load stays on that channel while _solo is set:
        # the hot paths need not check.
        ch = slots[0][0] if len(slots) == 1 else ""
        agent._solo = (
            (ch, slots[0][1], slots[0][3], slots[0][4])
            if ch and all(c == ch for c in agent.load) else None
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
        self._set_end(agent, now)
        agent.load[channel] -= 1
        self._reindex(agent)
        if self._groups and agent.state is AgentState.READY:
            return self._serve_agent(agent, now)
        return []

    def end_wrap_up(self, interaction_id: str, now: float) -> list[Offer]:
        agent, channel = self._active_of(interaction_id)
        del self._active[interaction_id]
        agent.acw_pending -= 1
        self._set_end(agent, now)
        return self._release(agent, channel, now)

    # -- auto-accept lane ------------------------------------------------------------------
    # The simulator accepts every offer at once (``auto_accept=True``), so it needs no Offer
    # objects: these make exactly the decisions and state changes of enqueue() / complete()
    # and report assignments as the agent, or as (tag, agent) pairs.
    def arrive_accept(self, like: Interaction, iid: str, now: float, vip: bool = False,
                      tag: int = -1) -> Agent | None:
        """:meth:`enqueue` of a new contact like ``like`` with auto-accept.

        The contact is ``like`` with another id, ``enqueue_time=now``, ``vip`` and ``tag``
        (a simulator's arrivals: one template per queue). Returns the agent that took it at
        once, or None when it waits. The same decisions and state changes as
        ``enqueue(copy, now)``, but no Interaction is built: an answered contact is known by
        its id (as in :meth:`complete`), a waiting one gets its Interaction only if someone
        asks for it (:meth:`waiting`, a target that reads it).

        With the pool of the channel in longest-idle order (see ``_Order``), the agent is
        the first eligible one of the pool; otherwise the pool is scanned.
        """
        lane = self._lanes.get(like)
        if lane is None:
            lane = self._other_lanes.get(like) or self._new_lane(like)
            if lane.kind < 0:  # several steps, or a target over the interaction: enqueue()
                offers = self.enqueue(copy_for(like, iid, now, vip, tag), now)
                return offers[0].agent if offers else None
        if iid in self._waiting or iid in self._active:
            raise RouterError(f"interaction {iid} enqueued twice")
        # one step, no time-out, the current rules: what enqueue() does, inlined
        pool = lane.pool
        if pool:
            agent: Agent | None
            if lane.order.ok:
                # the pool is in longest-idle order: the first eligible agent is the one
                mode = lane.mode
                # (iterating the keys costs a third of iterating the items)
                if not mode:  # any agent
                    for aid in pool:  # noqa: B007 - the first one
                        break
                    agent = pool[aid]
                elif mode == 1:  # any agent of the client
                    client = lane.client
                    for aid in pool:
                        agent = pool[aid]
                        if client in agent.clients:
                            break
                    else:
                        agent = None
                else:  # the memoised target
                    no = lane.no
                    cache = lane.cache
                    for aid in pool:
                        if aid in no:
                            continue  # every False in the memo is in ``no`` as well
                        agent = pool[aid]
                        if aid in cache or self._lane_eligible(lane, aid, agent, like):
                            break
                    else:
                        agent = None
            else:
                agent = self._lane_scan(lane, like)
                aid = "" if agent is None else agent.id
            if agent is not None:
                # as _take
                self.decisions += 1
                channel = lane.channel
                load = agent.load
                try:
                    busy = load[channel] = load[channel] + 1
                except KeyError:
                    busy = load[channel] = 1
                agent.missed_offers = 0
                self._active[iid] = (agent, channel)
                single: _Solo | None = agent._solo
                if single is not None:  # (its channel is the lane's: it was in the pool)
                    if busy >= single[1]:
                        del pool[aid]
                else:
                    self._reindex(agent)
                return agent
        # no agent now: wait in the group (as _Wait() and _file), no Interaction yet
        w: _Wait = _new(_Wait)
        w._ix = None
        w.src = (like, now, vip, lane.version)
        w.iid = iid
        w.tag = tag
        w.rules = lane.rules
        w.schedule = lane.schedule
        seq = self._seq = self._seq + 1
        w.seq = seq
        w.pos = 0
        w.token = 1
        w.declined = _NO_DECLINED
        self._waiting[iid] = w
        group = w.group = lane.group
        heap = group.heap
        if not heap:  # (again) the group of its key: one per key, see _new_group
            self._groups[lane.key] = group
        place = now if lane.place is None else lane.place
        heapq.heappush(heap, (lane.prio_vip if vip else lane.prio, place, seq, 1, w))
        return None

    def _lane_eligible(self, lane: _Lane, aid: str, agent: Agent, like: Interaction) -> bool:
        """The lane's target for an agent not in its memo yet (the memo keeps it)."""
        target = lane.step.target
        assert target is not None
        client = lane.client
        if client and client not in agent.clients:
            ok = False
        else:
            # the target reads no interaction field: any contact of the lane will do
            ok = bool(target(agent.view(), like.view()))
        lane.cache[aid] = ok
        if not ok:
            lane.no.add(aid)
        return ok

    def _lane_scan(self, lane: _Lane, like: Interaction) -> Agent | None:
        """The longest-idle eligible agent of a lane's pool when the pool is out of order."""
        pool = lane.pool
        idx = self._idx
        agent: Agent | None = None
        best_end = 0.0
        best_no = 0
        client = lane.client
        if lane.kind == 0:
            for aid, cand in pool.items():
                if client and client not in cand.clients:
                    continue
                end = cand.last_contact_end
                if agent is None or end < best_end or (end == best_end and idx[aid] < best_no):
                    agent, best_end, best_no = cand, end, idx[aid]
            return agent
        cache = lane.cache
        no = lane.no
        # a few agents: look at each; many: skip the known-ineligible ones in C
        cands = (pool.items() if len(pool) <= 16
                 else [(aid, pool[aid]) for aid in pool.keys() - no])
        for aid, cand in cands:
            if aid in no:
                continue  # every False in the memo is in ``no`` as well
            if aid not in cache and not self._lane_eligible(lane, aid, cand, like):
                continue
            end = cand.last_contact_end
            if agent is None or end < best_end or (end == best_end and idx[aid] < best_no):
                agent, best_end, best_no = cand, end, idx[aid]
        return agent

    def _new_lane(self, like: Interaction) -> _Lane:
        """What arrive_accept needs to know about a template, computed once per rule set."""
        if not self.auto_accept:
            raise RouterError("arrive_accept needs auto_accept=True")
        rules = self.rules
        schedule = rules.plan(like.queue).schedule(like)
        lane = _Lane(rules, schedule, like, self._avail[like.channel],
                     self._order[like.channel])
        if like.rule_version is None and len(schedule) == 1:
            step = schedule[0][0]
            target = step.target
            if step.simple or (target is not None and not target.interaction_fields
                               and step.strategy == "longest_idle"
                               and not step.preferred_agent):
                lane.kind = 0 if step.simple else 1
                # how arrive_accept picks from a pool in longest-idle order: the first
                # agent (0), the first of the client (1), the first the target accepts (2)
                lane.mode = 2 if lane.kind else (1 if like.client else 0)
                # the group every such contact waits in (the target reads no interaction
                # field, so the key is the same for all of them)
                key = lane.key = _key_of(like, step, rules.version)
                if target is not None:
                    lane.cache = self._elig.setdefault(key, {})
                    lane.no = self._no.setdefault(key, set())
                group = self._groups.get(key) or self._kept.get(key)
                if group is None:
                    memo = None if target is None else (lane.cache, lane.no)
                    group = _Group(key, memo)
                lane.group = self._kept[key] = group
        (self._lanes if lane.kind >= 0 else self._other_lanes)[like] = lane
        return lane

    def complete_accept(self, interaction_id: str, now: float) -> list[tuple[int, Agent]]:
        """:meth:`complete` (no wrap-up) with auto-accept.

        Returns (tag, agent) for each waiting contact the freed agent took, ``tag`` being
        the interaction's (or ``arrive_accept``'s) tag.
        """
        if not self.auto_accept:
            raise RouterError("complete_accept needs auto_accept=True")
        try:
            agent, channel = self._active.pop(interaction_id)
        except KeyError:
            raise RouterError(f"interaction {interaction_id} is not being handled") from None
        agent.contacts_today += 1
        load = agent.load
        busy = load[channel] = load[channel] - 1
        aid = agent.id
        single: _Solo | None = agent._solo if agent.state is _READY else None
        if single is None:
            self._set_end(agent, now)
            self._reindex(agent)
            if agent.state is not _READY or not self._groups:
                return _NO_PAIRS
            return self._serve_accept(agent, now, [])
        # a ready agent on one channel (the common case): _set_end, _reindex and
        # _serve_agent inlined; a waiting contact it takes at once spares the pool
        agent.last_contact_end = now
        pool = single[2]
        if aid in pool:  # had room already: its place in the order changes
            single[3].ok = False
        elif busy < single[1]:
            groups = self._groups
            if groups:
                w = self._best_waiting(agent, channel)
                if w is None:  # nothing it may take: available (as below)
                    self._add(pool, single[3], aid, agent)
                    return _NO_PAIRS
                # the same steps as in _serve_accept's loop, inlined: this runs once per completion
                iid = w.iid
                del self._waiting[iid]
                w.token += 1
                # w heads its group (no declines with auto-accept): drop it now, not lazily
                group = w.group
                if group is not None:
                    heap = group.heap
                    if heap and heap[0][4] is w:
                        heapq.heappop(heap)
                        if not heap and groups.get(group.key) is group:
                            del groups[group.key]
                # as _take
                self.decisions += 1
                step = w.schedule[w.pos][0]
                if step.strategy == "round_robin":
                    self._rr[step.queue] = self._idx[aid]
                load[channel] = busy + 1
                agent.missed_offers = 0
                self._active[iid] = (agent, channel)
                if busy + 1 >= single[1]:
                    return [(w.tag, agent)]
                self._add(pool, single[3], aid, agent)  # room for more
                return self._serve_accept(agent, now, [(w.tag, agent)])
            # as _add
            order = single[3]
            if not pool:
                order.ok = True
                order.end = now
                order.aid = aid
            elif order.ok:
                if now > order.end:
                    order.end = now
                    order.aid = aid
                elif now == order.end and self._idx[aid] > self._idx[order.aid]:
                    order.aid = aid
                else:
                    order.ok = False
            pool[aid] = agent
            return _NO_PAIRS
        if not self._groups:
            return _NO_PAIRS
        return self._serve_accept(agent, now, [])

    def _serve_accept(self, agent: Agent, now: float, out: list[tuple[int, Agent]]
                      ) -> list[tuple[int, Agent]]:
        """_serve_agent with auto-accept for an available agent: appends to ``out``."""
        aid = agent.id
        load = agent.load
        single: _Solo | None = agent._solo
        slots = self._slots[aid]
        groups = self._groups
        while groups:
            w = self._best_waiting(agent)
            if w is None:
                break
            iid = w.iid
            del self._waiting[iid]
            w.token += 1
            # w heads its group (no declines with auto-accept): drop it now, not lazily
            group = w.group
            if group is not None:
                heap = group.heap
                if heap and heap[0][4] is w:
                    heapq.heappop(heap)
                    if not heap and groups.get(group.key) is group:
                        del groups[group.key]
            step = w.schedule[w.pos][0]
            out.append((w.tag, agent))
            # as _take
            self.decisions += 1
            if step.strategy == "round_robin":
                self._rr[step.queue] = self._idx[aid]
            channel = w.ix.channel
            load[channel] = load.get(channel, 0) + 1
            agent.missed_offers = 0
            self._active[iid] = (agent, channel)
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
                for _, _, _, pool, _ in self._slots[aid]:
                    pool.pop(aid, None)
            return
        slots = self._slots[aid]
        load = agent.load
        if len(load) == 1 and len(slots) == 1 and slots[0][0] in load:  # the common case
            ch, cap, _, pool, order = slots[0]
            if load[ch] < cap:
                if aid not in pool:
                    self._add(pool, order, aid, agent)
            else:
                pool.pop(aid, None)
            return
        total = 0
        blocking = 0
        for ch, n in load.items():
            total += n
            if ch in BLOCKING_CHANNELS:
                blocking += n
        for ch, cap, is_blocking, pool, order in slots:
            n = load.get(ch, 0)
            if cap > n and ((total == n) if is_blocking else (blocking == 0)):
                if aid not in pool:
                    self._add(pool, order, aid, agent)
            else:
                pool.pop(aid, None)

    def _add(self, pool: dict[str, Agent], order: _Order, aid: str, agent: Agent) -> None:
        """Make ``agent`` (not in ``pool``) available, keeping track of the pool's order."""
        end = agent.last_contact_end
        if not pool:
            order.ok = True
            order.end = end
            order.aid = aid
        elif order.ok:
            if end > order.end or (end == order.end
                                   and self._idx[aid] > self._idx[order.aid]):
                order.end = end
                order.aid = aid
            else:
                order.ok = False
        pool[aid] = agent

    def _set_end(self, agent: Agent, now: float) -> None:
        """``agent.last_contact_end = now``; a pool the agent is in may lose its order."""
        agent.last_contact_end = now
        aid = agent.id
        for _, _, _, pool, order in self._slots.get(aid, ()):
            if aid in pool:
                order.ok = False

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
        group = w.group = self._groups.get(key) or self._new_group(key, step)
        ix = w.ix
        heapq.heappush(group.heap, (-effective_priority(ix, step, w.rules), ix.place_time,
                                    w.seq, w.token, w))

    def _new_group(self, key: tuple[Any, ...], step: Step) -> _Group:
        """The group for ``key`` (none waits in it now), sharing the key's memo.

        A lane's group is made once and kept (the lane files into it directly), so a key
        never has two groups.
        """
        group = self._kept.get(key)
        if group is None:
            memo: tuple[dict[str, bool], set[str]] | None = None
            if step.target is not None and "*" not in step.target.interaction_fields:
                memo = (self._elig.setdefault(key, {}), self._no.setdefault(key, set()))
            group = _Group(key, memo)
        self._groups[key] = group
        return group

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
        single: _Solo | None = agent._solo
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

    def _best_waiting(self, agent: Agent, room: str = "") -> _Wait | None:
        """The waiting interaction ``agent`` should take next, if any.

        An agent is considered for the channels it is available on, or with ``room`` for
        that channel only (an agent on one channel with room, not yet in the pool).
        """
        best: _Wait | None = None
        best_key: Entry | None = None
        empty: list[_Group] | None = None
        aid = agent.id
        view: dict[str, Any] | None = None
        for group in self._groups.values():
            no = group.no
            if no is not None and aid in no:
                continue  # known not to match this group's target (or client)
            heap = group.heap
            # drop stale heads (abandoned, offered, moved to another step)
            while heap and heap[0][4].token != heap[0][3]:
                heapq.heappop(heap)
            if not heap:
                if empty is None:
                    empty = []
                empty.append(group)
                continue
            sort_key = heap[0]
            w = sort_key[4]
            if best_key is not None and sort_key >= best_key:
                continue
            if group.channel != room if room else aid not in self._avail[group.channel]:
                continue
            if group.client and group.client not in agent.clients:
                continue
            if group.pref and group.pref != aid:
                continue
            cache = group.cache
            if cache is not None:  # memoised: the group fixes what the target reads
                ok = cache.get(aid)
                if ok is None:
                    target = w.schedule[w.pos][0].target
                    assert target is not None and no is not None
                    if view is None:
                        view = agent.view()
                    ok = cache[aid] = bool(target(view, w.ix.view()))
                    if not ok:
                        no.add(aid)
                if not ok:
                    continue
            else:
                target = w.schedule[w.pos][0].target
                if target is not None:  # reads the whole interaction: not memoised
                    if view is None:
                        view = agent.view()
                    if not target(view, w.ix.view()):
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
            for group in empty:
                del self._groups[group.key]
        return best

    @staticmethod
    def _first_not_declined(heap: list[Entry], agent: Agent) -> tuple[Entry, _Wait] | None:
        for entry in sorted(heap, key=lambda e: e[:3]):
            w = entry[4]
            if w.token == entry[3] and agent.id not in w.declined:
                return entry, w
        return None
