"""Erlang B/C/A against exact rational arithmetic and an independent Markov-chain oracle."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from satupintu.engine.erlang import (
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    log_a_function,
    offered_load,
)
from satupintu.engine.wfm_errors import InvalidInputError


def exact_erlang_b(n: int, a: Fraction) -> Fraction:
    b = Fraction(1)
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def exact_erlang_c(n: int, a: Fraction) -> Fraction:
    b = exact_erlang_b(n, a)
    return n * b / (n - a * (1 - b))


# --------------------------------------------------------------------------- worked example


def test_worked_example_100_calls_30_min_180s() -> None:
    """The textbook example: 100 calls / 30 min, AHT 180 s, 80/20.

    A = 10 Erlangs.  Exact arithmetic gives, for N = 13, P(wait) = 0.2853, SL = 0.7956 and
    ASA = 17.1 s (short of 80/20), and for N = 14 P(wait) = 0.1741, SL = 0.8884, ASA =
    7.84 s: the answer is 14 agents.  (The figures 0.3435 / 0.8670 / 10.7 s sometimes
    quoted for N = 13 do not follow from the Erlang C formula.)
    """
    a = offered_load(100, 1800, 180)
    assert float(a) == 10.0
    m = erlang_c_metrics([13, 14], a, 180, 20)
    assert m.p_wait.round(4).tolist() == [0.2853, 0.1741]
    assert m.sl.round(4).tolist() == [0.7956, 0.8884]
    assert m.asa_s.round(2).tolist() == [17.12, 7.84]
    assert m.occupancy.round(4).tolist() == [0.7692, 0.7143]
    for n in (13, 14):
        c = exact_erlang_c(n, Fraction(10))
        sl = 1 - float(c) * math.exp(-(n - 10) * 20 / 180)
        idx = n - 13
        assert m.p_wait[idx] == pytest.approx(float(c), rel=1e-12)
        assert m.sl[idx] == pytest.approx(sl, rel=1e-12)


@pytest.mark.parametrize(
    ("n", "a"),
    [(1, "0.5"), (2, "1.5"), (5, "0.01"), (30, "25.3"), (100, "80"), (250, "240.5"), (7, "20")],
)
def test_erlang_b_and_c_match_exact_fractions(n: int, a: str) -> None:
    fa = Fraction(a)
    assert float(erlang_b(n, float(fa))) == pytest.approx(float(exact_erlang_b(n, fa)), rel=1e-11)
    expected_c = float(exact_erlang_c(n, fa)) if n > fa else 1.0
    assert float(erlang_c(n, float(fa))) == pytest.approx(expected_c, rel=1e-11)


def test_p_wait_is_one_not_above_one_when_unstable() -> None:
    c = erlang_c([1, 5, 10, 10], [1.0, 7.0, 10.0, 50.0])
    assert c.tolist() == [1.0, 1.0, 1.0, 1.0]
    m = erlang_c_metrics(10, 12.0, 180, 20)
    assert float(m.sl) == 0.0
    assert math.isinf(float(m.asa_s))


def test_large_and_tiny_loads_are_stable() -> None:
    # 100,000 agents: no overflow, answers between 0 and 1, and monotone in N
    n = np.array([99_000, 99_500, 100_000, 100_500, 101_000])
    c = erlang_c(n, 99_000.0)
    assert c[0] == 1.0
    assert np.all(np.diff(c) < 0)
    assert 0.0 < c[-1] < 1e-3
    b = erlang_b([10, 1_000, 50_000], 100_000.0)  # far below the load: B ~ 1 - N/A
    assert b == pytest.approx(1 - np.array([10, 1_000, 50_000]) / 100_000, rel=1e-3)
    assert np.all(b > 0)
    tiny = erlang_c([1, 2], 1e-6)
    assert tiny[0] == pytest.approx(1e-6, rel=1e-5)
    assert 0 < tiny[1] < 1e-11
    assert float(erlang_c(3, 0.0)) == 0.0


def test_broadcasting_intervals_queues_scenarios() -> None:
    agents = np.arange(11, 21).reshape(1, 10, 1)
    load = np.array([5.0, 10.0]).reshape(2, 1, 1)
    aht = np.array([120.0, 180.0, 300.0]).reshape(1, 1, 3)
    m = erlang_c_metrics(agents, load, aht, 20)
    assert m.sl.shape == (2, 10, 3)
    assert m.sl[1, 3, 1] == pytest.approx(float(erlang_c_metrics(14, 10.0, 180, 20).sl))


def test_bad_input_names_the_field() -> None:
    with pytest.raises(InvalidInputError, match="calls"):
        offered_load(-1, 1800, 180)
    with pytest.raises(InvalidInputError, match="aht_s"):
        offered_load(10, 1800, 0)
    with pytest.raises(InvalidInputError, match="load"):
        erlang_c(3, float("nan"))
    with pytest.raises(InvalidInputError, match="patience_s"):
        erlang_a_metrics(3, 1.0, 180, 0)


# --------------------------------------------------------------------------- Erlang A oracle


def ctmc_oracle(n: int, load: float, aht: float, patience: float, t: float) -> dict[str, float]:
    """Birth-death chain truncated far out, plus a tagged-caller chain solved with expm."""
    mu, theta = 1.0 / aht, 1.0 / patience
    lam = load * mu
    k_max = n + 400
    logp = np.zeros(k_max + 1)
    for k in range(1, k_max + 1):
        rate_out = min(k, n) * mu + max(k - n, 0) * theta
        logp[k] = logp[k - 1] + math.log(lam) - math.log(rate_out)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    p_wait = float(p[n:].sum())
    queue = np.arange(k_max + 1) - n
    p_ab = float(theta * (p * np.maximum(queue, 0)).sum() / lam)
    served_within = 1.0 - p_wait
    served_total = 1.0 - p_wait
    waited_served = 0.0
    m_max = 250
    for m in range(m_max):
        w = p[n + m]
        if w < 1e-16:
            continue
        # transient states: position j = m..0 ahead; absorbing: served, abandoned
        size = m + 3
        q = np.zeros((size, size))
        served_idx, ab_idx = m + 1, m + 2
        for j in range(m + 1):
            i = m - j  # row of position j
            move = n * mu + j * theta
            target = served_idx if j == 0 else i + 1
            q[i, target] += move
            q[i, ab_idx] += theta
            q[i, i] = -(move + theta)
        start = np.zeros(size)
        start[0] = 1.0
        served_within += w * float((start @ expm(q * t))[served_idx])
        rates = np.array([n * mu + j * theta for j in range(m, -1, -1)])
        probs = np.cumprod(rates / (rates + theta))
        served_total += w * float(probs[-1])
        # E[V; served]: V is the sum of stage times, served iff the patience outlives it
        # E[V e^{-theta V}] = sum_i (prod_{k} r_k/(r_k+theta)) * 1/(r_i+theta)
        waited_served += w * float(probs[-1] * np.sum(1.0 / (rates + theta)))
    return {
        "p_wait": p_wait,
        "p_abandon": p_ab,
        "sl_over_offered": served_within,
        "served": served_total,
        "asa_s": waited_served / served_total,
    }


@pytest.mark.parametrize(
    ("n", "load", "aht", "patience", "t"),
    [
        (13, 10.0, 180.0, 180.0, 20.0),
        (8, 10.0, 180.0, 120.0, 30.0),
        (3, 2.5, 300.0, 600.0, 10.0),
        (20, 25.0, 240.0, 90.0, 60.0),
        (1, 0.3, 60.0, 30.0, 5.0),
    ],
)
def test_erlang_a_matches_markov_chain(
    n: int, load: float, aht: float, patience: float, t: float
) -> None:
    got = erlang_a_metrics(n, load, aht, patience, t)
    want = ctmc_oracle(n, load, aht, patience, t)
    assert float(got.p_wait) == pytest.approx(want["p_wait"], rel=1e-8)
    assert float(got.p_abandon) == pytest.approx(want["p_abandon"], rel=1e-8)
    assert float(got.sl_over_offered) == pytest.approx(want["sl_over_offered"], rel=1e-7)
    assert 1 - float(got.p_abandon) == pytest.approx(want["served"], rel=1e-8)
    assert float(got.asa_s) == pytest.approx(want["asa_s"], rel=1e-7)
    assert float(got.sl_over_answered) == pytest.approx(
        want["sl_over_offered"] / want["served"], rel=1e-7
    )


def test_erlang_a_short_abandons_formula() -> None:
    m = erlang_a_metrics(9, 10.0, 180, 120, 20, short_abandon_s=5)
    # answered within T over (offered - abandoned within 5 s) lies between the other two
    assert m.sl_over_offered < m.sl_excluding_short_abandons < m.sl_over_answered
    no_short = erlang_a_metrics(9, 10.0, 180, 120, 20, short_abandon_s=0)
    assert float(no_short.sl_excluding_short_abandons) == pytest.approx(
        float(no_short.sl_over_offered), rel=1e-12
    )


def test_erlang_a_overloaded_and_large() -> None:
    # A = 500, only 450 agents: stable under Erlang A, P(wait) close to 1, abandonment ~ 10 %
    m = erlang_a_metrics(450, 500.0, 180, 180, 20)
    assert 0.9 < float(m.p_wait) <= 1.0
    assert float(m.p_abandon) == pytest.approx(0.1, abs=0.02)
    big = erlang_a_metrics([99_000, 100_000, 101_000], 100_000.0, 300, 600, 20)
    assert np.all(np.diff(big.p_abandon) < 0)
    assert np.all(np.isfinite(big.asa_s))
    zero = erlang_a_metrics(0, 5.0, 180, 60, 20)
    assert float(zero.p_abandon) == 1.0


def test_log_a_function_series_and_gamma_forms_agree() -> None:
    x = np.array([50.0, 200.0, 1e4])
    y = np.array([10.0, 180.0, 9e3])
    series = np.log(
        [
            sum(math.prod(yy / (xx + k) for k in range(1, m + 1)) for m in range(4000))
            for xx, yy in zip(x, y, strict=True)
        ]
    )
    assert log_a_function(x, y) == pytest.approx(series, rel=1e-9)


# --------------------------------------------------------------------------- properties

loads = st.floats(min_value=0.05, max_value=400.0)
ahts = st.floats(min_value=10.0, max_value=1200.0)


@settings(max_examples=60, deadline=None)
@given(load=loads, aht=ahts, extra=st.integers(min_value=1, max_value=40))
def test_erlang_c_monotone_in_agents_and_load(load: float, aht: float, extra: int) -> None:
    n0 = math.floor(load) + 1
    n = np.arange(n0, n0 + extra + 1)
    m = erlang_c_metrics(n, load, aht, 20)
    assert np.all(np.diff(m.p_wait) <= 1e-15)
    assert np.all(np.diff(m.sl) >= -1e-15)
    assert np.all(np.diff(m.asa_s) <= 1e-12)
    heavier = erlang_c_metrics(n, load * 1.05, aht, 20)
    assert np.all(heavier.p_wait >= m.p_wait - 1e-15)


@settings(max_examples=60, deadline=None)
@given(
    load=st.floats(min_value=0.05, max_value=200.0),
    aht=ahts,
    patience_factor=st.floats(min_value=0.05, max_value=20.0),
)
def test_erlang_a_monotone_in_agents(load: float, aht: float, patience_factor: float) -> None:
    n = np.arange(1, math.ceil(load * 1.5) + 5)
    m = erlang_a_metrics(n, load, aht, aht * patience_factor, 20)
    assert np.all(np.diff(m.p_wait) <= 1e-12)
    assert np.all(np.diff(m.p_abandon) <= 1e-12)
    assert np.all(np.diff(m.sl_over_offered) >= -1e-9)
    assert np.all(np.diff(m.asa_s) <= 1e-9)
    assert np.all((m.p_abandon >= 0) & (m.p_abandon <= 1))


@settings(max_examples=40, deadline=None)
@given(load=st.floats(min_value=0.1, max_value=60.0), aht=ahts, extra=st.integers(1, 10))
def test_erlang_a_tends_to_erlang_c_as_patience_grows(load: float, aht: float, extra: int) -> None:
    n = math.ceil(load + 1) + extra
    c = erlang_c_metrics(n, load, aht, 20)
    near = erlang_a_metrics(n, load, aht, aht * 1e2, 20)
    a = erlang_a_metrics(n, load, aht, aht * 1e5, 20)
    assert float(a.p_wait) == pytest.approx(float(c.p_wait), rel=1e-3, abs=1e-9)
    assert float(a.sl_over_offered) == pytest.approx(float(c.sl), rel=1e-3, abs=1e-9)
    assert float(a.asa_s) == pytest.approx(float(c.asa_s), rel=2e-3, abs=1e-6)
    assert float(a.p_abandon) < 1e-3
    # and the gap closes as patience grows
    assert abs(float(a.p_wait - c.p_wait)) <= abs(float(near.p_wait - c.p_wait)) + 1e-12
    assert abs(float(a.asa_s - c.asa_s)) <= abs(float(near.asa_s - c.asa_s)) + 1e-9
