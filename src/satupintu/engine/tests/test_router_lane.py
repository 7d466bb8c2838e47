"""The auto-accept lane (arrive_accept / complete_accept) and the simulator's loop on it
decide exactly like enqueue / complete and the general event loop."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satupintu.engine.router import (
    Agent,
    AgentState,
    Interaction,
    Matcher,
    RouterError,
    RuleSet,
)
from satupintu.engine.simulate import des, mmc_scenario, run_once, scenario_from_dict

RULES = RuleSet.from_dict(
    {
        "version": "lane",
        "vip_boost": 2,
        "queues": {
            "plain": {"steps": [{}]},  # no target: the lane's first kind
            "skill": {"steps": [{"target": "agent.skills['s1'] >= 3"}]},  # agent-only target
            "mixed": {"steps": [{"target": "interaction.language in agent.languages"}]},
            "ring": {
                "steps": [{"target": "'s0' in agent.skills", "timeout": 10}, {}],
            },
            "fewest": {"strategy": "fewest_contacts",
                       "steps": [{"target": "'s0' in agent.skills"}]},
            "talk": {"steps": [{}]},  # chats: agents stay available with room left
            "mail": {"steps": [{"target": "'s0' in agent.skills"}]},
        },
    }
)
QUEUES = {  # queue -> (channel, client, priority)
    "plain": ("call", "", 0),
    "skill": ("call", "c0", 1),
    "mixed": ("chat", "c1", 0),
    "ring": ("chat", "", 2),
    "fewest": ("email", "c0", 0),
    "talk": ("chat", "", 0),
    "mail": ("email", "c1", 1),
}

agent_st = st.fixed_dictionaries(
    {
        "skills": st.dictionaries(st.sampled_from(["s0", "s1"]), st.integers(1, 5), max_size=2),
        "languages": st.lists(st.sampled_from(["id", "en"]), max_size=2, unique=True),
        "clients": st.lists(st.sampled_from(["c0", "c1"]), max_size=2, unique=True),
        "call": st.sampled_from([0, 1, 1]),
        "chat": st.integers(0, 3),
        "email": st.integers(0, 2),
    }
)
op_st = st.one_of(
    st.tuples(st.just("arrive"), st.sampled_from(sorted(QUEUES)), st.booleans(),
              st.sampled_from(["id", "en"])),
    st.tuples(st.just("complete"), st.integers(0, 1000)),
    st.tuples(st.just("cancel"), st.integers(0, 1000)),
    st.tuples(st.just("pause"), st.integers(0, 10)),
    st.tuples(st.just("ready"), st.integers(0, 10)),
)


def _pairs(offers: list[Any]) -> list[tuple[str, str]]:
    return [(o.interaction.id, o.agent.id) for o in offers]


@settings(max_examples=120, deadline=None)
@given(agents=st.lists(agent_st, min_size=1, max_size=6),
       ops=st.lists(op_st, min_size=1, max_size=80))
def test_lane_assigns_like_enqueue_and_complete(
    agents: list[dict[str, Any]], ops: list[tuple[Any, ...]]
) -> None:
    plain, lane = Matcher(RULES, auto_accept=True), Matcher(RULES, auto_accept=True)
    for m in (plain, lane):
        for k, a in enumerate(agents):
            m.add_agent(Agent(f"a{k}", skills=dict(a["skills"]), languages=a["languages"],
                              clients=a["clients"], capacity={
                                  "call": a["call"], "chat": a["chat"], "email": a["email"]}))
            m.set_ready(f"a{k}", 0.0)
    templates: dict[tuple[str, str], Interaction] = {}
    active: list[str] = []
    waiting: list[str] = []
    now = 0.0
    for n, op in enumerate(ops):
        now += 1.0
        if op[0] == "arrive":
            _, queue, vip, language = op
            channel, client, priority = QUEUES[queue]
            iid = f"i{n}"
            got_plain = _pairs(plain.enqueue(Interaction(
                iid, queue, channel, client, {}, language, priority, vip, now, tag=n), now))
            like = templates.setdefault((queue, language), Interaction(
                "", queue, channel, client, {}, language, priority))
            agent = lane.arrive_accept(like, iid, now, vip, n)
            got_lane = [] if agent is None else [(iid, agent.id)]
            (waiting if agent is None else active).append(iid)
        elif op[0] == "complete":
            if not active:
                continue
            iid = active.pop(op[1] % len(active))
            got_plain = _pairs(plain.complete(iid, now))
            got_lane = [(f"i{k}", a.id) for k, a in lane.complete_accept(iid, now)]
        elif op[0] == "cancel":
            if not waiting:
                continue
            iid = waiting.pop(op[1] % len(waiting))
            assert plain.cancel(iid, now) == lane.cancel(iid, now)
            continue
        else:
            aid = f"a{op[1] % len(agents)}"
            if op[0] == "pause":
                plain.set_not_ready(aid, now, "break")
                lane.set_not_ready(aid, now, "break")
                continue
            got_plain = _pairs(plain.set_ready(aid, now))
            got_lane = _pairs(lane.set_ready(aid, now))
        assert got_lane == got_plain
        for iid, _ in got_lane:
            if iid in waiting:
                waiting.remove(iid)
                active.append(iid)
        # step time-outs of the two-step queue apply alike
        got_plain = _pairs(plain.advance(now))
        got_lane = _pairs(lane.advance(now))
        assert got_lane == got_plain
        for iid, _ in got_lane:
            if iid in waiting:
                waiting.remove(iid)
                active.append(iid)
        assert plain.decisions == lane.decisions
        assert sorted(w.id for w in plain.waiting()) == sorted(w.id for w in lane.waiting())


def test_lane_takes_the_longest_idle_agent() -> None:
    m = Matcher(RULES, auto_accept=True)
    for k in range(4):
        m.add_agent(Agent(f"a{k}", skills={"s1": 3}, clients=("c0",),
                          capacity={"call": 1, "chat": 0, "email": 0}))
        m.set_ready(f"a{k}", 0.0)
    plain, skill = Interaction("", "plain"), Interaction("", "skill", client="c0")
    for k in range(4):
        assert m.arrive_accept(plain if k % 2 else skill, f"i{k}", 1.0) is m.agents[f"a{k}"]
    for k, t in ((2, 5.0), (0, 6.0), (3, 7.0)):
        assert m.complete_accept(f"i{k}", t) == []
    assert m.arrive_accept(plain, "x", 8.0) is m.agents["a2"]
    assert m.arrive_accept(skill, "y", 8.0) is m.agents["a0"]
    assert m.decisions == 6


def test_lane_needs_auto_accept_and_refuses_duplicates() -> None:
    m = Matcher(RULES)
    like = Interaction("", "plain")
    with pytest.raises(RouterError, match="auto_accept"):
        m.arrive_accept(like, "x", 0.0)
    m = Matcher(RULES, auto_accept=True)
    m.add_agent(Agent("a", capacity={"call": 1, "chat": 0, "email": 0}))
    m.set_ready("a", 0.0)
    assert m.arrive_accept(like, "x", 0.0) is m.agents["a"]
    with pytest.raises(RouterError, match="enqueued twice"):
        m.arrive_accept(like, "x", 1.0)
    assert m.arrive_accept(like, "y", 1.0) is None  # waits
    with pytest.raises(RouterError, match="enqueued twice"):
        m.arrive_accept(like, "y", 1.0)
    with pytest.raises(RouterError, match="not being handled"):
        m.complete_accept("nope", 2.0)
    [(tag, agent)] = m.complete_accept("x", 2.0)
    assert (tag, agent.id) == (-1, "a")


def _network() -> Any:
    return scenario_from_dict({
        "name": "net", "interval": 1800, "intervals": 2,
        "rules": {"version": "n", "vip_boost": 1, "queues": {
            f"n{k}": {"steps": [{"target": f"'n{k}' in agent.skills"}]} for k in range(3)}},
        "queues": [{"name": f"n{k}", "client": "c" if k else "", "skills": {f"n{k}": 1},
                    "arrivals": 150, "vip_share": 0.2, "priority": k % 2,
                    "patience": {"dist": "exponential", "mean": 90}, "acw": 5 * k,
                    "handle_time": {"dist": "exponential", "mean": 40}} for k in range(3)],
        "agents": [
            {"group": "g0", "count": 2, "skills": {"n0": 3, "n1": 2}, "clients": ["c"]},
            {"group": "g1", "count": 2, "skills": {"n1": 3}, "clients": ["c"],
             "shifts": [{"start": "00:10", "end": "00:50", "breaks": [["00:20", "00:25"]]}]},
            {"group": "g2", "count": 1, "skills": {"n2": 3, "n0": 1}, "clients": ["c"]},
        ],
    })


def _chats_and_shifts() -> Any:
    """test_simulate's day (chat concurrency, shifts, breaks, wrap-up), one step per queue."""
    from satupintu.engine.tests.test_simulate import base

    data = copy.deepcopy(base())
    data["rules"]["queues"]["sales"]["steps"] = [{"target": "'sales' in agent.skills"}]
    for q in data["queues"]:
        q["arrivals"] = [3 * x for x in q["arrivals"]] if isinstance(q["arrivals"], list) \
            else 3 * q["arrivals"]
    return scenario_from_dict(data)


