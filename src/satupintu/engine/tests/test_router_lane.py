"""The auto-accept lane (arrive_accept / complete_accept) and the simulator's loop on it
decide exactly like enqueue / complete and the general event loop."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satupintu.engine.router import Agent, Interaction, Matcher, RouterError, RuleSet
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
        },
    }
)
QUEUES = {  # queue -> (channel, client, priority)
    "plain": ("call", "", 0),
    "skill": ("call", "c0", 1),
    "mixed": ("chat", "c1", 0),
    "ring": ("chat", "", 2),
    "fewest": ("email", "c0", 0),
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
            got_lane = [(ix.id, a.id) for ix, a in lane.complete_accept(iid, now)]
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
    [(ix, agent)] = m.complete_accept("x", 2.0)
    assert (ix.id, ix.enqueue_time, agent.id) == ("y", 1.0, "a")


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
