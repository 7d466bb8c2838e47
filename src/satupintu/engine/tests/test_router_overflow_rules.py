"""Rules: a queue plan's ``overflow`` (to another queue after a wait), parsed and checked."""

from __future__ import annotations

from typing import Any

import pytest

from satupintu.engine.router import Overflow, RouterError, RuleSet


def rules(**queues: Any) -> dict[str, Any]:
    return {"version": "1", "queues": queues}


def test_overflow_is_parsed_per_queue() -> None:
    rs = RuleSet.from_dict(rules(
        billing={"overflow": {"to": "general", "after": 120}, "steps": [{}]},
        general={"steps": [{}]}))
    assert rs.plan("billing").overflow == Overflow("general", 120.0)
    assert rs.plan("general").overflow is None


def test_a_destination_without_its_own_plan_is_allowed() -> None:
    # the platform's queues without a plan of their own follow "default"
    rs = RuleSet.from_dict(rules(vip={"overflow": {"to": "chat", "after": 30}},
                                 default={"steps": [{}]}))
    assert rs.plan("vip").overflow == Overflow("chat", 30.0)


@pytest.mark.parametrize(("spec", "message"), [
    ("general", "must be a mapping"),
    ({"to": "general"}, "needs both 'to'"),
    ({"after": 10}, "needs both 'to'"),
    ({"to": "general", "after": 0}, "must be positive"),
    ({"to": "general", "after": -5}, "must be positive"),
    ({"to": "general", "after": "soon"}, "must be a number"),
    ({"to": "", "after": 10}, "'to' must name a queue"),
    ({"to": "general", "after": 10, "when": "busy"}, "unknown keys ['when']"),
    ({"to": "billing", "after": 10}, "cannot overflow to itself"),
])
def test_bad_overflow_names_the_queue(spec: Any, message: str) -> None:
    with pytest.raises(RouterError, match="queue 'billing': overflow") as err:
        RuleSet.from_dict(rules(billing={"overflow": spec}, general={}))
    assert message in str(err.value)


def test_the_default_plan_cannot_overflow() -> None:
    with pytest.raises(RouterError, match="queue 'default': overflow: the default plan"):
        RuleSet.from_dict(rules(default={"overflow": {"to": "general", "after": 60}}))


def test_a_circle_of_overflows_is_refused() -> None:
    with pytest.raises(RouterError, match=r"round in a circle \(a -> b -> c -> a\)"):
        RuleSet.from_dict(rules(a={"overflow": {"to": "b", "after": 60}},
                                b={"overflow": {"to": "c", "after": 60}},
                                c={"overflow": {"to": "a", "after": 60}}))


def test_a_chain_is_fine() -> None:
    rs = RuleSet.from_dict(rules(a={"overflow": {"to": "b", "after": 60}},
                                 b={"overflow": {"to": "c", "after": 60}}, c={}))
    assert [rs.plan(q).overflow for q in "abc"] == [Overflow("b", 60.0), Overflow("c", 60.0),
                                                     None]
