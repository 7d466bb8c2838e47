"""Simulator: a queue's overflow rule moves contacts still waiting to another queue."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from satupintu.engine.simulate import ANSWERED, ScenarioError, run_once, scenario_from_dict


def scenario(overflow: Any = None) -> dict[str, Any]:
    sales: dict[str, Any] = {
        "name": "sales", "skills": {"sales": 1}, "arrivals": 25,
        "handle_time": {"dist": "exponential", "mean": 240},
        "patience": {"dist": "exponential", "mean": 600},
    }
    if overflow is not None:
        sales["overflow"] = overflow
    return {
        "interval": 1800, "intervals": 4,
        "rules": {"version": "1", "queues": {
            "sales": {"steps": [{"target": "'sales' in agent.skills"}]},
            "backup": {"steps": [{"target": "'backup' in agent.skills"}]},
        }},
        "queues": [sales, {"name": "backup", "arrivals": 0}],
        "agents": [
            {"group": "sales", "count": 2, "skills": {"sales": 3}},
            {"group": "backup", "count": 2, "skills": {"backup": 3}},
        ],
    }


def test_contacts_waiting_too_long_overflow_to_the_backup_queue() -> None:
    plain = run_once(scenario_from_dict(scenario()), 4)
    res = run_once(scenario_from_dict(scenario({"to": "backup", "after": 45})), 4)
    backup = np.isin(res.agent, [2, 3])
    ans = res.outcome == ANSWERED
    assert not np.any(np.isin(plain.agent, [2, 3]))  # without the rule: never
    assert res.overflowed > 20 and backup.sum() > 20
    assert np.all(res.wait[backup] >= 45.0 - 1e-9)  # only after 45 s of waiting
    assert backup.sum() <= res.overflowed
    # more answered, less waiting: the backup pool helps
    assert ans.sum() > (plain.outcome == ANSWERED).sum()
    assert np.nanmean(res.wait[ans]) < np.nanmean(plain.wait[plain.outcome == ANSWERED])
    again = run_once(scenario_from_dict(scenario({"to": "backup", "after": 45})), 4)
    assert np.array_equal(res.agent, again.agent)


@pytest.mark.parametrize(
    ("overflow", "message"),
    [
        ({"to": "nowhere", "after": 30}, "not another queue"),
        ({"to": "sales", "after": 30}, "not another queue"),
        ({"to": "backup", "after": 0}, "positive"),
        ({"to": "backup"}, "overflow must be"),
    ],
)
def test_bad_overflow_rules(overflow: Any, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(scenario(overflow))


def test_overflow_needs_the_same_channel() -> None:
    data = scenario({"to": "backup", "after": 30})
    data["queues"][1]["channel"] = "chat"
    with pytest.raises(ScenarioError, match="channel chat is not call"):
        scenario_from_dict(data)
