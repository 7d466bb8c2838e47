"""Router: rule parsing, CEL fast path, matching, strategies, offers, fairness."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satupintu.engine.router import (
    Agent,
    AgentState,
    Expression,
    Interaction,
    Matcher,
    RouterError,
    RuleSet,
    choose_agent,
    choose_interaction,
)

SKILL4 = "interaction.skills.all(s, s in agent.skills && agent.skills[s] >= 4)"
SKILL2 = "interaction.skills.all(s, s in agent.skills && agent.skills[s] >= 2)"


def rules(version: str = "1", **queue_overrides: Any) -> RuleSet:
    queues: dict[str, Any] = {
        "billing": {
            "steps": [
                {"preferred_agent": True, "timeout": 10},
                {"target": SKILL4, "timeout": 20},
                {"target": SKILL2, "timeout": 30, "priority_boost": 5},
                {"name": "any agent of the client"},
            ]
        },
        "tech": {"steps": [{"target": SKILL2}]},
    }
    queues.update(queue_overrides)
    return RuleSet.from_dict({"version": version, "queues": queues, "max_missed_offers": 2})


def agent(aid: str, **kw: Any) -> Agent:
    kw.setdefault("skills", {"billing": 2, "tech": 2})
    kw.setdefault("clients", ("bank",))
    kw.setdefault("languages", ("id",))
    return Agent(aid, **kw)


def ix(iid: str, queue: str = "billing", t: float = 0.0, **kw: Any) -> Interaction:
    kw.setdefault("skills", {queue: 1})
    kw.setdefault("client", "bank")
    return Interaction(iid, queue, enqueue_time=t, **kw)


# -- rule parsing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": 1, "queues": {"q": {"steps": [{"target": "agent.("}]}}}, "does not parse"),
        (
            {"version": 1, "queues": {"q": {"steps": [{"target": "agent.age > 3"}]}}},
            "unknown attribute agent.age",
        ),
        ({"version": 1, "queues": {"q": {"steps": [{"target": "foo == 1"}]}}}, "unknown name"),
        ({"queues": {"q": {}}}, "'version' is required"),
        ({"version": 1, "queues": {"q": {"steps": [{"timeout": 5}]}}}, "no wider step"),
        ({"version": 1, "queues": {"q": {"steps": [{}, {}]}}}, "only the last step"),
        ({"version": 1, "queues": {"q": {"steps": [{"timeout": -5}, {}]}}}, "positive"),
        ({"version": 1, "queues": {"q": {"steps": [{"strategy": "random"}]}}}, "unknown strategy"),
        ({"version": 1, "queues": {"q": {"steps": [{"target": "1 > 2"}]}}}, "never matches"),
        (
            {"version": 1, "queues": {"q": {"steps": [{"preferred_agent": True}]}}},
            "needs a timeout",
        ),
        ({"version": 1, "queues": {"q": {"stepz": []}}}, "unknown keys"),
    ],
)
def test_bad_rules_name_the_step(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RouterError, match=message) as err:
        RuleSet.from_dict(data)
    assert "queue 'q'" in str(err.value) or "version" in str(err.value)


def test_rules_from_yaml_text() -> None:
    rs = RuleSet.from_text(
        """
version: "2026-11-23.1"
queues:
  billing:
    strategy: fewest_contacts
    steps:
      - target: 'agent.skills["billing"] >= 4 && interaction.language in agent.languages'
        timeout: 20
      - target: 'agent.skills["billing"] >= 2'
