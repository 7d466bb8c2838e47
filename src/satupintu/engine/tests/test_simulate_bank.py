"""Replay of the real Anonymous Bank call log (skipped when the data file is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from satupintu.engine.simulate import ANSWERED, run_once
from satupintu.engine.simulate.bank import (
    N_BINS,
    busy_gaps,
    compare_bank_log,
    day_scenario,
    load_bank_log,
)

LOG = Path("/work/shared/data/anonymous-bank-1999-02.tsv")
pytestmark = pytest.mark.skipif(not LOG.exists(), reason="bank log not available")


def test_log_is_read_as_documented() -> None:
    days = load_bank_log(LOG)
    assert len(days) == 28
    answered = sum(int(d.answered.sum()) for d in days)
    abandoned = sum(int((~d.answered).sum()) for d in days)
    assert (answered, abandoned) == (26_671, 3_932)
    gaps = busy_gaps(days)
    assert gaps.size > 10_000 and np.median(gaps) < 60


def test_one_day_replays_the_real_contacts() -> None:
    day = load_bank_log(LOG)[0]
    sc = day_scenario(day)
    assert sc.replay is not None
    res = run_once(sc, 1)
    ok = (day.arrival >= 0) & (day.arrival < N_BINS * 1800)
    assert res.n == int(ok.sum())
    assert np.allclose(np.sort(res.arrival), np.sort(day.arrival[ok]))
    served_real = ok & day.answered
    # answered calls in the log keep their real handle time
    assert np.isin(day.handle[served_real], res.handle).all()
    assert (res.outcome == ANSWERED).sum() > 0.7 * res.n
    assert len(sc.agents) == len({s for s, _, _ in day.servers})


def test_comparison_per_half_hour() -> None:
    c = compare_bank_log(LOG, replications=2, wrap_up=True)
    assert len(c.label) == N_BINS == 34 and c.label[0] == "07:00"
    assert 30_500 < c.offered.sum() <= 26_671 + 3_932  # a few calls before 07:00 left out
    for m in ("sl", "asa_s", "abandon_rate"):
        assert np.isfinite(c.sim[m]).all() and np.isfinite(c.log[m]).all()
    assert 0.5 < c.total_log["sl"] < 0.7
