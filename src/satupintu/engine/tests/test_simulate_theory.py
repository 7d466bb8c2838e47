"""The simulator against queueing theory: Erlang C (M/M/c) and Erlang A (M/M/c+M).

The reference formulas are computed here (independently of ``engine.erlang``):
Erlang C in closed form; Erlang A from the birth-death chain of M/M/c+M, with the
waiting-time distribution of an arriving customer from the pure-death chain of the
customers ahead of it (matrix exponential).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from satupintu.engine.simulate.des import ABANDONED, ANSWERED, run_once
from satupintu.engine.simulate.models import mmc_scenario
from satupintu.engine.simulate.quick import quick_simulate
from satupintu.engine.simulate.stats import ci95


def erlang_c(lam: float, aht: float, c: int, t: float) -> dict[str, float]:
    a = lam * aht
    mu = 1.0 / aht
    terms = [a**k / math.factorial(k) for k in range(c)]
    top = a**c / math.factorial(c) * c / (c - a)
    pw = top / (sum(terms) + top)
    return {
        "p_wait": pw,
        "sl": 1.0 - pw * math.exp(-(c * mu - lam) * t),
        "asa": pw / (c * mu - lam),
    }


def erlang_a(
    lam: float, aht: float, c: int, patience: float, t: float, cap: int = 400
) -> dict[str, float]:
    mu, theta = 1.0 / aht, 1.0 / patience
    # stationary distribution of the number in system (truncated far in the tail)
    w = np.zeros(cap + 1)
    w[0] = 1.0
    for n in range(1, cap + 1):
        death = min(n, c) * mu + max(n - c, 0) * theta
        w[n] = w[n - 1] * lam / death
    pi = w / w.sum()
    jmax = cap - c
    # an arrival finding n >= c has j = n - c ahead; phases j..0, then served / abandoned
    size = jmax + 3
    served, aband = jmax + 1, jmax + 2
    q = np.zeros((size, size))
    f = np.zeros(jmax + 1)  # P(served | j ahead)
    g = np.zeros(jmax + 1)  # E[wait; served | j ahead]
    for j in range(jmax + 1):
        r = c * mu + j * theta
        q[j, j - 1 if j > 0 else served] = r
        q[j, aband] = theta
        q[j, j] = -(r + theta)
        p = r / (r + theta)
        prev_f = f[j - 1] if j > 0 else 1.0
        prev_g = g[j - 1] if j > 0 else 0.0
        f[j] = p * prev_f
        g[j] = p * (prev_f / (r + theta) + prev_g)
    within = expm(q * t)[: jmax + 1, served]
    p_free = pi[:c].sum()
    pq = pi[c:]
    p_served = p_free + float(pq @ f)
    return {
        "p_wait": float(pq.sum()),
        "p_abandon": float(pq @ (1.0 - f)),
        "sl": (p_free + float(pq @ within)) / p_served,
        "asa": float(pq @ g) / p_served,
    }


def _full_runs(reps: int, per: int, **kw: float | int | None) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"sl": [], "asa": [], "p_abandon": [], "p_wait": []}
    for r in range(reps):
        sc = mmc_scenario(customers=per, **kw)  # type: ignore[arg-type]
        res = run_once(sc, 1000 + r)
        keep = res.arrival > 0.05 * sc.horizon_s
        ans = keep & (res.outcome == ANSWERED)
        ab = keep & (res.outcome == ABANDONED)
        wait = res.wait
        out["sl"].append(float(np.mean(wait[ans] <= 20.0)))
        out["asa"].append(float(np.mean(wait[ans])))
        out["p_abandon"].append(float(ab.sum() / keep.sum()))
        out["p_wait"].append(float(((wait > 0) & (ans | ab)).sum() / keep.sum()))
    return out


def _within_ci(samples: list[float], expected: float) -> None:
    mean, hw = ci95(samples)
    assert abs(mean - expected) <= hw, f"theory {expected:.5f} vs sim {mean:.5f} ± {hw:.5f}"


LAM_C, AHT, C = 12 / 300, 300.0, 15


@pytest.mark.slow
def test_full_simulator_reproduces_erlang_c() -> None:
    theory = erlang_c(LAM_C, AHT, C, 20.0)
    runs = _full_runs(10, 11_000, arrival_rate=LAM_C, aht_s=AHT, agents=C)
    assert sum(1 for _ in runs["sl"]) * 11_000 >= 100_000
    _within_ci(runs["sl"], theory["sl"])
    _within_ci(runs["asa"], theory["asa"])
    _within_ci(runs["p_wait"], theory["p_wait"])


LAM_A, PAT = 15 / 300, 180.0


@pytest.mark.slow
def test_full_simulator_reproduces_erlang_a() -> None:
    theory = erlang_a(LAM_A, AHT, C, PAT, 20.0)
    runs = _full_runs(10, 11_000, arrival_rate=LAM_A, aht_s=AHT, agents=C, patience_s=PAT)
    _within_ci(runs["sl"], theory["sl"])
    _within_ci(runs["asa"], theory["asa"])
    _within_ci(runs["p_abandon"], theory["p_abandon"])


def test_quick_form_reproduces_erlang_c_and_a() -> None:
    res = quick_simulate(
        calls=12, interval_s=300, aht_s=AHT, agents=C, customers=200_000, replications=10, seed=7
    )
    theory = erlang_c(LAM_C, AHT, C, 20.0)
    assert abs(res.sl - theory["sl"]) <= res.sl_ci
    assert abs(res.asa_s - theory["asa"]) <= res.asa_ci
    res = quick_simulate(
        calls=15,
        interval_s=300,
        aht_s=AHT,
        agents=C,
        patience_s=PAT,
        customers=200_000,
        replications=10,
        seed=7,
    )
    ta = erlang_a(LAM_A, AHT, C, PAT, 20.0)
    assert abs(res.sl - ta["sl"]) <= res.sl_ci
    assert abs(res.asa_s - ta["asa"]) <= res.asa_ci
    assert abs(res.p_abandon - ta["p_abandon"]) <= res.p_abandon_ci


def test_quick_form_agrees_with_full_simulator() -> None:
    full = _full_runs(6, 8_000, arrival_rate=LAM_A, aht_s=AHT, agents=C, patience_s=PAT)
    quick = quick_simulate(
        calls=15,
        interval_s=300,
        aht_s=AHT,
        agents=C,
        patience_s=PAT,
        customers=48_000,
        replications=6,
        seed=3,
    )
    for key, q, qci in (
        ("sl", quick.sl, quick.sl_ci),
        ("asa", quick.asa_s, quick.asa_ci),
        ("p_abandon", quick.p_abandon, quick.p_abandon_ci),
    ):
        mean, hw = ci95(full[key])
        assert abs(mean - q) <= hw + qci, (key, mean, hw, q, qci)


def test_reference_formulas_agree() -> None:
    # Erlang A with (almost) infinite patience is Erlang C
    c = erlang_c(LAM_C, AHT, C, 20.0)
    a = erlang_a(LAM_C, AHT, C, 1e9, 20.0)
    assert a["sl"] == pytest.approx(c["sl"], rel=1e-5)
    assert a["asa"] == pytest.approx(c["asa"], rel=1e-4)
    assert a["p_wait"] == pytest.approx(c["p_wait"], rel=1e-6)
