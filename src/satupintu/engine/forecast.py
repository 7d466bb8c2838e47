"""Interval forecasts of contact volume and AHT, with holidays, adjustments and backtests.

Data live on a *day grid*: ``volumes[d, p]`` is the number of contacts on day ``d``
(counting from ``start``) in interval ``p`` of that day (48 half hours, 96 quarter hours,
24 hours).  ``bin_events`` builds such a grid from contact timestamps.

The default model (``method="profile"``) is a light, explainable decomposition in the
family of MSTL/ETS, in numpy only:

* daily totals = weekday index x level, where the level is exponentially smoothed on
  deseasonalised daily totals (alpha chosen by one-step-ahead error on the history);
* intraday shape = the exponentially weighted mean share of each interval in the day,
  per weekday, shrunk towards the all-days shape when a weekday has little history;
* holidays (the ``holidays`` package, country ``ID`` by default, so Idul Fitri moves
  with the calendar) and user special days are left out of the fit; their forecast is
  scaled by the ratio observed on past holidays of the same name (Idul Fitri's days
  around it included) or by a factor the user supplies.

``method="mstl"`` uses statsforecast's MSTL (daily and weekly seasonality, AutoETS
trend) when statsforecast is installed (an optional, heavier dependency: it pulls
numba).  ``backtest`` reports WAPE and MASE on rolling origins against seasonal-naive
baselines (same interval last week, and yesterday), so a planner sees whether the model
earns its keep.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from satupintu.engine.wfm_errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]

IDUL_FITRI_WINDOW = (-7, 7)  # days around Idul Fitri that carry their own effect
_IDUL_FITRI_NAMES = ("Idul Fitri", "Eid al-Fitr")


# --------------------------------------------------------------------------- calendar


def holiday_names(start: dt.date, n_days: int, country: str | None = "ID") -> dict[int, str]:
    """Day index -> holiday name for the grid, from the ``holidays`` package.

    Days within ``IDUL_FITRI_WINDOW`` of Idul Fitri are named ``"Idul Fitri {offset:+d}"``
    so that the days before and after it (mudik, cuti bersama) each get their own effect,
    learnt from past years, even when they are not public holidays.
    """
    return {d: name for d, (name, _public) in _calendar(start, n_days, country).items()}


def _calendar(start: dt.date, n_days: int, country: str | None) -> dict[int, tuple[str, bool]]:
    if country is None or n_days <= 0:
        return {}
    import holidays  # local: only forecasts need it

    end = start + dt.timedelta(days=n_days - 1)
    cal = holidays.country_holidays(country, years=list(range(start.year - 1, end.year + 2)))
    out: dict[int, tuple[str, bool]] = {}
    fitri: list[dt.date] = []
    for day, name in sorted(cal.items()):
        clean = name.replace(" (estimated)", "").replace("*", "").strip()
        if any(k in clean for k in _IDUL_FITRI_NAMES) and "Second Day" not in clean:
            fitri.append(day)
        idx = (day - start).days
        if 0 <= idx < n_days:
            out[idx] = (clean, True)
    for day in fitri:
        for off in range(IDUL_FITRI_WINDOW[0], IDUL_FITRI_WINDOW[1] + 1):
            idx = (day - start).days + off
            if 0 <= idx < n_days:
                out[idx] = (f"Idul Fitri {off:+d}", idx in out and out[idx][1])
    return out


# --------------------------------------------------------------------------- grid


def bin_events(
    timestamps: Iterable[dt.datetime],
    start: dt.date,
    n_days: int,
    interval_minutes: int = 30,
    values: Iterable[float] | None = None,
) -> FloatArray:
    """Count events (or sum ``values``) into a ``n_days x periods`` grid from ``start``."""
    if 24 * 60 % interval_minutes:
        raise InvalidInputError("interval_minutes", "must divide a day (15, 30, 60 ...)")
    periods = 24 * 60 // interval_minutes
    grid = np.zeros((n_days, periods))
    vals = iter(values) if values is not None else None
    for ts in timestamps:
        v = 1.0 if vals is None else float(next(vals))
        d = (ts.date() - start).days
        if 0 <= d < n_days:
            grid[d, (ts.hour * 60 + ts.minute) // interval_minutes] += v
    return grid


def _check_grid(volumes: npt.ArrayLike, name: str = "volumes") -> FloatArray:
    v = np.asarray(volumes, dtype=np.float64)
    if v.ndim != 2 or v.shape[0] < 1 or v.shape[1] < 1:
        raise InvalidInputError(name, "must be a days x intervals table")
    if np.any(np.isnan(v)):
        raise InvalidInputError(name, "must not contain NaN (use 0 for closed intervals)")
    if np.any(v < 0):
        raise InvalidInputError(name, "must not be negative")
    return v


# --------------------------------------------------------------------------- forecast


@dataclass(frozen=True)
class Adjustment:
    """A manual change: from day/period to day/period (inclusive start, exclusive end,
    in forecast coordinates), by ``percent`` (e.g. +20 for a campaign) or ``absolute``
    contacts per interval."""

    first_day: int
    last_day: int
    first_period: int = 0
    end_period: int | None = None
    percent: float | None = None
    absolute: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Forecast:
    """A forecast on the day grid; ``original`` keeps the model output untouched."""

    start: dt.date
    original: FloatArray
    volumes: FloatArray
    aht_s: FloatArray | None = None
    adjustments: tuple[Adjustment, ...] = ()
    method: str = "profile"
    notes: dict[int, str] = field(default_factory=dict)

    def adjust(
        self,
        first_day: int,
        last_day: int,
        *,
        percent: float | None = None,
        absolute: float | None = None,
        first_period: int = 0,
        end_period: int | None = None,
        note: str = "",
    ) -> Forecast:
        """A new forecast with a manual change applied; the original is kept."""
        if (percent is None) == (absolute is None):
            raise InvalidInputError("adjustment", "give exactly one of percent or absolute")
        n_days, periods = self.volumes.shape
        end_p = periods if end_period is None else end_period
        if not (0 <= first_day <= last_day < n_days) or not (0 <= first_period < end_p <= periods):
            raise InvalidInputError("adjustment", "range is outside the forecast")
        if percent is not None and percent < -100:
            raise InvalidInputError("adjustment", "percent below -100 would be negative volume")
        new = self.volumes.copy()
        block = new[first_day : last_day + 1, first_period:end_p]
        if percent is not None:
            block *= 1.0 + percent / 100.0
        else:
            block += float(absolute or 0.0)
        np.maximum(block, 0.0, out=block)
        adj = Adjustment(first_day, last_day, first_period, end_p, percent, absolute, note)
        return replace(self, volumes=new, adjustments=(*self.adjustments, adj))


def _exp_weights(n: int, halflife: float) -> FloatArray:
    age = np.arange(n - 1, -1, -1, dtype=np.float64)
    return np.asarray(0.5 ** (age / halflife), dtype=np.float64)


def _ses(series: FloatArray) -> tuple[float, float]:
    """Simple exponential smoothing: (last level, alpha) with alpha by one-step SSE."""
    best = (float(series[-1]), 1.0, np.inf)
    for alpha in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0):
        level = float(series[0])
        sse = 0.0
        for value in series[1:]:
            sse += (value - level) ** 2
            level = alpha * value + (1 - alpha) * level
        if sse < best[2]:
            best = (level, alpha, sse)
    return best[0], best[1]


def _profile_forecast(
    hist: FloatArray,
    start: dt.date,
    horizon_days: int,
    excluded: set[int],
    halflife_weeks: float,
) -> FloatArray:
    n_days, periods = hist.shape
    weekday = np.array([(start + dt.timedelta(days=d)).weekday() for d in range(n_days)])
    keep = np.array([d not in excluded for d in range(n_days)])
    totals = hist.sum(axis=1)
    # weekday index from kept days
    wk_mean = np.zeros(7)
    for w in range(7):
        sel = keep & (weekday == w)
        if np.any(sel):
            weights = _exp_weights(int(sel.sum()), halflife_weeks)
            wk_mean[w] = float(np.average(totals[sel], weights=weights))
    overall = float(wk_mean[wk_mean > 0].mean()) if np.any(wk_mean > 0) else 0.0
    index = np.where(overall > 0, wk_mean / overall if overall else 0.0, 0.0)
    # level by SES on deseasonalised daily totals of kept days on which the centre opens
    kept_idx = [d for d in range(n_days) if keep[d] and index[weekday[d]] > 0]
    if kept_idx:
        deseason = np.array([totals[d] / index[weekday[d]] for d in kept_idx])
        level, _alpha = _ses(deseason)
    else:
        level = 0.0
    # intraday shares per weekday, shrunk towards the all-days shape
    shares = np.divide(hist, totals[:, None], out=np.zeros_like(hist), where=totals[:, None] > 0)
    open_days = keep & (totals > 0)
    all_shape = (
        shares[open_days].mean(axis=0) if np.any(open_days) else np.full(periods, 1 / periods)
    )
    shape = np.tile(all_shape, (7, 1))
    for w in range(7):
        sel = open_days & (weekday == w)
        k = int(sel.sum())
        if k:
            own = np.average(shares[sel], axis=0, weights=_exp_weights(k, halflife_weeks))
            lam = k / (k + 1.0)
            shape[w] = lam * own + (1 - lam) * all_shape
    shape /= np.where(shape.sum(axis=1, keepdims=True) > 0, shape.sum(axis=1, keepdims=True), 1)
    out = np.zeros((horizon_days, periods))
    for h in range(horizon_days):
        w = (start + dt.timedelta(days=n_days + h)).weekday()
        out[h] = level * index[w] * shape[w]
    return out


def _mstl_forecast(hist: FloatArray, horizon_days: int) -> FloatArray:
    try:
        from statsforecast.models import MSTL, AutoETS
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise InvalidInputError(
            "method", "mstl needs the optional package statsforecast (pip install statsforecast)"
        ) from exc
    n_days, periods = hist.shape
    season = [periods, periods * 7] if n_days >= 14 else [periods]
    model = MSTL(season_length=season, trend_forecaster=AutoETS(model="ZZN"))
    fitted = model.fit(hist.reshape(-1).astype(np.float64))
    pred = fitted.predict(h=horizon_days * periods)["mean"]
    return np.maximum(np.asarray(pred, dtype=np.float64).reshape(horizon_days, periods), 0.0)


def forecast_volumes(
    history: npt.ArrayLike,
    start: dt.date,
    horizon_days: int = 7,
    *,
    method: str = "profile",
    holiday_country: str | None = "ID",
    special_days: Mapping[dt.date, float | str] | None = None,
    holiday_factors: Mapping[str, float] | None = None,
    default_holiday_factor: float = 0.5,
    halflife_weeks: float = 2.0,
    handle_time_s: npt.ArrayLike | None = None,
) -> Forecast:
    """Forecast ``horizon_days`` of intervals after the ``history`` grid (from ``start``).

    ``special_days`` maps a date to a factor (0.0 = closed, 1.3 = +30 %) or to a name
    (days of the same name share their learnt effect).  ``holiday_factors`` overrides
    the learnt factor of a holiday name.  ``handle_time_s``, a grid of total handle
    seconds aligned with ``history``, adds an AHT forecast per interval.
    """
    hist = _check_grid(history, "history")
    if horizon_days < 1:
        raise InvalidInputError("horizon_days", "must be at least 1")
    if method not in ("profile", "mstl"):
        raise InvalidInputError("method", "must be 'profile' or 'mstl'")
    n_days = hist.shape[0]
    total_days = n_days + horizon_days
    calendar = _calendar(start, total_days, holiday_country)
    names = {d: name for d, (name, _p) in calendar.items()}
    public = {d for d, (_n, is_public) in calendar.items() if is_public}
    factors_given: dict[int, float] = {}
    for day, value in (special_days or {}).items():
        idx = (day - start).days
        if not 0 <= idx < total_days:
            continue
        if isinstance(value, str):
            names[idx] = value
        else:
            if value < 0 or np.isnan(value):
                raise InvalidInputError("special_days", f"factor for {day} must be >= 0")
            factors_given[idx] = float(value)
            names.setdefault(idx, f"special {day.isoformat()}")
    excluded = {d for d in names if d < n_days}
    if method == "profile":
        base_all = _profile_forecast(hist, start, horizon_days, excluded, halflife_weeks)
    else:
        base_all = _mstl_forecast(hist, horizon_days)
    # learnt holiday effects: actual / what the model expects for that weekday
    learnt: dict[str, list[float]] = {}
    if excluded and method == "profile":
        clean_total = _weekday_totals(hist, start, excluded)
        for d in excluded:
            w = (start + dt.timedelta(days=d)).weekday()
            if clean_total[w] > 0:
                learnt.setdefault(names[d], []).append(float(hist[d].sum() / clean_total[w]))
    out = base_all.copy()
    notes: dict[int, str] = {}
    for h in range(horizon_days):
        idx = n_days + h
        if idx in factors_given:
            out[h] *= factors_given[idx]
            notes[h] = names.get(idx, "special day")
        elif idx in names:
            name = names[idx]
            if holiday_factors and name in holiday_factors:
                factor = holiday_factors[name]
            elif name in learnt:
                factor = float(np.mean(learnt[name]))
            else:
                factor = default_holiday_factor if idx in public else 1.0
            out[h] *= factor
            notes[h] = name
    aht = None
    if handle_time_s is not None:
        aht = forecast_aht(hist, handle_time_s, start, horizon_days, excluded=excluded)
    return Forecast(
        start=start + dt.timedelta(days=n_days),
        original=out,
        volumes=out.copy(),
        aht_s=aht,
        method=method,
        notes=notes,
    )


def _weekday_totals(hist: FloatArray, start: dt.date, excluded: set[int]) -> FloatArray:
    totals = hist.sum(axis=1)
    out = np.zeros(7)
    for w in range(7):
        sel = [
            totals[d]
            for d in range(hist.shape[0])
            if d not in excluded and (start + dt.timedelta(days=d)).weekday() == w
        ]
        out[w] = float(np.mean(sel)) if sel else 0.0
    return out


def forecast_aht(
    calls: npt.ArrayLike,
    handle_time_s: npt.ArrayLike,
    start: dt.date,
    horizon_days: int,
    *,
    excluded: set[int] | None = None,
    prior_weight: float = 20.0,
) -> FloatArray:
    """AHT per interval: handle seconds / calls by weekday and interval, shrunk towards
    the interval's all-days AHT and the overall AHT where calls are few (empirical Bayes,
    ``prior_weight`` calls of prior)."""
    c = _check_grid(calls, "calls")
    t = _check_grid(handle_time_s, "handle_time_s")
    if c.shape != t.shape:
        raise InvalidInputError("handle_time_s", "must have the shape of calls")
    n_days, periods = c.shape
    keep = [d for d in range(n_days) if d not in (excluded or set())]
    overall = float(t[keep].sum() / c[keep].sum()) if c[keep].sum() > 0 else 0.0
    col_c, col_t = c[keep].sum(axis=0), t[keep].sum(axis=0)
    by_interval = (col_t + prior_weight * overall) / (col_c + prior_weight)
    out = np.zeros((horizon_days, periods))
    weekday = np.array([(start + dt.timedelta(days=d)).weekday() for d in keep])
    for h in range(horizon_days):
        w = (start + dt.timedelta(days=n_days + h)).weekday()
        sel = [keep[i] for i in range(len(keep)) if weekday[i] == w]
        wc, wt = c[sel].sum(axis=0), t[sel].sum(axis=0)
        out[h] = (wt + prior_weight * by_interval) / (wc + prior_weight)
    return out


# --------------------------------------------------------------------------- accuracy


def wape(actual: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """Weighted absolute percentage error: sum |a - f| / sum |a|."""
    a = np.asarray(actual, dtype=np.float64)
    f = np.asarray(predicted, dtype=np.float64)
    denom = float(np.abs(a).sum())
    return float(np.abs(a - f).sum() / denom) if denom > 0 else float("nan")


def mase(
    actual: npt.ArrayLike, predicted: npt.ArrayLike, history: npt.ArrayLike, season: int
) -> float:
    """Mean absolute scaled error against the in-sample seasonal-naive MAE (lag ``season``)."""
    a = np.asarray(actual, dtype=np.float64).ravel()
    f = np.asarray(predicted, dtype=np.float64).ravel()
    h = np.asarray(history, dtype=np.float64).ravel()
    if h.size <= season:
        raise InvalidInputError("history", f"needs more than {season} points for MASE")
    scale = float(np.mean(np.abs(h[season:] - h[:-season])))
    return float(np.mean(np.abs(a - f)) / scale) if scale > 0 else float("nan")


@dataclass(frozen=True)
class BacktestResult:
    """WAPE and MASE per method, over all rolling origins (pooled) and per origin."""

    origins: tuple[int, ...]
    horizon_days: int
    wape: dict[str, float]
    mase: dict[str, float]
    per_origin: dict[str, tuple[tuple[float, float], ...]]

    def earns_its_keep(self, method: str = "profile") -> bool:
        """True when the method beats both seasonal-naive baselines on WAPE."""
        return all(
            self.wape[method] < self.wape[b] for b in ("naive_week", "naive_day") if b in self.wape
        )


def backtest(
    history: npt.ArrayLike,
    start: dt.date,
    *,
    horizon_days: int = 7,
    min_train_days: int = 14,
    step_days: int | None = None,
    methods: Sequence[str] = ("profile",),
    holiday_country: str | None = "ID",
    special_days: Mapping[dt.date, float | str] | None = None,
) -> BacktestResult:
    """Rolling-origin backtest: train on days [0, o), forecast [o, o + horizon).

    Baselines: ``naive_week`` (same interval 7 days earlier) and ``naive_day`` (same
    interval the day before, repeated).  MASE is scaled by the in-sample weekly
    seasonal-naive error of each origin's training data, pooled over origins.
    """
    hist = _check_grid(history, "history")
    n_days, periods = hist.shape
    step = step_days or horizon_days
    origins = list(range(min_train_days, n_days - horizon_days + 1, step))
    if not origins:
        raise InvalidInputError(
            "history", f"needs at least {min_train_days + horizon_days} days for one origin"
        )
    errors: dict[str, list[float]] = {}
    scaled: dict[str, list[float]] = {}
    actual_sum = 0.0
    per: dict[str, list[tuple[float, float]]] = {}
    for o in origins:
        train, actual = hist[:o], hist[o : o + horizon_days]
        season = periods * 7 if o > 7 else periods
        flat_train = train.ravel()
        scale = float(np.mean(np.abs(flat_train[season:] - flat_train[:-season])))
        preds: dict[str, FloatArray] = {
            "naive_week": np.array([train[o - 7 + (h % 7)] for h in range(horizon_days)])
            if o >= 7
            else np.tile(train[-1], (horizon_days, 1)),
            "naive_day": np.tile(train[-1], (horizon_days, 1)),
        }
        for m in methods:
            preds[m] = forecast_volumes(
                train,
                start,
                horizon_days,
                method=m,
                holiday_country=holiday_country,
                special_days=special_days,
            ).volumes
        actual_sum += float(np.abs(actual).sum())
        for name, pred in preds.items():
            err = np.abs(actual - pred)
            errors.setdefault(name, []).append(float(err.sum()))
            scaled.setdefault(name, []).append(float(err.mean() / scale) if scale > 0 else np.nan)
            per.setdefault(name, []).append((wape(actual, pred), scaled[name][-1]))
    return BacktestResult(
        origins=tuple(origins),
        horizon_days=horizon_days,
        wape={k: float(sum(v) / actual_sum) for k, v in errors.items()},
        mase={k: float(np.mean(v)) for k, v in scaled.items()},
        per_origin={k: tuple(v) for k, v in per.items()},
    )
