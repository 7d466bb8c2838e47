"""Required agents: minimality, combined targets, shrinkage, chat, multi-skill, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satupintu.engine.erlang import erlang_a_metrics, erlang_c_metrics
from satupintu.engine.staffing import (
    Targets,
    chat_required_agents,
    multiskill_estimate,
    required_agents,
    required_agents_for_load,
    scheduled_staff,
)
from satupintu.engine.wfm_errors import InvalidInputError, UnreachableTargetError


def test_worked_example_needs_14_agents_and_20_scheduled_at_30_percent_shrinkage() -> None:
    n = required_agents(100, 1800, 180, Targets(service_level=0.8, service_time_s=20))
    assert int(n) == 14
    assert int(scheduled_staff(n, 0.3)) == 20


def test_search_starts_at_floor_a_plus_one() -> None:
    # A = 10.6 Erlangs of 1-second calls: 11 agents already answer 99.9 % within 20 s.
    # A search starting at round(A + 1) = 12 (pyworkforce) returns one agent too many.
    n = required_agents_for_load(10.6, 1.0, Targets(service_level=0.8))
    assert int(n) == 11
    assert float(erlang_c_metrics(11, 10.6, 1.0, 20).sl) > 0.8


def test_erlang_a_does_not_overstaff_when_callers_abandon() -> None:
    # A = 500, 80/20, patience 3 min: Erlang A needs well under A agents
    n = int(required_agents_for_load(500.0, 180, Targets(service_level=0.8), patience_s=180))
    assert n < 500
    m = erlang_a_metrics([n - 1, n], 500.0, 180, 180, 20)
    assert m.sl_over_offered[1] >= 0.8 > m.sl_over_offered[0]
    # Erlang C needs more than the load
    assert int(required_agents_for_load(500.0, 180, Targets(service_level=0.8))) > 500


def test_combined_targets_take_the_largest() -> None:
    load = np.array([2.0, 10.0, 55.5, 300.0])
    single = [
        Targets(service_level=0.9, service_time_s=15),
        Targets(max_asa_s=10),
        Targets(max_occupancy=0.85),
        Targets(max_p_wait=0.3),
    ]
    each = np.stack([required_agents_for_load(load, 240, t) for t in single])
    both = required_agents_for_load(
        load,
        240,
        Targets(
            service_level=0.9, service_time_s=15, max_asa_s=10, max_occupancy=0.85, max_p_wait=0.3
        ),
    )
    assert both.tolist() == each.max(axis=0).tolist()
    with_ab = required_agents_for_load(
        load, 240, Targets(service_level=0.8, max_abandon=0.02), patience_s=120
    )
    only_sl = required_agents_for_load(load, 240, Targets(service_level=0.8), patience_s=120)
    assert np.all(with_ab >= only_sl)
    m = erlang_a_metrics(with_ab, load, 240, 120, 20)
    assert np.all(m.p_abandon <= 0.02)


def test_sl_formula_changes_the_answer_for_erlang_a() -> None:
    offered = required_agents_for_load(50.0, 300, Targets(service_level=0.8), patience_s=60)
    answered = required_agents_for_load(
        50.0, 300, Targets(service_level=0.8, sl_formula="over_answered"), patience_s=60
    )
    short = required_agents_for_load(
        50.0,
        300,
        Targets(service_level=0.8, sl_formula="excluding_short_abandons", short_abandon_s=10),
        patience_s=60,
    )
    assert int(answered) <= int(short) <= int(offered)


def test_zero_volume_needs_no_agents_unless_a_minimum_is_set() -> None:
    t = Targets(service_level=0.8)
    assert required_agents([0, 0], 1800, 180, t).tolist() == [0, 0]
    assert required_agents([0, 5], 1800, 180, t, min_agents=2).tolist() == [2, 2]


def test_vectorised_shape_and_large_loads() -> None:
    calls = np.linspace(0, 400, 336 * 5).reshape(336, 5)
    n = required_agents(calls, 1800, 300, Targets(service_level=0.8))
    assert n.shape == (336, 5)
    huge = int(required_agents_for_load(100_000.0, 300, Targets(service_level=0.8)))
    assert 100_000 < huge < 100_100
    assert float(erlang_c_metrics(huge - 1, 100_000.0, 300, 20).sl) < 0.8


@settings(max_examples=50, deadline=None)
@given(
    load=st.floats(min_value=0.01, max_value=300.0),
    aht=st.floats(min_value=5.0, max_value=900.0),
    sl=st.floats(min_value=0.05, max_value=0.99),
    t=st.floats(min_value=0.0, max_value=120.0),
)
def test_erlang_c_answer_is_minimal(load: float, aht: float, sl: float, t: float) -> None:
    n = int(required_agents_for_load(load, aht, Targets(service_level=sl, service_time_s=t)))
    assert n >= math.floor(load) + 1
    m = erlang_c_metrics([n - 1, n], load, aht, t)
    assert m.sl[1] >= sl - 1e-12
    assert n == math.floor(load) + 1 or m.sl[0] < sl


@settings(max_examples=40, deadline=None)
@given(
    load=st.floats(min_value=0.01, max_value=150.0),
    aht=st.floats(min_value=5.0, max_value=900.0),
    patience=st.floats(min_value=5.0, max_value=2000.0),
    sl=st.floats(min_value=0.05, max_value=0.95),
    ab=st.floats(min_value=0.005, max_value=0.5),
)
def test_erlang_a_answer_is_minimal(
    load: float, aht: float, patience: float, sl: float, ab: float
) -> None:
    targets = Targets(service_level=sl, max_abandon=ab)
    n = int(required_agents_for_load(load, aht, targets, patience_s=patience))
    m = erlang_a_metrics([max(n - 1, 0), n], load, aht, patience, 20)
    assert m.sl_over_offered[1] >= sl - 1e-12 and m.p_abandon[1] <= ab + 1e-12
    assert n == 0 or m.sl_over_offered[0] < sl or m.p_abandon[0] > ab


def test_shrinkage() -> None:
    assert scheduled_staff([14, 10, 0], 0.3).tolist() == [20, 15, 0]
    assert scheduled_staff(7, 0.0).tolist() == 7
    with pytest.raises(InvalidInputError, match="shrinkage"):
        scheduled_staff(7, 1.0)


def test_chat_concurrency() -> None:
    t = Targets(service_level=0.8, service_time_s=60)
    one = chat_required_agents(200, 1800, 600, 1, t)
    three = chat_required_agents(200, 1800, 600, 3, t)
    slow = chat_required_agents(200, 1800, 600, 3, t, slowdown_per_extra_chat=0.25)
    assert int(three) < int(slow) < int(one)
    assert int(three) == math.ceil(int(one) / 3)
    with pytest.raises(InvalidInputError, match="concurrency"):
        chat_required_agents(200, 1800, 600, 0, t)


def test_multiskill_counts_a_two_skill_agent_once() -> None:
    t = Targets(service_level=0.8)
    split = multiskill_estimate([100, 60], 1800, [180, 180], [{0}, {1}], t)
    assert split.total == split.separate == 23
    shared = multiskill_estimate([100, 60], 1800, [180, 180], [{0, 1}], t)
    assert shared.total == shared.pooled == 20
    mixed = multiskill_estimate([100, 60, 40], 1800, [180, 240, 300], [{0}, {1}, {0, 1, 2}], t)
    assert mixed.pooled <= mixed.total <= mixed.separate
    assert mixed.headcount_by_group[2] >= mixed.required_by_queue[2]
    with pytest.raises(InvalidInputError, match="group_skills"):
        multiskill_estimate([10, 10], 1800, 180, [{0}], t)


def test_bad_input_and_unreachable_targets() -> None:
    with pytest.raises(InvalidInputError, match="service_level"):
        required_agents(10, 1800, 180, Targets(service_level=1.0))
    with pytest.raises(InvalidInputError, match="service_level"):
        required_agents(10, 1800, 180, Targets(service_level=0.0))
    with pytest.raises(InvalidInputError, match="calls"):
        required_agents(-1, 1800, 180, Targets(service_level=0.8))
    with pytest.raises(InvalidInputError, match="calls"):
        required_agents(float("nan"), 1800, 180, Targets(service_level=0.8))
    with pytest.raises(InvalidInputError, match="aht_s"):
        required_agents(10, 1800, 0, Targets(service_level=0.8))
    with pytest.raises(InvalidInputError, match="targets"):
        required_agents(10, 1800, 180, Targets())
    with pytest.raises(InvalidInputError, match="max_asa_s"):
        required_agents(10, 1800, 180, Targets(max_asa_s=0))
    with pytest.raises(UnreachableTargetError, match="max_abandon"):
        required_agents(1000, 1800, 180, Targets(max_abandon=1e-9), patience_s=1, max_agents=200)
