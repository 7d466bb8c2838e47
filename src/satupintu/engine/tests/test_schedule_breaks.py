"""Implicit break placement (Bechtold-Jacobs forward/backward constraints) against the
explicit one-column-per-offset model, on small random instances."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from satupintu.engine.schedule import BreakRule, DaysOffRule, ShiftTemplate, select_shifts
from satupintu.engine.wfm_errors import InvalidInputError

P = 24


def random_instance(seed: int) -> tuple[np.ndarray, list[ShiftTemplate]]:
    rng = np.random.default_rng(seed)
    req = rng.integers(0, 5, size=(2, P)).astype(float)
    templates = []
    for i in range(6):
        length = int(rng.integers(8, 12))
        start = int(rng.integers(0, P))  # may cross midnight (cyclic wrap)
        e = int(rng.integers(1, 3))
        late = int(rng.integers(e, length - 5))
        breaks = [BreakRule(int(rng.integers(1, 3)), e, late)]
        if rng.random() < 0.5:  # a second break after the first
            breaks.append(BreakRule(1, late + 3, length - 2))
        templates.append(ShiftTemplate(f"t{i}", start, length, breaks=tuple(breaks)))
    # nested windows on one start: extraordinary overlap needs a second chain
    templates.append(ShiftTemplate("wide", 6, 9, breaks=(BreakRule(1, 2, 6),)))
    templates.append(ShiftTemplate("narrow", 6, 9, breaks=(BreakRule(1, 4, 4),)))
    return req, templates


@pytest.mark.parametrize("seed", range(6))
def test_implicit_and_explicit_models_agree(seed: int) -> None:
    req, templates = random_instance(seed)
    kw: dict[str, Any] = {"under_weight": 3.0, "over_weight": 1.0, "cost_weight": 0.01,
                          "mip_rel_gap": 0.0}
    imp = select_shifts(req, templates, break_model="implicit", **kw)
    exp = select_shifts(req, templates, break_model="explicit", **kw)
    # one plain HiGHS call, no blocks, no reduced-cost fixing: the reference
    plain = select_shifts(req, templates, break_model="explicit", decompose=False, **kw)
    assert imp.optimal and exp.optimal and plain.optimal
    assert imp.objective == pytest.approx(plain.objective, abs=1e-6)
    assert exp.objective == pytest.approx(plain.objective, abs=1e-6)
    by_name = {t.name: t for t in templates}
    # every shift's breaks are inside their windows and add up to the shift count
    for sc in imp.shifts:
        t = by_name[sc.template]
        assert len(sc.breaks) == len(t.breaks)
        for rule, placed in zip(t.breaks, sc.breaks, strict=True):
            assert sum(placed.values()) == sc.count
            assert all(rule.earliest <= k <= rule.latest for k in placed)
    # the reported coverage is recomputed from the disaggregated breaks
    penalty = 3.0 * imp.under.sum() + imp.over.sum()
    cost = sum(0.01 * sc.count * by_name[sc.template].paid_periods() * 24 / P for sc in imp.shifts)
    assert penalty + cost == pytest.approx(imp.objective, abs=1e-6)


def test_independent_days_are_solved_as_blocks_with_the_same_optimum() -> None:
    req = np.zeros((3, P))
    req[:, 8:17] = [2, 2, 2, 1, 1, 2, 2, 2, 2]
    t = [ShiftTemplate("day", 8, 9, breaks=(BreakRule(1, 3, 5),))]
    week = select_shifts(req, t, cost_weight=0, cyclic=False)
    assert week.optimal and week.under.sum() == 0 and week.over.sum() == 0
    one = select_shifts(req[:1], t, cost_weight=0, cyclic=False)
    assert week.objective == pytest.approx(3 * one.objective)


def test_days_off_couple_the_week_and_stay_exact() -> None:
    req = np.zeros((7, P))
    req[:, 8:17] = 2
    req[:, 11:13] = 1
    t = [ShiftTemplate("day", 8, 9, breaks=(BreakRule(1, 3, 5),))]
    plan = select_shifts(req, t, days_off=[DaysOffRule(work_days=5)], cost_weight=0.0)
    assert plan.optimal
    assert plan.under.sum() == 0
    assert plan.headcount == 3  # 14 agent-days / 5


def test_unknown_break_model_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="break_model"):
        select_shifts(np.ones((1, P)), [ShiftTemplate("a", 0, P)], break_model="magic")


# --------------------------------------------------------------------------- rostering


def test_roster_respects_availability_within_the_day() -> None:
    from satupintu.engine.schedule_roster import Agent, build_roster
    from satupintu.engine.wfm_errors import InfeasibleScheduleError

    req = np.zeros((7, P))
    req[0, 6:13] = 1
    req[0, 14:21] = 1
    templates = [ShiftTemplate("early", 6, 7), ShiftTemplate("late", 14, 7)]
    plan = select_shifts(req, templates, cost_weight=0)
    mornings: dict[int, tuple[tuple[int, int], ...]] = {0: ((6, 14),)}  # Monday 06-14 only
    agents = [Agent("ani", available_periods=mornings), Agent("budi")]
    roster = build_roster(plan, templates, agents, strict=True)
    who = {a.template: a.agent for a in roster.assignments}
    assert who == {"early": "ani", "late": "budi"}
    assert Agent("x", available_periods=mornings).fits(7, 14, 7) is False
    assert Agent("x", available_periods=mornings).fits(1, 14, 7) is True
    req[0, 6:13] = 0  # only the late shift: ani alone cannot take it
    late_only = select_shifts(req, templates, cost_weight=0)
    with pytest.raises(InfeasibleScheduleError, match="availability"):
        build_roster(late_only, templates, [agents[0]], strict=True)


def test_days_off_two_stage_shortcut_matches_the_coupled_model() -> None:
    req = np.zeros((7, P))
    req[:5, 8:17] = 3
    req[:5, 11:13] = 2
    t = [ShiftTemplate("day", 8, 9, breaks=(BreakRule(1, 3, 5),))]
    rule = [DaysOffRule(work_days=5)]
    fast = select_shifts(req, t, days_off=rule, cost_weight=0.01)
    plain = select_shifts(req, t, days_off=rule, cost_weight=0.01, decompose=False)
    assert fast.optimal and plain.optimal
    assert fast.objective == pytest.approx(plain.objective)
    assert fast.headcount == plain.headcount
    assert set(fast.headcount_by_pattern) == {("default", (0, 1, 2, 3, 4))}