"""
    )
    assert rs.version == "2026-11-23.1"
    steps = rs.plan("billing").steps
    assert [s.strategy for s in steps] == ["fewest_contacts", "fewest_contacts"]
    assert steps[0].target is not None and steps[0].target.has_fast_path


# -- the CEL fast path gives exactly what CEL gives -----------------------------------

EXPRESSIONS = [
    SKILL4,
    SKILL2,
    'agent.skills["billing"] >= 3',
    "agent.skills.billing > 2 || agent.team == 'gold'",
    "interaction.language in agent.languages && interaction.client in agent.clients",
    "!(agent.id in ['a1', 'a2']) && interaction.priority >= 1",
    "interaction.skills.exists(s, agent.skills[s] == 5)",
    "interaction.vip == true || agent.site == 'jkt'",
    "agent.attributes.level >= 2",
    "agent.attributes['mode'] == interaction.attributes['mode']",
    "size(agent.languages) > 1",  # not in the fast path: CEL throughout
    "agent.skills['billing'] + 1 > 4",
    "agent.languages[0] == 'id'",
]

names = st.sampled_from(["billing", "tech", "sales"])
levels = st.integers(min_value=1, max_value=5)
attr_values = st.one_of(st.integers(0, 3), st.sampled_from(["a", "b"]), st.booleans())


@settings(max_examples=150, deadline=None)
@given(
    expr=st.sampled_from(EXPRESSIONS),
    skills=st.dictionaries(names, levels, max_size=3),
    needs=st.dictionaries(names, levels, max_size=2),
    langs=st.lists(st.sampled_from(["id", "en", "jv"]), max_size=3),
    lang=st.sampled_from(["id", "en", "jv"]),
    team=st.sampled_from(["gold", "blue"]),
    aid=st.sampled_from(["a1", "a3"]),
    attrs=st.dictionaries(st.sampled_from(["level", "mode"]), attr_values, max_size=2),
    iattrs=st.dictionaries(st.sampled_from(["mode"]), attr_values, max_size=1),
    prio=st.integers(-1, 2),
    vip=st.booleans(),
)
def test_fast_path_matches_cel(
    expr: str,
    skills: dict[str, int],
    needs: dict[str, int],
    langs: list[str],
    lang: str,
    team: str,
    aid: str,
    attrs: dict[str, Any],
    iattrs: dict[str, Any],
    prio: int,
    vip: bool,
) -> None:
    e = Expression(expr)
    a = Agent(
        aid, skills=skills, languages=tuple(langs), clients=("bank",), team=team, attributes=attrs
    )
    i = Interaction(
        "i",
        "billing",
        client="bank",
        skills=needs,
        language=lang,
        priority=prio,
        vip=vip,
        attributes=iattrs,
    )
    assert e(a.view(), i.view()) == e.evaluate_cel(a.view(), i.view())


def test_common_shapes_are_compiled() -> None:
    assert Expression(SKILL4).has_fast_path
    assert Expression("interaction.language in agent.languages").has_fast_path
    assert not Expression("size(agent.languages) > 1").has_fast_path


# -- matching ----------------------------------------------------------------------------


def test_bullseye_widens_after_timeout() -> None:
    m = Matcher(rules(), auto_accept=True)
    m.add_agent(agent("weak", skills={"billing": 2}))
    m.set_ready("weak", 0.0)
    assert m.enqueue(ix("c1"), 0.0) == []
    assert m.next_deadline() == 20.0  # no preferred agent: the 4+ ring lasts 20 s
    assert m.advance(19.9) == []
    offers = m.advance(20.0)
    assert [(o.interaction.id, o.agent.id, o.step.index) for o in offers] == [("c1", "weak", 2)]


def test_client_isolation_is_hard() -> None:
    m = Matcher(rules(), auto_accept=True)
    m.add_agent(agent("other", clients=("telco",), skills={"billing": 5}))
    m.set_ready("other", 0.0)
    assert m.enqueue(ix("c1"), 0.0) == []
    assert m.advance(1000.0) == []
    assert m.is_waiting("c1")


def test_preferred_agent_first_then_others() -> None:
    m = Matcher(rules(), auto_accept=True)
    m.add_agent(agent("pref", skills={"billing": 5}))
    m.add_agent(agent("star", skills={"billing": 5}))
    m.set_ready("star", 0.0)
    c = ix("c1", preferred_agent="pref")
    assert m.enqueue(c, 0.0) == []  # preferred agent not ready: wait 10 s for them
    offers = m.set_ready("pref", 5.0)
    assert [o.agent.id for o in offers] == ["pref"]
    c2 = ix("c2", t=6.0, preferred_agent="pref")
    assert m.enqueue(c2, 6.0) == []
    offers = m.advance(16.0)
    assert [o.agent.id for o in offers] == ["star"]


def test_one_matcher_serves_by_priority_then_age_across_queues() -> None:
    m = Matcher(rules(), auto_accept=True)
    m.add_agent(agent("a", skills={"billing": 5, "tech": 5}))
    m.enqueue(ix("old-tech", "tech", t=0.0), 0.0)
    m.enqueue(ix("new-billing", "billing", t=1.0), 1.0)
    m.enqueue(ix("vip", "billing", t=2.0, priority=3), 2.0)
    order = []
    now = 3.0
    offers = m.set_ready("a", now)
    while offers:
        (o,) = offers
        order.append(o.interaction.id)
        now += 1
        offers = m.complete(o.interaction.id, now)
    assert order == ["vip", "old-tech", "new-billing"]


def test_priority_boost_of_a_later_step_counts() -> None:
    m = Matcher(rules(), auto_accept=True)
    m.add_agent(agent("a", skills={"billing": 3, "tech": 3}))
    m.enqueue(ix("b", "billing", t=0.0), 0.0)
    m.advance(25.0)  # b now in step 3 (boost 5)
    m.enqueue(ix("t", "tech", t=-100.0), 25.0)  # older, but no boost
    offers = m.set_ready("a", 26.0)
    assert offers[0].interaction.id == "b"


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("longest_idle", "idle-longest"),
        ("fewest_contacts", "few"),
        ("highest_proficiency", "expert"),
        ("least_occupied", "idle-longest"),
    ],
)
def test_strategies(strategy: str, expected: str) -> None:
    rs = rules(chat={"strategy": strategy, "steps": [{}]})
    m = Matcher(rs, auto_accept=True)
    specs = {
        "idle-longest": dict(skills={"chat": 2}),
        "few": dict(skills={"chat": 2}),
        "expert": dict(skills={"chat": 5}),
    }
    for aid, kw in specs.items():
        m.add_agent(agent(aid, **kw))
    m.agent("idle-longest").last_contact_end = 0.0
    m.agent("few").last_contact_end = 50.0
    m.agent("expert").last_contact_end = 60.0
    for a_ in m.agents.values():
        a_.contacts_today = 10
    m.agent("few").contacts_today = 1
    for aid in specs:
        m.set_ready(aid, 100.0)
    if strategy == "least_occupied":
        for aid in ("few", "expert"):
            m.agent(aid).load["chat"] = 1
    offers = m.enqueue(ix("c", "chat", t=100.0, channel="chat", skills={"chat": 1}), 100.0)
    assert offers[0].agent.id == expected


def test_round_robin_rotates() -> None:
    rs = rules(rr={"strategy": "round_robin", "steps": [{}]})
    m = Matcher(rs, auto_accept=True)
    for aid in ("a", "b", "c"):
        m.add_agent(agent(aid))
        m.set_ready(aid, 0.0)
    got = []
    for k in range(6):
        (o,) = m.enqueue(ix(f"c{k}", "rr", t=float(k)), float(k))
        got.append(o.agent.id)
        m.complete(o.interaction.id, float(k) + 0.5)
    assert got == ["a", "b", "c", "a", "b", "c"]


def test_chat_concurrency_and_call_blocks() -> None:
    rs = rules(chat={"steps": [{}]}, voice={"steps": [{}]})
    m = Matcher(rs, auto_accept=True)
    m.add_agent(agent("a"))
    m.set_ready("a", 0.0)
    chats = [m.enqueue(ix(f"ch{k}", "chat", channel="chat", skills={}), 0.0) for k in range(4)]
    assert [len(o) for o in chats] == [1, 1, 1, 0]
    assert m.agent("a").status is AgentState.BUSY
    assert m.enqueue(ix("call", "voice", skills={}), 0.0) == []
    # the waiting chat is older than the call, and the call needs every chat done
    assert [o.interaction.id for o in m.complete("ch0", 1.0)] == ["ch3"]
    assert m.complete("ch1", 2.0) == []
    assert m.complete("ch2", 3.0) == []
    assert [o.interaction.id for o in m.complete("ch3", 4.0)] == ["call"]
    assert m.agent("a").load == {"chat": 0, "call": 1}


def test_wrap_up_keeps_the_slot() -> None:
    m = Matcher(rules(), auto_accept=True)
    m.add_agent(agent("a"))
    m.set_ready("a", 0.0)
    (_o,) = m.enqueue(ix("c1", "tech"), 0.0)
    m.enqueue(ix("c2", "tech"), 1.0)
    assert m.complete("c1", 5.0, wrap_up=True) == []
    assert m.agent("a").status is AgentState.ACW
    (o2,) = m.end_wrap_up("c1", 8.0)
    assert o2.interaction.id == "c2"
    assert m.agent("a").contacts_today == 1


def test_missed_offers_pause_the_agent() -> None:
    m = Matcher(rules())
    m.add_agent(agent("a"))
    m.add_agent(agent("b"))
    m.set_ready("a", 0.0)
    (o,) = m.enqueue(ix("c1", "tech"), 0.0)
    assert o.agent.id == "a" and m.agent("a").status is AgentState.OFFERED
    m.advance(15.0)  # accept timeout
    assert m.agent("a").missed_offers == 1
    # c1 keeps its place; a declined it so it is not offered to a again
    assert m.is_waiting("c1")
    (_o2,) = m.enqueue(ix("c2", "tech", t=16.0), 16.0)
    m.decline("c2", 17.0)
    assert m.agent("a").state is AgentState.NOT_READY
    assert m.agent("a").reason == "missed offers"
    offers = m.set_ready("b", 18.0)
    assert [x.interaction.id for x in offers] == ["c1"]
    m.accept("c1", 19.0)
    assert m.agent("b").status is AgentState.BUSY


def test_rule_version_is_pinned() -> None:
    m = Matcher(rules("1"), auto_accept=True)
    m.add_agent(agent("a", skills={"tech": 2}))
    m.enqueue(ix("old", "tech"), 0.0)
    strict = RuleSet.from_dict(
        {"version": "2", "queues": {"tech": {"steps": [{"target": SKILL4}]}}}
    )
    m.load_rules(strict)
    m.enqueue(ix("new", "tech", t=1.0), 1.0)
    offers = m.set_ready("a", 2.0)
    assert [o.interaction.id for o in offers] == ["old"]
    assert m.complete("old", 3.0) == []  # "new" needs proficiency 4 under v2
    assert m.waiting()[0].rule_version == "2"


def test_pure_choose_functions_agree_with_matcher() -> None:
    rs = rules()
    agents = [
        agent("a", skills={"billing": 3}),
        agent("b", skills={"billing": 5}),
        agent("c", skills={"billing": 1}),
    ]
    for a_, t in zip(agents, (10.0, 20.0, 0.0), strict=True):
        a_.state = AgentState.READY
        a_.last_contact_end = t
    c = ix("c1", t=0.0)
    assert choose_agent(c, agents, rs, 0.0) is agents[1]  # only b has 4+
    assert choose_agent(c, agents, rs, 25.0) is agents[0]  # 2+: a idle longer than b
    assert choose_agent(c, agents, rs, 60.0) is agents[2]  # anyone of the client
    waiting = [ix("x", t=0.0), ix("y", "tech", t=-5.0), ix("z", t=1.0, priority=2)]
    assert choose_interaction(agents[1], waiting, rs, 2.0) is waiting[2]
    assert choose_interaction(agents[2], waiting, rs, 2.0) is None


def _run(events: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    m = Matcher(rules(), auto_accept=True)
    for k in range(4):
        m.add_agent(agent(f"a{k}", skills={"billing": 1 + k, "tech": 5 - k}))
    got: list[tuple[str, str]] = []
    now = 0.0
    for kind, arg in events:
        now += 1.0
        got.extend((o.interaction.id, o.agent.id) for o in m.advance(now))
        if kind == "ready":
            offers = m.set_ready(arg, now)
        else:
            offers = m.enqueue(ix(arg[0], arg[1], t=now), now)
        got.extend((o.interaction.id, o.agent.id) for o in offers)
    return got


def test_deterministic() -> None:
    events: list[tuple[str, Any]] = [
        ("ix", (f"c{k}", "billing" if k % 2 else "tech")) for k in range(10)
    ]
    events += [("ready", f"a{k}") for k in range(4)]
    assert _run(events) == _run(list(events))
    assert len(_run(events)) == 4


def test_callback_keeps_its_place_in_line() -> None:
    m = Matcher(rules(), auto_accept=True)
    m.add_agent(agent("a", skills={"tech": 3}))
    m.enqueue(ix("fresh", "tech", t=50.0), 50.0)
    m.enqueue(
        ix("callback", "tech", t=60.0, callback_keeps_place=True, original_enqueue_time=10.0), 60.0
    )
    offers = m.set_ready("a", 61.0)
    assert [o.interaction.id for o in offers] == ["callback"]


def test_new_day_resets_counters_and_bad_calls_raise() -> None:
    m = Matcher(rules(), auto_accept=True)
    m.add_agent(agent("a"))
    m.set_ready("a", 0.0)
    (_o,) = m.enqueue(ix("c", "tech"), 0.0)
    m.complete("c", 1.0)
    assert m.agent("a").contacts_today == 1
    m.new_day()
    assert m.agent("a").contacts_today == 0
    with pytest.raises(RouterError):
        m.complete("c", 2.0)
    with pytest.raises(RouterError):
        m.add_agent(agent("a"))
    with pytest.raises(RouterError):
        m.enqueue(ix("x", "nowhere"), 0.0)
    m.logout("a", 3.0)
    assert m.agent("a").status is AgentState.LOGGED_OUT
