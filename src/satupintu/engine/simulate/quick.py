"""The quick form: one FCFS queue, exponential arrivals, handle times and patience.

A specialised path (no router, no event heap): with first-come-first-served service and
identical agents, customer *n* starts service at ``max(arrival, earliest free agent)``
among the agents left by the customers served before it; a customer whose patience runs
out before that time abandons and takes no agent. This is the multi-server
Kiefer-Wolfowitz recursion with abandonment and gives the same statistics as the full
simulator with a longest-idle router on the same model (``test_simulate_quick``).
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from .distributions import ScenarioError
from .stats import ci95


@dataclass(frozen=True)
class QuickResult:
    customers: int
    answered: int
    abandoned: int
    sl: float  # answered within t / answered
    sl_over_offered: float  # answered within t / (answered + abandoned)
    p_wait: float  # share of customers who waited at all
    p_abandon: float
    asa_s: float  # mean wait of answered customers
    mean_wait_all_s: float
    seconds: float
    customers_per_s: float
    sl_ci: float = math.nan  # 95 % CI half-widths over replications (nan for one)
    asa_ci: float = math.nan
    p_abandon_ci: float = math.nan

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _one(lam: float, aht: float, c: int, patience: float | None, t: float, n: int,
         seed: int, warmup: int) -> tuple[int, int, int, int, int, float, float]:
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / lam, n)).tolist()
    service = rng.exponential(aht, n).tolist()
    pat = rng.exponential(patience, n).tolist() if patience is not None else None
    free = [0.0] * c
    heapreplace = heapq.heapreplace
    answered = abandoned = within = waited = 0
    wait_ans = wait_all = 0.0
    for k in range(n):
        a = arrivals[k]
        f = free[0]
        if f <= a:
            heapreplace(free, a + service[k])
            if k >= warmup:
                answered += 1
                within += 1
            continue
        w = f - a
        if pat is not None and pat[k] < w:
            if k >= warmup:
                abandoned += 1
                waited += 1
                wait_all += pat[k]
            continue
        heapreplace(free, f + service[k])
        if k >= warmup:
            answered += 1
            waited += 1
            wait_ans += w
            wait_all += w
            if w <= t:
                within += 1
    return answered, abandoned, within, waited, n - warmup, wait_ans, wait_all


def quick_simulate(
    *, calls: float, interval_s: float, aht_s: float, agents: int,
    patience_s: float | None = None, t_s: float = 20.0, customers: int = 100_000,
    seed: int = 1, replications: int = 1, warmup: float = 0.02,
) -> QuickResult:
    """Simulate ``customers`` customers of an M/M/c(+M) queue, FCFS, in steady state."""
    for name, v in (("calls", calls), ("interval", interval_s), ("aht", aht_s)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 or math.isinf(v):
            raise ScenarioError(f"--{name} must be a positive number")
    if agents < 1:
        raise ScenarioError("--agents must be at least 1")
    if customers < 10:
        raise ScenarioError("--customers must be at least 10")
    if patience_s is not None and not patience_s > 0:
        raise ScenarioError("--patience must be positive")
    if t_s < 0:
        raise ScenarioError("--t must not be negative")
    lam = calls / interval_s
    if patience_s is None and lam * aht_s >= agents:
        raise ScenarioError(
            f"offered load {lam * aht_s:.2f} Erlang needs more than {agents} agents "
            "without abandonment (the queue grows without bound)"
        )
    reps = max(1, replications)
    per = customers // reps
    warm = int(per * warmup)
    t0 = time.perf_counter()
    rows = [_one(lam, aht_s, agents, patience_s, t_s, per, seed + r, warm) for r in range(reps)]
    secs = time.perf_counter() - t0
    tot = [int(sum(r[i] for r in rows)) for i in range(5)]
    wait_ans = sum(r[5] for r in rows)
    wait_all = sum(r[6] for r in rows)
    answered, abandoned, within, waited, counted = tot
    offered = answered + abandoned

    def ratio(a: float, b: float) -> float:
        return a / b if b else math.nan

    sl_ci = asa_ci = ab_ci = math.nan
    if reps > 1:
        sl_ci = ci95([ratio(r[2], r[0]) for r in rows])[1]
        asa_ci = ci95([ratio(r[5], r[0]) for r in rows])[1]
        ab_ci = ci95([ratio(r[1], r[4]) for r in rows])[1]
    return QuickResult(
        customers=per * reps, answered=answered, abandoned=abandoned,
        sl=ratio(within, answered), sl_over_offered=ratio(within, offered),
        p_wait=ratio(waited, counted), p_abandon=ratio(abandoned, counted),
        asa_s=ratio(wait_ans, answered), mean_wait_all_s=ratio(wait_all, counted),
        seconds=secs, customers_per_s=ratio(per * reps, secs),
        sl_ci=sl_ci, asa_ci=asa_ci, p_abandon_ci=ab_ci,
    )
