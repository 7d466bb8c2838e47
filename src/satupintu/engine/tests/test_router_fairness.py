"""Property: no starvation. Every interaction some agent could serve is eventually offered."""

from __future__ import annotations

import heapq
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from satupintu.engine.router import Agent, Interaction, Matcher, RuleSet

RULES = RuleSet.from_dict(
    {
        "version": "p1",
        "vip_boost": 3,
        "queues": {
            "q0": {
                "steps": [
                    {"preferred_agent": True, "timeout": 5},
                    {
                        "target": "interaction.skills.all(s, s in agent.skills && "
                        "agent.skills[s] >= 4)",
                        "timeout": 10,
                    },
                    {"target": "interaction.skills.all(s, s in agent.skills)", "priority_boost": 2},
                ]
            },
            "q1": {
                "strategy": "fewest_contacts",
                "steps": [
                    {"target": "interaction.language in agent.languages", "timeout": 8},
                    {},
                ],
            },
            "q2": {
                "strategy": "round_robin",
                "steps": [{"target": "agent.skills['s1'] >= interaction.priority"}],
            },
        },
    }
)

agent_st = st.fixed_dictionaries(
    {
        "skills": st.dictionaries(
            st.sampled_from(["s0", "s1", "s2"]), st.integers(1, 5), max_size=3
        ),
        "languages": st.lists(st.sampled_from(["id", "en"]), max_size=2, unique=True),
        "clients": st.lists(st.sampled_from(["c0", "c1"]), min_size=1, max_size=2, unique=True),
        "chat": st.integers(1, 3),
    }
)
ix_st = st.fixed_dictionaries(
    {
        "queue": st.sampled_from(["q0", "q1", "q2"]),
        "channel": st.sampled_from(["call", "call", "chat"]),
        "client": st.sampled_from(["c0", "c1"]),
        "skills": st.dictionaries(
            st.sampled_from(["s0", "s1", "s2"]), st.integers(1, 5), max_size=2
        ),
        "language": st.sampled_from(["id", "en"]),
        "priority": st.integers(0, 5),
        "vip": st.booleans(),
        "pref": st.integers(-1, 5),
        "at": st.floats(0, 200),
        "handle": st.floats(1, 60),
    }
)


@settings(max_examples=150, deadline=None)
@given(
    agents=st.lists(agent_st, min_size=1, max_size=6),
    items=st.lists(ix_st, min_size=1, max_size=40),
    late=st.lists(st.floats(0, 100), max_size=6),
)
def test_every_servable_interaction_is_eventually_offered(
    agents: list[dict[str, Any]], items: list[dict[str, Any]], late: list[float]
) -> None:
    m = Matcher(RULES, auto_accept=True)
    for k, spec in enumerate(agents):
        m.add_agent(
            Agent(
                f"a{k}",
                skills=spec["skills"],
                languages=tuple(spec["languages"]),
                clients=tuple(spec["clients"]),
                capacity={"call": 1, "chat": spec["chat"]},
            )
        )
    events: list[tuple[float, int, str, Any]] = []
    seq = 0
    for k in range(len(agents)):
        seq += 1
        events.append((late[k] if k < len(late) else 0.0, seq, "ready", f"a{k}"))
    handle: dict[str, float] = {}
    interactions: list[Interaction] = []
    for k, spec in enumerate(items):
        pref = f"a{spec['pref']}" if 0 <= spec["pref"] < len(agents) else ""
        it = Interaction(
            f"i{k}",
            spec["queue"],
            channel=spec["channel"],
            client=spec["client"],
            skills=spec["skills"],
            language=spec["language"],
            priority=spec["priority"],
            vip=spec["vip"],
            enqueue_time=spec["at"],
            preferred_agent=pref,
        )
        interactions.append(it)
        handle[it.id] = spec["handle"]
        seq += 1
        events.append((spec["at"], seq, "arrive", it))
    heapq.heapify(events)
    offered: set[str] = set()

    def take(offers: list[Any], now: float) -> None:
        nonlocal seq
        for o in offers:
            assert o.interaction.id not in offered
            offered.add(o.interaction.id)
            seq += 1
            heapq.heappush(events, (now + handle[o.interaction.id], seq, "done", o.interaction.id))

    while True:
        deadline = m.next_deadline()
        if events and (deadline is None or events[0][0] <= deadline):
            now, _, kind, arg = heapq.heappop(events)
            take(m.advance(now), now)
            if kind == "ready":
                take(m.set_ready(arg, now), now)
            elif kind == "arrive":
                take(m.enqueue(arg, now), now)
            else:
                take(m.complete(arg, now), now)
        elif deadline is not None:
            take(m.advance(deadline), deadline)
        else:
            break

    for it in interactions:
        steps = [step for step, _ in RULES.plan(it.queue).schedule(it)]

        def can(a: Agent, steps: list[Any] = steps, it: Interaction = it) -> bool:
            return (
                a.capacity.get(it.channel, 0) > 0
                and it.client in a.clients
                and any(step.eligible(a, it) for step in steps)
            )

        # servable under the widest step: must have been offered (no starvation)
        if any(can(a, steps[-1:]) for a in m.agents.values()):
            assert it.id in offered, it
        # offered only to someone some step allowed (the preferred agent, for a while)
        if it.id in offered:
            assert any(can(a) for a in m.agents.values())
    assert all(a.busy_load() == 0 for a in m.agents.values())
