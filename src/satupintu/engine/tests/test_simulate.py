"""Simulator: scenario validation, reproducibility, schedules, capacity, routing, stats."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from satupintu.engine.simulate import (
    ANSWERED,
    Replay,
    ScenarioError,
    day_totals,
    interval_table,
    load_scenario,
    replicate,
    run_once,
    scenario_from_dict,
)
from satupintu.engine.simulate.stats import ci95, service_level

EXAMPLE = Path(__file__).parents[1] / "simulate" / "examples" / "bank-day.yaml"


def base() -> dict[str, Any]:
    return {
        "name": "t",
        "start": "08:00",
        "interval": 1800,
        "intervals": 4,
        "rules": {
            "version": "1",
            "queues": {
                "sales": {
                    "steps": [
                        {"target": "agent.skills['sales'] >= 4", "timeout": 30},
                        {"target": "'sales' in agent.skills"},
                    ]
                },
                "chat": {"steps": [{"target": "'chat' in agent.skills"}]},
            },
        },
        "queues": [
            {
                "name": "sales",
                "client": "shop",
                "skills": {"sales": 1},
                "arrivals": 40,
                "handle_time": {"dist": "exponential", "mean": 200},
                "patience": {"dist": "exponential", "mean": 120},
                "acw": 10,
            },
            {
                "name": "chat",
                "channel": "chat",
                "client": "shop",
                "skills": {"chat": 1},
                "arrivals": [30, 40, 40, 30],
                "handle_time": {"dist": "lognormal", "mean": 400, "sd": 200},
            },
        ],
        "agents": [
            {
                "group": "senior",
                "count": 2,
                "skills": {"sales": 5},
                "clients": ["shop"],
                "shifts": [{"start": "08:00", "end": "10:00", "breaks": [["09:00", "09:15"]]}],
            },
            {
                "group": "junior",
                "count": 2,
                "skills": {"sales": 2},
                "clients": ["shop"],
                "shifts": [{"start": "08:30", "end": "10:00"}],
            },
            {
                "group": "chat",
                "count": 2,
                "skills": {"chat": 3},
                "clients": ["shop"],
                "capacity": {"chat": 3},
            },
        ],
    }


def mutate(path: list[Any], value: Any) -> dict[str, Any]:
    data = base()
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (mutate(["queues", 0, "arrivals"], -3), "queue 'sales': arrivals: must be non-negative"),
        (mutate(["queues", 1, "arrivals"], [1, 2]), "queue 'chat': arrivals has 2 values"),
        (
            mutate(["queues", 0, "handle_time"], {"dist": "exponential", "mean": -5}),
            "queue 'sales': handle_time: mean: must not be negative",
        ),
        (mutate(["queues", 0, "acw"], -1), "queue 'sales': acw: must not be negative"),
        (mutate(["queues", 0, "patience"], {"dist": "weibull"}), "unknown distribution"),
        (
            mutate(
                ["agents", 0, "shifts"],
                [{"start": "08:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}],
            ),
            r"agents\[0\] \(senior\): shifts overlap",
        ),
        (
            mutate(
                ["agents", 0, "shifts"],
                [{"start": "08:00", "end": "09:00", "breaks": [["08:50", "09:10"]]}],
            ),
            r"agents\[0\] \(senior\) shift 1 break 1: must lie inside the shift",
        ),
        (
            mutate(["agents", 1, "shifts"], [{"start": "10:00", "end": "09:00"}]),
            "ends before it starts",
        ),
        (mutate(["agents", 1, "shifts"], [{"start": "8h", "end": "09:00"}]), "bad time"),
        (mutate(["agents", 0, "skills"], {"sales": 9}), "proficiency of sales must be 1-5"),
        (
            mutate(["rules", "queues", "sales", "steps", 0, "target"], "agent.skills['sales' >"),
            "rules: queue 'sales' step 1: expression does not parse",
        ),
        (
            mutate(["rules", "queues", "chat", "steps", 0, "target"], "agent.shoe_size > 3"),
            "unknown attribute agent.shoe_size",
        ),
        (
            mutate(["queues", 1, "skills"], {"email": 1})
            | {
                "rules": {
                    "version": 1,
                    "queues": {
                        "sales": {"steps": [{}]},
                        "chat": {"steps": [{"target": "'email' in agent.skills"}]},
                    },
                }
            },
            "queue 'chat': no scheduled agent matches",
        ),
        (
            mutate(["rules", "queues"], {"sales": {"steps": [{}]}}),
            "queue 'chat': rule set .* has no queue 'chat'",
        ),
        (mutate(["interval"], 0), "interval: must be positive"),
    ],
)
def test_bad_scenarios_are_refused_with_the_row(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(data)


def test_reproducible_and_seed_sensitive() -> None:
    sc = scenario_from_dict(base())
    a, b, c = run_once(sc, 5), run_once(sc, 5), run_once(sc, 6)
    assert np.array_equal(a.agent, b.agent)
    assert np.array_equal(a.wait, b.wait, equal_nan=True)
    assert a.n != c.n or not np.array_equal(a.agent, c.agent)


def test_schedules_capacity_and_rules_are_respected() -> None:
    sc = scenario_from_dict(base())
    for seed in range(3):
        res = run_once(sc, seed)
        ans = res.outcome == ANSWERED
        start = res.arrival + np.nan_to_num(res.wait)
        for k, spec in enumerate(sc.agents):
            mine = ans & (res.agent == k)
            for s in start[mine]:
                assert any(a <= s < b for a, b in spec.on_duty), (spec.id, s)
            # never more concurrent contacts than the capacity allows
            spans = sorted(
                zip(start[mine], start[mine] + res.handle[mine] + res.acw[mine], strict=True)
            )
            cap = spec.capacity["chat" if "chat" in spec.skills else "call"]
            ev = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
            level = peak = 0
            for _, d in ev:
                level += d
                peak = max(peak, level)
            assert peak <= cap
        # bullseye: juniors only take sales contacts that waited at least 30 s
        sales = ans & (res.queue == 0)
        junior = np.isin(res.agent, [2, 3])
        assert np.all(res.wait[sales & junior] >= 30.0 - 1e-9)
        assert np.all(np.isin(res.agent[ans & (res.queue == 1)], [4, 5]))


def test_interval_table_consistency() -> None:
    sc = scenario_from_dict(base())
    res = run_once(sc, 1)
    t = interval_table(res)
    d = t.data
    assert d["offered"][:, -1].sum() == res.n
    assert np.all(d["answered"] + d["abandoned"] <= d["offered"])
    assert np.all(d["short_abandoned"] <= d["abandoned"])
    occ = d["occupancy"][:, -1]
    assert np.all((occ >= 0) & (occ <= 1.0 + 1e-9))
    assert t.agent_contacts.sum() == (res.outcome == ANSWERED).sum()
    tot = day_totals(t)
    assert tot["offered"][-1] == res.n
    assert 0 <= tot["sl"][-1] <= 1


def test_replications_and_confidence_intervals() -> None:
    sc = scenario_from_dict(base())
    s = replicate(sc, 4, seed=11)
    assert len(s.tables) == 4
    assert s.mean["offered"].shape == (4, 3)
    assert np.all(np.nan_to_num(s.half_width["offered"]) >= 0)
    mean, hw = ci95([1.0, 2.0, 3.0])
    assert mean == 2.0 and hw == pytest.approx(2.4841, rel=1e-3)


def test_replay_uses_the_given_contacts() -> None:
    data = base()
    sc = scenario_from_dict(data)
    times = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    sc.replay = Replay(
        times,
        np.zeros(5, dtype=np.int64),
        np.array([100.0] * 5),
        np.array([5.0, 5.0, 1e9, 1e9, 1e9]),
    )
    res = run_once(sc, 1)
    assert res.n == 5
    assert np.allclose(res.arrival, times)
    # no agent before 08:00 + 0: seniors start at t=0 and take the first two contacts
    assert (res.outcome == ANSWERED).sum() >= 2


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("answered", 80 / 100),
        ("offered", 80 / 120),
        ("asterisk_sl2", 90 / 120),
        ("exclude_short_abandons", 80 / 115),
    ],
)
def test_service_level_formulas(formula: str, expected: float) -> None:
    assert service_level(formula, 80, 100, 20, 10, 5) == pytest.approx(expected)


def test_example_scenario_runs(tmp_path: Path) -> None:
    sc = load_scenario(EXAMPLE)
    s = replicate(sc, 2)
    assert s.mean["offered"][:, -1].sum() > 1000
    # the same file as JSON gives the same scenario
    js = tmp_path / "x.json"
    import json

    js.write_text(json.dumps(yaml.safe_load(EXAMPLE.read_text())))
    sc2 = load_scenario(js)
    assert [a.id for a in sc2.agents] == [a.id for a in sc.agents]
    assert copy.deepcopy(sc2.queues) == sc.queues


def test_unreadable_file() -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario("/nonexistent/scenario.yaml")


def test_replay_file_in_a_scenario(tmp_path: Path) -> None:
    (tmp_path / "calls.csv").write_text(
        "time,queue,handle,patience\n08:00:05,sales,100,\n08:00:06,sales,,30\n45,chat,200,\n"
    )
    data = base() | {"replay": "calls.csv"}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    sc = load_scenario(tmp_path / "s.yaml")
    assert sc.replay is not None
    assert sc.replay.time.tolist() == [5.0, 6.0, 45.0]
    res = run_once(sc, 1)
    assert res.n == 3 and res.handle[0] == 100.0 and res.handle[2] == 200.0
    (tmp_path / "calls.csv").write_text("time,queue\n08:00:05,nosuch\n")
    with pytest.raises(ScenarioError, match=r"replay calls.csv row 2: unknown queue"):
        load_scenario(tmp_path / "s.yaml")
    (tmp_path / "calls.csv").write_text("time,queue,handle\n10,sales,-3\n")
    with pytest.raises(ScenarioError, match=r"row 2: handle: must be non-negative"):
        load_scenario(tmp_path / "s.yaml")


@pytest.mark.parametrize("strategy", ["longest_idle", "fewest_contacts", "round_robin"])
def test_fast_paths_choose_like_the_general_path(strategy: str) -> None:
    """A step without a target takes the matcher's shortcuts; an always-true target does not.

    Both must give the same agent to every contact (same seed, same contacts).
    """
    from satupintu.engine.router import RuleSet
    from satupintu.engine.simulate import mmc_scenario

    fast = mmc_scenario(arrival_rate=12 / 300, aht_s=300, agents=15, customers=3000,
                        patience_s=200, strategy=strategy)
    slow = copy.copy(fast)
    slow.rules = RuleSet.from_dict({"version": "slow", "queues": {"q": {
        "strategy": strategy, "steps": [{"target": "agent.id != interaction.id"}]}}})
    a, b = run_once(fast, 9), run_once(slow, 9)
    assert np.array_equal(a.agent, b.agent)
    assert np.array_equal(a.outcome, b.outcome)
    assert np.array_equal(a.wait, b.wait, equal_nan=True)
