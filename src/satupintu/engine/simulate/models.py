"""Ready-made scenarios: one queue with exponential arrivals, handle times, patience."""

from __future__ import annotations

import math

from ..router import RuleSet
from .distributions import Dist, ScenarioError
from .scenario import AgentSpec, QueueSpec, Scenario

_ANY = RuleSet.from_dict({"version": "mmc", "queues": {"q": {"steps": [{}]}}})


def mmc_scenario(
    *, arrival_rate: float, aht_s: float, agents: int, customers: int,
    patience_s: float | None = None, threshold_s: float = 20.0, intervals: int = 10,
    seed: int = 1, strategy: str = "longest_idle",
) -> Scenario:
    """M/M/c (or M/M/c+M with ``patience_s``) as a scenario for the full simulator."""
    for name, v in (("arrival rate", arrival_rate), ("AHT", aht_s)):
        if not v > 0 or math.isinf(v):
            raise ScenarioError(f"{name} must be positive")
    if agents < 1 or customers < 1:
        raise ScenarioError("agents and customers must be at least 1")
    if patience_s is not None and not patience_s > 0:
        raise ScenarioError("patience must be positive")
    horizon = customers / arrival_rate
    interval = horizon / intervals
    rules = _ANY
    if strategy != "longest_idle":
        rules = RuleSet.from_dict(
            {"version": "mmc", "queues": {"q": {"strategy": strategy, "steps": [{}]}}}
        )
    q = QueueSpec("q", "call", "", {}, "", 0, 0.0, (arrival_rate * interval,) * intervals,
                  Dist.exponential(aht_s),
                  Dist("none") if patience_s is None else Dist.exponential(patience_s),
                  Dist("constant", 0.0))
    staff = [AgentSpec(f"a{k}", {}, (), (), {"call": 1, "chat": 0, "email": 0},
                       ((0.0, math.inf),)) for k in range(agents)]
    return Scenario("M/M/c", interval, intervals, [q], staff, rules, seed=seed,
                    sl_threshold_s=threshold_s)
