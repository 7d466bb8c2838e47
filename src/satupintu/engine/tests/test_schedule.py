"""Shift selection (MILP), break placement and rostering."""

from __future__ import annotations

import numpy as np
import pytest

from satupintu.engine.schedule import (
    BreakRule,
    DaysOffRule,
    ShiftPlan,
    ShiftTemplate,
    select_shifts,
    templates_every,
)
from satupintu.engine.schedule_roster import Agent, LabourRules, build_roster, with_leave
from satupintu.engine.wfm_errors import InfeasibleScheduleError, InvalidInputError

P = 24  # hourly periods keep the models tiny


def flat_week(level: int, start: int = 8, end: int = 20) -> np.ndarray:
    req = np.zeros((7, P))
    req[:, start:end] = level
    return req


def test_exact_cover_is_found_and_proven_optimal() -> None:
    req = flat_week(3)
    templates = [ShiftTemplate("early", 8, 6), ShiftTemplate("late", 14, 6)]
    plan = select_shifts(req, templates, cost_weight=0.0)
    assert plan.optimal and plan.status == "optimal"
    assert plan.under.sum() == 0 and plan.over.sum() == 0
    assert plan.objective == pytest.approx(0.0)
    assert {(s.template, s.count) for s in plan.shifts} == {("early", 3), ("late", 3)}
    assert len(plan.shifts) == 14
    assert plan.scheduled.tolist() == req.tolist()


def test_under_and_over_are_traded_by_weight() -> None:
    req = np.zeros((1, P))
    req[0, 8:12] = [1, 4, 4, 1]
    t = [ShiftTemplate("four", 8, 4)]
    many = select_shifts(req, t, under_weight=10, over_weight=1, cost_weight=0)
    assert many.shifts[0].count == 4 and many.over.sum() == 6
    few = select_shifts(req, t, under_weight=1, over_weight=10, cost_weight=0)
    assert few.shifts[0].count == 1 and few.under.sum() == 6


def test_breaks_are_placed_to_keep_coverage() -> None:
    # two 9-hour shifts with a 1-hour lunch in hours 3..5 of the shift: staggered lunches
    req = np.zeros((1, P))
    req[0, 8:17] = 2
    req[0, 11:13] = 1  # lunches must fall at 11:00 and 12:00, one each
    t = [ShiftTemplate("day", 8, 9, breaks=(BreakRule(1, 3, 5),))]
    plan = select_shifts(req, t, cost_weight=0, over_weight=1, under_weight=10)
    assert plan.optimal
    (sc,) = plan.shifts
    assert sc.count == 2
    assert sc.breaks == ({3: 1, 4: 1},)
    assert plan.under.sum() == 0 and plan.over.sum() == 0
    assert plan.scheduled[0].tolist() == req[0].tolist()


def test_days_off_patterns_give_an_exact_headcount() -> None:
    req = flat_week(2)
    t = [ShiftTemplate("d8", 8, 12)]
    plan = select_shifts(req, t, days_off=[DaysOffRule(work_days=5)], cost_weight=0.01)
    assert plan.under.sum() == 0
    # 2 agents needed on each of 7 days, each works 5 days: at least ceil(14 / 5) = 3
    assert plan.headcount == 3
    for (_, pattern), n in plan.headcount_by_pattern.items():
        assert len(pattern) == 5 and n > 0


def test_cyclic_week_wraps_sunday_night_into_monday() -> None:
    req = np.zeros((7, P))
    req[0, 0:4] = 1  # Monday 00:00-04:00
    t = [ShiftTemplate("night", 22, 6, days=(6,))]
    plan = select_shifts(req, t, cost_weight=0)
    assert plan.under.sum() == 0
    with pytest.raises(InfeasibleScheduleError, match="Mon 00:00"):
        select_shifts(req, t, cyclic=False)