@pytest.mark.parametrize("make", [
    lambda: mmc_scenario(arrival_rate=12 / 300, aht_s=300, agents=15, customers=4000),
    lambda: mmc_scenario(arrival_rate=12 / 300, aht_s=300, agents=13, customers=4000,
                         patience_s=60),
    _network,
    _chats_and_shifts,
])
def test_accepting_loop_equals_the_general_loop(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = make()
    fast = run_once(sc, 5)
    monkeypatch.setattr(des, "_ACCEPTING_LOOP", False)
    slow = run_once(sc, 5)
    assert fast.events == slow.events
    assert np.array_equal(fast.outcome, slow.outcome)
    assert np.array_equal(fast.agent, slow.agent)
    assert np.array_equal(fast.wait, slow.wait, equal_nan=True)
    assert np.array_equal(fast.weight, slow.weight)
    assert (fast.outcome == 2).any() or sc.queues[0].patience.kind == "none"


# -- the pools' longest-idle order (_Order) --------------------------------------------------
def _check_order(m: Matcher) -> None:
    """Each pool holds exactly the ready agents with room on its channel (a call blocks
    everything else); where the matcher says a pool is in longest-idle order, it is, and
    its tail key is an upper bound of the keys in the pool (what the first-eligible pick
    relies on)."""
    for ch, pool in m._avail.items():
        room = set()
        for aid, a in m.agents.items():
            n = a.load.get(ch, 0)
            total = sum(a.load.values())
            blocking = sum(v for c, v in a.load.items() if c == "call")
            if (a.state is AgentState.READY and a.capacity.get(ch, 0) > n
                    and (total == n if ch == "call" else blocking == 0)):
                room.add(aid)
        assert set(pool) == room, (ch, sorted(pool), sorted(room))
        assert all(pool[aid] is m.agents[aid] for aid in pool)
    for ch, pool in m._avail.items():
        order = m._order[ch]
        if not order.ok or not pool:
            continue
        keys = [(a.last_contact_end, m._idx[aid]) for aid, a in pool.items()]
        assert keys == sorted(keys), (ch, keys)
        assert keys[-1] <= (order.end, m._idx[order.aid])


def _longest_idle_oracle(m: Matcher, queue: str, channel: str, client: str) -> str | None:
    """Brute force: the eligible available agent with the smallest (end, number)."""
    step = RULES.plan(queue).steps[0]
    probe = Interaction("probe", queue, channel, client)
    best: tuple[float, int] | None = None
    found = None
    for aid, agent in m._avail[channel].items():
        if client and client not in agent.clients:
            continue
        if step.target is not None and not step.target(agent.view(), probe.view()):
            continue
        key = (agent.last_contact_end, m._idx[aid])
        if best is None or key < best:
            best, found = key, aid
    return found


order_op_st = st.one_of(
    st.tuples(st.just("arrive"), st.sampled_from(["plain", "skill", "talk", "mail"]),
              st.booleans()),
    st.tuples(st.just("complete"), st.integers(0, 1000), st.booleans()),
    st.tuples(st.just("wrap"), st.integers(0, 1000)),
    st.tuples(st.just("end_wrap"), st.integers(0, 1000)),
    st.tuples(st.just("cancel"), st.integers(0, 1000)),
    st.tuples(st.just("pause"), st.integers(0, 10)),
    st.tuples(st.just("ready"), st.integers(0, 10)),
    st.tuples(st.just("update"), st.integers(0, 10), st.integers(1, 5), st.integers(0, 2)),
    st.tuples(st.just("remove"), st.integers(0, 10)),
    st.tuples(st.just("add"), st.integers(0, 3)),
)


@settings(max_examples=150, deadline=None)
@given(agents=st.lists(agent_st, min_size=1, max_size=6),
       ops=st.lists(order_op_st, min_size=1, max_size=80),
       steps=st.lists(st.sampled_from([0.0, 0.0, 1.0, 2.5]), min_size=80, max_size=80))
def test_pool_order_is_kept_and_the_lane_takes_the_longest_idle(
    agents: list[dict[str, Any]], ops: list[tuple[Any, ...]], steps: list[float]
) -> None:
    """Random arrivals, completions (equal times too), wrap-ups, breaks, skill and capacity
    changes, removals and re-adds: the order flag never lies, and every lane arrival takes
    the agent a brute-force longest-idle search over the eligible available agents finds."""
    m = Matcher(RULES, auto_accept=True)

    def make(k: int, a: dict[str, Any]) -> Agent:
        return Agent(f"a{k}", skills=dict(a["skills"]), languages=a["languages"],
                     clients=a["clients"],
                     capacity={"call": a["call"], "chat": a["chat"], "email": a["email"]})

    for k, a in enumerate(agents):
        m.add_agent(make(k, a))
        m.set_ready(f"a{k}", 0.0)
    templates = {q: Interaction("", q, *QUEUES[q][:2], priority=QUEUES[q][2])
                 for q in ("plain", "skill", "talk", "mail")}
    active: list[str] = []
    wrapping: list[str] = []
    waiting: list[str] = []
    now = 0.0
    for n, op in enumerate(ops):
        now += steps[n]
        kind = op[0]
        if kind == "arrive":
            queue = op[1]
            channel, client, _ = QUEUES[queue]
            expect = _longest_idle_oracle(m, queue, channel, client)
            agent = m.arrive_accept(templates[queue], f"i{n}", now, op[2], n)
            assert (None if agent is None else agent.id) == expect
            (waiting if agent is None else active).append(f"i{n}")
        elif kind in ("complete", "wrap") and active:
            iid = active.pop(op[1] % len(active))
            if kind == "wrap":
                m.complete(iid, now, wrap_up=True)
                wrapping.append(iid)
            elif op[2]:
                for k, _ in m.complete_accept(iid, now):
                    waiting.remove(f"i{k}")
                    active.append(f"i{k}")
            else:
                for o in m.complete(iid, now):
                    waiting.remove(o.interaction.id)
                    active.append(o.interaction.id)
        elif kind == "end_wrap" and wrapping:
            iid = wrapping.pop(op[1] % len(wrapping))
            for o in m.end_wrap_up(iid, now):
                waiting.remove(o.interaction.id)
                active.append(o.interaction.id)
        elif kind == "cancel" and waiting:
            assert m.cancel(waiting.pop(op[1] % len(waiting)), now)
        elif kind in ("pause", "ready", "update", "remove"):
            aid = f"a{op[1] % len(agents)}"
            if aid not in m.agents:
                continue
            if kind == "pause":
                m.set_not_ready(aid, now, "break")
                offers: list[Any] = []
            elif kind == "ready":
                offers = m.set_ready(aid, now)
            elif kind == "update":
                offers = m.update_agent(aid, now, skills={"s1": op[2]},
                                        capacity={"chat": op[3]})
            else:
                offers = m.remove_agent(aid, now)
            for o in offers:
                waiting.remove(o.interaction.id)
                active.append(o.interaction.id)
        elif kind == "add":
            aid = f"a{op[1] % len(agents)}"
            if aid in m.agents:
                continue
            m.add_agent(make(op[1] % len(agents), agents[op[1] % len(agents)]))
            for o in m.set_ready(aid, now):
                waiting.remove(o.interaction.id)
                active.append(o.interaction.id)
        _check_order(m)
        assert sorted(w.id for w in m.waiting()) == sorted(waiting)
        # nobody waits while an agent who may take it is idle (one-step queues)
        for w in m._waiting.values():
            ix = w.ix
            for idle in m._avail[ix.channel].values():
                assert not ((not ix.client or ix.client in idle.clients)
                            and w.step.eligible(idle, ix)), (ix.id, idle.id)


def test_an_agent_back_from_a_break_is_longest_idle() -> None:
    """Back from a break an agent keeps its last contact's end: the pool is out of order
    then, and the lane scans instead of taking the first agent."""
    m = Matcher(RULES, auto_accept=True)
    for k in range(3):
        m.add_agent(Agent(f"a{k}", capacity={"call": 1, "chat": 0, "email": 0}))
        m.set_ready(f"a{k}", 0.0)
    plain = Interaction("", "plain")
    taken = [m.arrive_accept(plain, f"i{k}", 1.0) for k in range(3)]
    assert taken == [m.agents["a0"], m.agents["a1"], m.agents["a2"]]
    m.complete_accept("i2", 2.0)  # a2 idle since 2
    m.set_not_ready("a2", 3.0, "break")
    m.complete_accept("i0", 4.0)
    m.complete_accept("i1", 5.0)
    assert m._order["call"].ok
    m.set_ready("a2", 6.0)  # added last, idle longest
    assert not m._order["call"].ok
    assert list(m._avail["call"]) == ["a0", "a1", "a2"]
    assert m.arrive_accept(plain, "x", 7.0) is m.agents["a2"]
    assert m.arrive_accept(plain, "y", 7.0) is m.agents["a0"]
    assert m.arrive_accept(plain, "z", 7.0) is m.agents["a1"]
    assert m._avail["call"] == {}
    m.complete_accept("x", 8.0)
    assert m._order["call"].ok  # an empty pool starts in order again


def test_a_waiting_lane_contact_gets_its_interaction_when_asked() -> None:
    """A lane contact waits without an Interaction; asked for, it is the one enqueue()
    would have kept (same id, time, VIP flag, tag and rule version)."""
    m = Matcher(RULES, auto_accept=True)
    m.add_agent(Agent("a", skills={"s1": 3}, clients=("c0",),
                      capacity={"call": 1, "chat": 0, "email": 0}))
    m.set_ready("a", 0.0)
    like = Interaction("", "skill", client="c0", priority=1, attributes={"k": "v"})
    assert m.arrive_accept(like, "first", 1.0) is m.agents["a"]
    assert m.arrive_accept(like, "vip", 2.0, True, 7) is None
    assert m.arrive_accept(like, "plain", 1.5, False, 8) is None
    w = m._waiting["vip"]
    assert w._ix is None
    [ix] = [i for i in m.waiting() if i.id == "vip"]
    assert (ix.queue, ix.client, ix.priority, ix.enqueue_time, ix.vip, ix.tag) == (
        "skill", "c0", 1, 2.0, True, 7)
    assert ix.rule_version == RULES.version and ix.attributes == {"k": "v"}
    assert ix.place_time == 2.0 and w.ix is ix
    # the VIP boost puts it ahead of the earlier plain contact
    assert m.complete_accept("first", 3.0) == [(7, m.agents["a"])]


@pytest.mark.parametrize("finish", ["complete_accept", "complete", "wrap_up"])
def test_a_chat_agent_that_stays_available_loses_its_place(finish: str) -> None:
    """An agent with chats to spare stays in the pool while it works; when a chat ends its
    idle time changes, so the first agent of the pool is no longer the longest idle."""
    m = Matcher(RULES, auto_accept=True)
    for k in range(2):
        m.add_agent(Agent(f"c{k}", capacity={"call": 0, "chat": 2, "email": 0}))
        m.set_ready(f"c{k}", 0.0)
    talk = Interaction("", "talk", "chat")
    assert m.arrive_accept(talk, "i1", 1.0) is m.agents["c0"]  # (-inf, 0) < (-inf, 1)
    assert list(m._avail["chat"]) == ["c0", "c1"]
    if finish == "complete_accept":
        assert m.complete_accept("i1", 3.0) == []
    elif finish == "complete":
        assert m.complete("i1", 3.0) == []
    else:
        m.complete("i1", 3.0, wrap_up=True)
        assert m.end_wrap_up("i1", 3.0) == []
    assert not m._order["chat"].ok
    assert m.arrive_accept(talk, "i2", 4.0) is m.agents["c1"]


@settings(max_examples=40, deadline=None)
@given(rates=st.lists(st.lists(st.floats(0.0, 40.0), min_size=3, max_size=3),
                      min_size=1, max_size=4),
       seed=st.integers(0, 2**32 - 1))
def test_arrivals_are_drawn_and_ordered_as_one_stable_sort(
    rates: list[list[float]], seed: int
) -> None:
    """Arrivals sorted per queue and merged equal the plain construction: every queue's
    draws in turn, then one stable sort of all the times (equal times: queue order)."""
    sc = scenario_from_dict({
        "name": "arrivals", "interval": 600, "intervals": 3,
        "rules": {"version": "a", "queues": {f"q{j}": {"steps": [{}]}
                                             for j in range(len(rates))}},
        "queues": [{"name": f"q{j}", "arrivals": r,
                    "handle_time": {"dist": "exponential", "mean": 60}}
                   for j, r in enumerate(rates)],
        "agents": [{"group": "g", "count": 1}],
    })
    got = des.generate_contacts(sc, np.random.default_rng(seed))
    rng = np.random.default_rng(seed)
    times, queues = [], []
    for j, r in enumerate(rates):
        counts = rng.poisson(np.asarray(r, dtype=np.float64))
        starts = np.repeat(np.arange(3) * 600.0, counts)
        times.append(starts + rng.random(starts.size) * 600.0)
        queues.append(np.full(starts.size, j))
    t = np.concatenate(times)
    order = np.argsort(t, kind="stable")
    assert np.array_equal(got["time"], t[order])
    assert np.array_equal(got["queue"], np.concatenate(queues)[order])


def test_an_agent_moved_to_another_channel_mid_call_serves_the_queue() -> None:
    """Moved to chats while on a call, an agent is not "on one channel" until the call
    ends: ending it frees the agent for the chats, and it takes the one waiting."""
    m = Matcher(RULES, auto_accept=True)
    m.add_agent(Agent("a", capacity={"call": 1, "chat": 0, "email": 0}))
    m.set_ready("a", 0.0)
    assert m.arrive_accept(Interaction("", "plain"), "call", 1.0) is m.agents["a"]
    assert m.update_agent("a", 2.0, capacity={"call": 0, "chat": 2}) == []
    talk = Interaction("", "talk", "chat")
    assert m.arrive_accept(talk, "chat", 3.0, False, 9) is None  # busy on the call
    assert m.complete_accept("call", 4.0) == [(9, m.agents["a"])]
    assert m.agents["a"].load == {"call": 0, "chat": 1}
    _check_order(m)


scenario_st = st.fixed_dictionaries({
    "queues": st.lists(st.fixed_dictionaries({
        "target": st.booleans(), "client": st.booleans(), "chat": st.booleans(),
        "arrivals": st.integers(5, 60), "priority": st.integers(0, 1),
        "vip": st.sampled_from([0.0, 0.3]), "patience": st.sampled_from([None, 60, 400]),
        "acw": st.sampled_from([0, 0, 10]), "aht": st.sampled_from([40, 120, 300]),
    }), min_size=1, max_size=3),
    "groups": st.lists(st.fixed_dictionaries({
        "count": st.integers(1, 4), "skills": st.lists(st.integers(0, 2), max_size=3),
        "client": st.booleans(), "chat": st.integers(0, 3), "call": st.sampled_from([0, 1]),
        "shift": st.booleans(),
    }), min_size=1, max_size=3),
})


@settings(max_examples=40, deadline=None)
@given(spec=scenario_st, seed=st.integers(0, 10_000))
def test_random_scenarios_run_alike_on_both_loops(spec: dict[str, Any], seed: int) -> None:
    """Random queues (targets, clients, chats, VIPs, priorities, patience, wrap-up) and
    agent groups (skills, clients, chat capacity, shifts with breaks): the loop on the
    auto-accept lane gives every contact the same agent, outcome, wait and share as the
    general loop on enqueue() / complete()."""
    queues = spec["queues"]
    # one agent who can take anything, so that no queue waits forever (refused)
    groups = [*spec["groups"], {"count": 1, "skills": [0, 1, 2], "client": True, "chat": 2,
                                "call": 1, "shift": False}]
    sc = scenario_from_dict({
        "name": "random", "interval": 600, "intervals": 2,
        "rules": {"version": "r", "vip_boost": 1, "queues": {
            f"q{j}": {"steps": [{"target": f"'s{j}' in agent.skills"} if q["target"] else {}]}
            for j, q in enumerate(queues)}},
        "queues": [{
            "name": f"q{j}", "channel": "chat" if q["chat"] else "call",
            "client": "c" if q["client"] else "", "skills": {f"s{j}": 1},
            "arrivals": q["arrivals"], "priority": q["priority"], "vip_share": q["vip"],
            "handle_time": {"dist": "exponential", "mean": q["aht"]}, "acw": q["acw"],
            **({"patience": {"dist": "exponential", "mean": q["patience"]}}
               if q["patience"] else {}),
        } for j, q in enumerate(queues)],
        "agents": [{
            "group": f"g{g}", "count": a["count"], "skills": {f"s{s}": 3 for s in a["skills"]},
            "clients": ["c"] if a["client"] else [],
            "capacity": {"call": a["call"], "chat": a["chat"], "email": 0},
            **({"shifts": [{"start": "00:05", "end": "00:18", "breaks": [["00:10", "00:12"]]}]}
               if a["shift"] else {}),
        } for g, a in enumerate(groups)],
    })
    fast = run_once(sc, seed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(des, "_ACCEPTING_LOOP", False)
        slow = run_once(sc, seed)
    assert fast.events == slow.events
    assert np.array_equal(fast.outcome, slow.outcome)
    assert np.array_equal(fast.agent, slow.agent)
    assert np.array_equal(fast.wait, slow.wait, equal_nan=True)
    assert np.array_equal(fast.weight, slow.weight)


@pytest.mark.parametrize("finish", ["complete_accept", "complete"])
def test_agents_freed_at_the_same_time_go_by_number(finish: str) -> None:
    """Two agents freed at the same instant, the later-added one first: the pool is out of
    order, and the next arrival takes the one added first (the tie-break)."""
    m = Matcher(RULES, auto_accept=True)
    for k in range(3):
        m.add_agent(Agent(f"a{k}", capacity={"call": 1, "chat": 0, "email": 0}))
        m.set_ready(f"a{k}", 0.0)
    plain = Interaction("", "plain")
    for k in range(3):
        m.arrive_accept(plain, f"i{k}", 1.0)
    for iid in ("i2", "i0"):
        assert getattr(m, finish)(iid, 5.0) == []
    assert list(m._avail["call"]) == ["a2", "a0"]
    assert not m._order["call"].ok
    assert m.arrive_accept(plain, "x", 6.0) is m.agents["a0"]
