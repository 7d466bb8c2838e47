"""Router API for a database-driven caller: change or remove agents while matching."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satupintu.engine.router import Agent, AgentState, Interaction, Matcher, RouterError, RuleSet

SKILL4 = "interaction.skills.all(s, s in agent.skills && agent.skills[s] >= 4)"

RULES = RuleSet.from_dict(
    {
        "version": "1",
        "queues": {
            "billing": {"steps": [{"target": SKILL4}]},
            "chat": {"steps": [{}]},
            "any": {"steps": [{}]},
        },
    }
)


def agent(aid: str, **kw: Any) -> Agent:
    kw.setdefault("skills", {"billing": 2})
    kw.setdefault("clients", ("bank",))
    return Agent(aid, **kw)


def ix(iid: str, queue: str = "billing", t: float = 0.0, **kw: Any) -> Interaction:
    kw.setdefault("skills", {"billing": 1} if queue == "billing" else {})
    kw.setdefault("client", "bank")
    return Interaction(iid, queue, enqueue_time=t, **kw)


def test_update_skills_makes_the_agent_eligible_at_once() -> None:
    m = Matcher(RULES, auto_accept=True)
    m.add_agent(agent("a"))
    m.set_ready("a", 0.0)
    assert m.enqueue(ix("c1"), 0.0) == []  # proficiency 2 < 4 (and memoised as such)
    offers = m.update_agent("a", 1.0, skills={"billing": 5})
    assert [(o.interaction.id, o.agent.id) for o in offers] == [("c1", "a")]
    assert m.agent("a").view()["skills"] == {"billing": 5}
    m.complete("c1", 2.0)
    m.update_agent("a", 3.0, skills={"billing": 1})  # and back: no longer eligible
    assert m.enqueue(ix("c2", t=3.0), 3.0) == []


def test_update_capacity_languages_and_clients() -> None:
    m = Matcher(RULES, auto_accept=True)
    m.add_agent(agent("a", capacity={"call": 1, "chat": 1}))
    m.set_ready("a", 0.0)
    chats = [m.enqueue(ix(f"ch{k}", "chat", channel="chat"), 0.0) for k in range(3)]
    assert [len(o) for o in chats] == [1, 0, 0]
    offers = m.update_agent("a", 1.0, capacity={"chat": 3})
    assert [o.interaction.id for o in offers] == ["ch1", "ch2"]
    assert m.agent("a").capacity == {"call": 1, "chat": 3, "email": 5}
    # capacity below the load: contacts in hand stay, nothing new until there is room
    m.update_agent("a", 2.0, capacity={"chat": 1})
    assert m.enqueue(ix("ch3", "chat", channel="chat", t=2.0), 2.0) == []
    assert m.complete("ch0", 3.0) == [] and m.complete("ch1", 4.0) == []
    assert [o.interaction.id for o in m.complete("ch2", 5.0)] == ["ch3"]
    # clients: the agent no longer sees the bank's contacts
    m.complete("ch3", 6.0)
    m.update_agent("a", 7.0, clients=("telco",), languages=("en", "id"))
    assert m.agent("a").languages == ("en", "id")
    assert m.enqueue(ix("c", "any", t=7.0), 7.0) == []
    offers = m.update_agent("a", 8.0, clients=("telco", "bank"))
    assert [o.interaction.id for o in offers] == ["c"]


def test_update_with_bad_values_changes_nothing() -> None:
    m = Matcher(RULES, auto_accept=True)
    m.add_agent(agent("a"))
    with pytest.raises(RouterError, match="proficiency"):
        m.update_agent("a", 0.0, skills={"billing": 7})
    with pytest.raises(RouterError, match="capacity"):
        m.update_agent("a", 0.0, capacity={"fax": 1})
    assert m.agent("a").skills == {"billing": 2}
    assert m.agent("a").capacity == {"call": 1, "chat": 3, "email": 5}
    with pytest.raises(RouterError, match="unknown agent"):
        m.update_agent("nobody", 0.0, team="gold")


def test_remove_agent_while_matching() -> None:
    m = Matcher(RULES, auto_accept=True)
    m.add_agent(agent("a", skills={"billing": 5}))
    m.add_agent(agent("b", skills={"billing": 5}))
    m.set_ready("a", 0.0)
    m.set_ready("b", 0.0)
    (o1,) = m.enqueue(ix("c1"), 0.0)
    assert o1.agent.id == "a"
    assert m.remove_agent("b", 1.0) == []  # idle: just gone
    assert m.enqueue(ix("c2", t=1.0), 1.0) == []  # nobody left to take it
    assert m.remove_agent("a", 2.0) == []  # busy: finishes c1, gets nothing new
    with pytest.raises(RouterError, match="unknown agent"):
        m.set_ready("a", 2.5)
    assert m.complete("c1", 3.0) == []
    assert m.is_waiting("c2")
    # the same id may come back as a new agent
    m.add_agent(agent("a", skills={"billing": 4}))
    assert [o.interaction.id for o in m.set_ready("a", 4.0)] == ["c2"]


def test_remove_agent_withdraws_its_open_offers() -> None:
    m = Matcher(RULES)
    m.add_agent(agent("a", skills={"billing": 5}))
    m.add_agent(agent("b", skills={"billing": 5}))
    m.set_ready("a", 0.0)
    (o,) = m.enqueue(ix("c1"), 0.0)
    assert o.agent.id == "a"
    m.set_ready("b", 1.0)
    offers = m.remove_agent("a", 2.0)
    assert [(x.interaction.id, x.agent.id) for x in offers] == [("c1", "b")]
    assert m.agent("b").missed_offers == 0
    assert m.offer_of("c1") is offers[0]
    m.accept("c1", 3.0)
    assert m.offer_of("c1") is None
    assert m.agent("b").status is AgentState.BUSY


def test_declines_are_remembered_across_requeues() -> None:
    m = Matcher(RULES)
    for aid in ("a", "b", "c"):
        m.add_agent(agent(aid, skills={"billing": 5}))
    m.set_ready("a", 0.0)
    m.set_ready("b", 0.0)
    (o,) = m.enqueue(ix("c1"), 0.0)
    assert o.agent.id == "a"
    (o,) = m.decline("c1", 1.0, missed=False)
    assert o.agent.id == "b"
    assert m.decline("c1", 2.0, missed=False) == []  # neither a nor b again
    assert [x.agent.id for x in m.set_ready("c", 3.0)] == ["c"]


# -- property: random updates and removals keep the matcher consistent -----------------

PROP_RULES = RuleSet.from_dict(
    {
        "version": "p",
        "queues": {
            "q0": {
                "steps": [{"target": SKILL4, "timeout": 10}, {"target": "'s0' in agent.skills"}]
            },
            "q1": {"strategy": "fewest_contacts", "steps": [{}]},
        },
    }
)

op_st = st.one_of(
    st.tuples(st.just("arrive"), st.sampled_from(["q0", "q1"]), st.sampled_from(["call", "chat"])),
    st.tuples(st.just("finish"), st.integers(0, 50)),
    st.tuples(st.just("skills"), st.integers(0, 3), st.integers(1, 5)),
    st.tuples(st.just("capacity"), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("remove"), st.integers(0, 3)),
    st.tuples(st.just("add"), st.integers(0, 3)),
)


@settings(max_examples=120, deadline=None)
@given(ops=st.lists(op_st, min_size=1, max_size=60))
def test_updates_and_removals_keep_the_matcher_consistent(ops: list[tuple[Any, ...]]) -> None:
    m = Matcher(PROP_RULES, auto_accept=True)
    present: dict[str, bool] = {}
    for k in range(4):
        m.add_agent(Agent(f"a{k}", skills={"s0": 2 + k % 3}, clients=("c",)))
        m.set_ready(f"a{k}", 0.0)
        present[f"a{k}"] = True
    active: list[tuple[str, str]] = []  # (interaction, agent)
    now = 0.0
    n = 0

    def take(offers: list[Any]) -> None:
        for o in offers:
            assert present[o.agent.id] and o.agent is m.agents[o.agent.id]
            assert o.agent.can_take(o.interaction.channel) or o.agent.load[
                o.interaction.channel] <= o.agent.capacity[o.interaction.channel]
            active.append((o.interaction.id, o.agent.id))

    for op in ops:
        now += 1.0
        take(m.advance(now))
        kind = op[0]
        aid = f"a{op[1] % 4}" if kind != "arrive" and kind != "finish" else ""
        if kind == "arrive":
            n += 1
            take(m.enqueue(Interaction(f"i{n}", op[1], channel=op[2], client="c",
                                       skills={"s0": 1}, enqueue_time=now), now))
        elif kind == "finish" and active:
            iid, _ = active.pop(op[1] % len(active))
            take(m.complete(iid, now))
        elif kind == "skills" and present[aid]:
            take(m.update_agent(aid, now, skills={"s0": op[2]}))
        elif kind == "capacity" and present[aid]:
            take(m.update_agent(aid, now, capacity={"call": op[2] % 2, "chat": op[2]}))
        elif kind == "remove" and present[aid]:
            take(m.remove_agent(aid, now))
            present[aid] = False
        elif kind == "add" and not present[aid]:
            m.add_agent(Agent(aid, skills={"s0": 5}, clients=("c",)))
            present[aid] = True
            take(m.set_ready(aid, now))
    # finish everything; waiting work some present agent can take must then be offered
    while True:
        now += 1000.0
        take(m.advance(now))  # every step time-out is due
        if not active:
            break
        iid, _ = active.pop(0)
        take(m.complete(iid, now))
    for agent in m.agents.values():
        assert agent.busy_load() == 0
        assert agent.id in m._avail["call"] or agent.capacity["call"] == 0 or (
            agent.state is not AgentState.READY)
    for w in m.waiting():
        able = [
            a for a in m.agents.values()
            if a.capacity.get(w.channel, 0) > 0
            and PROP_RULES.plan(w.queue).steps[-1].eligible(a, w)
        ]
        assert not able, (w.id, [a.id for a in able])