def test_uncoverable_period_and_bad_templates_are_named() -> None:
    req = flat_week(1, 6, 22)
    with pytest.raises(InfeasibleScheduleError, match="templates") as exc:
        select_shifts(req, [ShiftTemplate("day", 8, 8)])
    assert "Mon 06:00" in str(exc.value)
    with pytest.raises(InvalidInputError, match="break window"):
        select_shifts(req, [ShiftTemplate("x", 6, 4, breaks=(BreakRule(2, 3, 3),))])
    with pytest.raises(InvalidInputError, match="required"):
        select_shifts(-req, [ShiftTemplate("day", 8, 8)])
    with pytest.raises(InfeasibleScheduleError, match="max_headcount"):
        select_shifts(
            flat_week(5), [ShiftTemplate("d", 8, 12)], max_headcount=2, allow_understaffing=False
        )


def test_templates_every_builds_names_and_breaks() -> None:
    ts = templates_every(
        2, [8, 9], periods=P, first=6, last=12, break_rules={9: (BreakRule(1, 3, 5),)}
    )
    assert len(ts) == 8
    assert ts[0].name == "0600-8" and ts[-1].breaks


# --------------------------------------------------------------------------- rostering


def small_plan() -> tuple[list[ShiftTemplate], ShiftPlan]:
    req = np.zeros((7, P))
    req[:5, 8:16] = 2
    req[5:, 8:16] = 1
    templates = [ShiftTemplate("day", 8, 8)]
    return templates, select_shifts(req, templates, cost_weight=0)


def test_roster_respects_rules_and_spreads_weekends() -> None:
    templates, plan = small_plan()
    agents = [Agent(f"a{i}", contract_hours=40) for i in range(4)]
    roster = build_roster(plan, templates, agents)
    assert roster.unfilled == {}
    assert len(roster.assignments) == 12
    for name, hours in roster.hours_by_agent.items():
        assert hours <= 40 + 18
        assert len({a.day for a in roster.assignments if a.agent == name}) == hours / 8
    # 8-hour shifts: five-day regime, at most 5 days each
    assert max(roster.hours_by_agent.values()) <= 40
    assert max(roster.weekend_shifts_by_agent.values()) == 1


def test_roster_leave_availability_and_skills() -> None:
    templates, plan = small_plan()
    agents = [
        with_leave(Agent("ani", skills=frozenset({"billing"})), 0, 1),
        Agent("budi", skills=frozenset({"billing"}), available_days=frozenset({0, 1, 2, 3, 4})),
        Agent("citra", skills=frozenset({"billing"})),
        Agent("dewi", skills=frozenset({"billing"})),
    ]
    roster = build_roster(
        plan,
        templates,
        agents,
        skills_needed={"day": frozenset({"billing"})},
    )
    assert roster.unfilled == {}
    assert not any(a.agent == "ani" and a.day in (0, 1) for a in roster.assignments)
    assert not any(a.agent == "budi" and a.day in (5, 6) for a in roster.assignments)


def test_infeasible_roster_names_the_binding_constraint() -> None:
    templates, plan = small_plan()
    agents = [Agent("solo", skills=frozenset({"tech"})), Agent("duo")]
    with pytest.raises(InfeasibleScheduleError, match="skills"):
        build_roster(
            plan,
            templates,
            agents,
            skills_needed={"day": frozenset({"tech"})},
            strict=True,
        )
    roster = build_roster(plan, templates, [Agent("one")])
    assert sum(roster.unfilled.values()) == 12 - 5


def test_min_rest_between_shifts() -> None:
    req = np.zeros((2, P))
    req[0, 16:23] = 1
    req[1, 6:13] = 1
    templates = [ShiftTemplate("late", 16, 7), ShiftTemplate("early", 6, 7)]
    plan = select_shifts(req, templates, cost_weight=0)
    roster = build_roster(
        plan,
        templates,
        [Agent("a"), Agent("b")],
        rules=LabourRules(min_rest_hours=11),
    )
    workers = {a.template: a.agent for a in roster.assignments}
    assert workers["late"] != workers["early"]  # 23:00 -> 06:00 is only 7 h of rest
    with pytest.raises(InfeasibleScheduleError, match="rest"):
        build_roster(
            plan,
            templates,
            [Agent("a")],
            strict=True,
            rules=LabourRules(min_rest_hours=11),
        )
