"""Forecasting: seasonality, holidays (Idul Fitri), adjustments, AHT, backtest metrics."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from satupintu.engine.forecast import (
    backtest,
    bin_events,
    forecast_aht,
    forecast_volumes,
    holiday_names,
    mase,
    wape,
)
from satupintu.engine.wfm_errors import InvalidInputError

P = 48
MONDAY = dt.date(2025, 1, 6)


def synthetic(weeks: int, start: dt.date = MONDAY, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = np.exp(-0.5 * ((np.arange(P) - 22) / 6.0) ** 2)
    shape /= shape.sum()
    daily = np.array([1000, 950, 900, 900, 850, 400, 200], dtype=float)
    days = weeks * 7
    grid = np.zeros((days, P))
    for d in range(days):
        w = (start + dt.timedelta(days=d)).weekday()
        grid[d] = daily[w] * shape
    if noise:
        grid = rng.poisson(grid * 1.0).astype(float)
    return grid


def test_recovers_daily_and_weekly_seasonality() -> None:
    hist = synthetic(4)
    f = forecast_volumes(hist, MONDAY, 7, holiday_country=None)
    truth = synthetic(5)[28:]
    assert f.volumes.shape == (7, P)
    assert f.start == MONDAY + dt.timedelta(days=28)
    np.testing.assert_allclose(f.volumes, truth, rtol=1e-9, atol=1e-9)
    assert wape(truth, f.volumes) < 1e-9


def test_backtest_beats_seasonal_naive_on_noisy_data() -> None:
    hist = synthetic(6, noise=1.0)
    res = backtest(hist, MONDAY, horizon_days=7, min_train_days=14, holiday_country=None)
    assert res.origins == (14, 21, 28, 35)
    assert res.earns_its_keep()
    assert res.wape["profile"] < res.wape["naive_week"]
    assert res.mase["profile"] < res.mase["naive_week"]
    assert set(res.per_origin) == {"profile", "naive_week", "naive_day"}


def test_idul_fitri_moves_and_its_window_is_named() -> None:
    n25 = holiday_names(dt.date(2025, 3, 1), 60)
    n26 = holiday_names(dt.date(2026, 3, 1), 60)
    day25 = [d for d, n in n25.items() if n == "Idul Fitri +0"]
    day26 = [d for d, n in n26.items() if n == "Idul Fitri +0"]
    assert day25 == [30]  # 31 March 2025
    assert day26 == [20]  # 21 March 2026
    assert n25[30 - 3] == "Idul Fitri -3"
    assert n25[30 + 7] == "Idul Fitri +7"


def test_holiday_effect_is_learnt_and_applied_to_the_next_year() -> None:
    # two years of daily data with Idul Fitri days at 20 % of normal volume
    start = dt.date(2025, 1, 6)
    days = 7 * 66  # until early April 2026
    grid = np.ones((days, 4)) * 100.0
    names = holiday_names(start, days + 7)
    for d, name in names.items():
        if d < days and name == "Idul Fitri +0":
            grid[d] *= 0.2
    f = forecast_volumes(grid[: 7 * 62], start, 28)
    fitri_h = [h for h, n in f.notes.items() if n == "Idul Fitri +0"]
    assert fitri_h, f.notes
    assert f.volumes[fitri_h[0]].sum() == pytest.approx(0.2 * 400, rel=0.05)


def test_special_days_and_manual_adjustments_keep_the_original() -> None:
    hist = synthetic(3)
    closed = MONDAY + dt.timedelta(days=22)
    f = forecast_volumes(hist, MONDAY, 7, holiday_country=None, special_days={closed: 0.0})
    assert f.volumes[1].sum() == 0.0 and f.notes[1].startswith("special")
    g = f.adjust(2, 3, percent=20, note="campaign")
    np.testing.assert_allclose(g.volumes[2:4], f.volumes[2:4] * 1.2)
    np.testing.assert_allclose(g.original, f.original)
    h = g.adjust(4, 4, absolute=5, first_period=20, end_period=22)
    assert h.volumes[4, 20] == pytest.approx(f.volumes[4, 20] + 5)
    assert len(h.adjustments) == 2 and h.adjustments[0].note == "campaign"
    with pytest.raises(InvalidInputError, match="adjustment"):
        f.adjust(0, 9, percent=10)
    with pytest.raises(InvalidInputError, match="adjustment"):
        f.adjust(0, 1, percent=10, absolute=3)


def test_aht_forecast_shrinks_sparse_intervals() -> None:
    calls = np.zeros((14, 4))
    calls[:, 1] = 50
    calls[0, 3] = 1
    handle = calls * 200.0
    handle[0, 3] = 5000.0
    aht = forecast_aht(calls, handle, MONDAY, 7)
    assert aht[:, 1] == pytest.approx(200.0, rel=1e-3)
    assert aht[0, 3] < 1000  # one odd call does not set the interval's AHT
    f = forecast_volumes(calls, MONDAY, 7, holiday_country=None, handle_time_s=handle)
    assert f.aht_s is not None and f.aht_s.shape == (7, 4)


def test_metrics_and_bad_input() -> None:
    assert wape([10, 10], [12, 8]) == pytest.approx(0.2)
    assert mase([3.0], [1.0], [1.0, 2.0, 4.0], 1) == pytest.approx(2 / 1.5)
    with pytest.raises(InvalidInputError, match="history"):
        forecast_volumes(np.array([[1.0, np.nan]]), MONDAY, 1)
    with pytest.raises(InvalidInputError, match="history"):
        forecast_volumes(np.array([[1.0, -2.0]]), MONDAY, 1)
    with pytest.raises(InvalidInputError, match="history"):
        backtest(synthetic(2), MONDAY, horizon_days=7, min_train_days=14)
    grid = bin_events(
        [
            dt.datetime(2025, 1, 6, 8, 10),
            dt.datetime(2025, 1, 6, 8, 20),
            dt.datetime(2025, 1, 7, 23, 59),
        ],
        MONDAY,
        2,
        30,
    )
    assert grid[0, 16] == 2 and grid[1, 47] == 1
