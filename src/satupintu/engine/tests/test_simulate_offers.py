"""Simulator option ``offers``: agents take time to accept, miss offers and get paused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from satupintu.engine.simulate import ABANDONED, ANSWERED, ScenarioError, run_once
from satupintu.engine.simulate import scenario_from_dict as load
from satupintu.engine.tests.test_simulate import base


def with_offers(offers: Any, **rules: Any) -> dict[str, Any]:
    data = base()
    data["offers"] = offers
    data["rules"].update(rules)
    return data


def test_answer_time_delays_every_answer_and_keeps_the_contacts() -> None:
    plain = run_once(load(base()), 3)
    ringing = run_once(load(with_offers({"answer_time": 4})), 3)
    # the same contacts (own random stream for answers), answered 4 s later at least
    assert np.array_equal(plain.arrival, ringing.arrival)
    assert np.array_equal(plain.handle, ringing.handle)
    ans = ringing.outcome == ANSWERED
    assert ans.sum() > 100
    assert np.all(ringing.wait[ans] >= 4.0 - 1e-9)
    assert ringing.missed_offers == 0 and ringing.pauses == 0
    assert np.nanmean(ringing.wait[ans]) > np.nanmean(plain.wait[plain.outcome == ANSWERED])
    again = run_once(load(with_offers({"answer_time": 4})), 3)
    assert np.array_equal(ringing.agent, again.agent)


def test_missed_offers_time_out_and_pause_the_agent() -> None:
    # every offer is missed: nobody is answered, and agents are paused and come back
    data = with_offers({"miss_share": 1.0, "resume_after": 120},
                       accept_timeout=10, max_missed_offers=2)
    res = run_once(load(data), 1)
    assert not np.any(res.outcome == ANSWERED)
    assert res.missed_offers > 20
    assert res.pauses >= 6  # six agents paused at least once; resumed agents miss again
    sales = res.queue == 0  # sales contacts have patience: they give up
    assert np.all(res.outcome[sales] == ABANDONED)


def test_some_missed_offers_still_get_answered_later() -> None:
    data = with_offers({"answer_time": {"dist": "exponential", "mean": 3}, "miss_share": 0.2},
                       accept_timeout=8)
    res = run_once(load(data), 2)
    ans = res.outcome == ANSWERED
    assert ans.mean() > 0.5
    # missed: 20 % never answered, plus P(answer >= 8 s) = exp(-8/3) of the others: 26 %
    share = res.missed_offers / (ans.sum() + res.missed_offers)
    assert 0.18 < share < 0.36, share


@pytest.mark.parametrize(
    ("offers", "message"),
    [
        ({"miss_share": 2}, "at most 1"),
        ({"answer": 3}, "unknown keys"),
        ({"answer_time": {"dist": "weibull"}}, "unknown distribution"),
        ({"resume_after": -1}, "non-negative"),
        ("fast", "expected a mapping"),
    ],
)
def test_bad_offer_options(offers: Any, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        load(with_offers(offers))
