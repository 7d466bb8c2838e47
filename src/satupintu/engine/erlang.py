"""Erlang B, Erlang C and Erlang A (Palm) queueing formulas, vectorised with numpy.

Every function takes array-likes and broadcasts them against each other (intervals x
queues x scenarios in one call) and returns ``float64`` arrays.  The maths is done in
log space or with series whose terms are all positive, so results stay exact from a
fraction of an Erlang to 100,000 agents: no factorial overflows and no probability
underflows to 0 where that would change an answer.

Notation (per interval):

* ``load`` A = arrival rate x mean handle time, in Erlangs;
* ``agents`` N, the number of agents answering;
* ``aht_s`` the mean handle time 1/mu, ``patience_s`` the mean patience 1/theta (Erlang A);
* ``t_s`` the service-level threshold T in seconds.

Erlang C (M/M/N): nobody abandons; for N <= A the queue is unstable, P(wait) = 1, the
service level is 0 and the ASA is infinite.

Erlang A (M/M/N+M): callers abandon after an exponential patience.  With
x = N mu / theta and y = lambda / theta, let
``S = A(x, y) = 1 + sum_{m>=1} y^m / prod_{k=1..m} (x + k)`` (Mandelbaum and Zeltyn's
A-function).  Then P(wait) = S E / (1 + (S - 1) E) with E the Erlang B blocking of N
agents, and P(abandon | wait) = 1 - (x / y)(1 - 1/S).  A caller who finds m callers
ahead waits V_m, the (m+1)-th order statistic of x + m exponential clocks, so
exp(-theta V_m) ~ Beta(x, m + 1); summing over m in closed form gives the service level
and the waiting-time distribution (see ``docs/engine-wfm.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from satupintu.engine.wfm_errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]

SlFormula = Literal["over_offered", "over_answered", "excluding_short_abandons"]
SL_FORMULAS: tuple[SlFormula, ...] = ("over_offered", "over_answered", "excluding_short_abandons")

_TINY = 1e-280  # below this a regularised incomplete gamma is recomputed by series
_EPS = 1e-17


def _arr(value: npt.ArrayLike, field: str, *, positive: bool = False) -> FloatArray:
    out = np.asarray(value, dtype=np.float64)
    if np.any(np.isnan(out)):
        raise InvalidInputError(field, "must be a number, not NaN")
    if np.any(out < 0):
        raise InvalidInputError(field, "must not be negative")
    if positive and np.any(out <= 0):
        raise InvalidInputError(field, "must be greater than zero")
    return out


def offered_load(
    calls: npt.ArrayLike, interval_s: npt.ArrayLike, aht_s: npt.ArrayLike
) -> FloatArray:
    """Offered load in Erlangs: ``calls / interval_s * aht_s``.

    >>> float(offered_load(100, 1800, 180))
    10.0
    """
    c = _arr(calls, "calls")
    i = _arr(interval_s, "interval_s", positive=True)
    h = _arr(aht_s, "aht_s", positive=True)
    if np.any(~np.isfinite(c)):
        raise InvalidInputError("calls", "must be finite")
    return np.asarray(c / i * h, dtype=np.float64)


# --------------------------------------------------------------------------- helpers


def _series_log_a(x: FloatArray, y: FloatArray) -> FloatArray:
    """log of 1 + sum_m y^m / prod_{k<=m}(x + k) by direct summation (used when y << x)."""
    total = np.ones_like(x)
    term = np.ones_like(x)
    k = 1.0
    active = np.ones(x.shape, dtype=bool)
    while np.any(active):
        term = np.where(active, term * y / (x + k), 0.0)
        total = total + term
        active = term > _EPS * total
        k += 1.0
    return np.asarray(np.log(total), dtype=np.float64)


def log_a_function(x: npt.ArrayLike, y: npt.ArrayLike) -> FloatArray:
    """log A(x, y) with A(x, y) = x e^y y^-x gamma_lower(x, y) = 1 + sum y^m / prod (x+k).

    Uses the regularised incomplete gamma for y >= x (where it is at least about 1/2 and
    accurate) and the positive series for y < x (where the gamma tail underflows or loses
    relative accuracy at large x), so it never loses the answer.
    """
    xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    xa = np.array(xa, dtype=np.float64)
    ya = np.array(ya, dtype=np.float64)
    out = np.zeros(xa.shape, dtype=np.float64)
    pos = ya > 0
    if not np.any(pos):
        return out
    xp, yp = xa[pos], ya[pos]
    reg = special.gammainc(xp, yp)
    with np.errstate(divide="ignore"):
        gamma_form = yp - xp * np.log(yp) + special.gammaln(xp + 1.0) + np.log(reg)
    # below the mean the gamma tail loses relative accuracy at large x: sum the series
    small = (yp < xp) | (reg < _TINY)
    if np.any(small):
        gamma_form[small] = _series_log_a(xp[small], yp[small])
    out[pos] = gamma_form
    return out


def erlang_b(agents: npt.ArrayLike, load: npt.ArrayLike) -> FloatArray:
    """Erlang B blocking probability of ``agents`` servers offered ``load`` Erlangs.

    B = pmf(N; A) / cdf(N; A) of a Poisson(A), computed in log space for N >= A; below
    the load (where the Poisson cdf underflows or loses accuracy) the positive series
    1/B = sum_j prod_{i<j} (N - i)/A is summed instead.

    >>> round(float(erlang_b(13, 10.0)), 6)
    0.084339
    """
    n = _arr(agents, "agents")
    a = _arr(load, "load")
    n, a = np.broadcast_arrays(n, a)
    n = np.floor(n)
    out = np.ones(n.shape, dtype=np.float64)
    pos = (a > 0) & (n > 0)
    out[(a == 0) & (n > 0)] = 0.0
    if not np.any(pos):
        return out
    npos, apos = n[pos], a[pos]
    cdf = special.gammaincc(npos + 1.0, apos)
    logpmf = npos * np.log(apos) - apos - special.gammaln(npos + 1.0)
    with np.errstate(divide="ignore"):
        res = np.exp(logpmf - np.log(cdf))
    small = (npos < apos) | (cdf < _TINY)
    if np.any(small):
        ns, as_ = npos[small], apos[small]
        total = np.ones_like(ns)
        term = np.ones_like(ns)
        i = 0.0
        active = np.ones(ns.shape, dtype=bool)
        while np.any(active):
            term = np.where(active, term * np.maximum(ns - i, 0.0) / as_, 0.0)
            total = total + term
            active = term > _EPS * total
            i += 1.0
        res[small] = 1.0 / total
    out[pos] = np.minimum(res, 1.0)
    return out


# --------------------------------------------------------------------------- Erlang C


def erlang_c(agents: npt.ArrayLike, load: npt.ArrayLike) -> FloatArray:
    """Probability that a caller waits (Erlang C); exactly 1 when ``agents <= load``.

    >>> round(float(erlang_c(13, 10.0)), 4), round(float(erlang_c(14, 10.0)), 4)
    (0.2853, 0.1741)
    """
    n = np.floor(_arr(agents, "agents"))
    a = _arr(load, "load")
    n, a = np.broadcast_arrays(n, a)
    b = erlang_b(n, a)
    stable = n > a
    with np.errstate(divide="ignore", invalid="ignore"):
        c = n * b / (n - a * (1.0 - b))
    out = np.where(stable, np.clip(c, 0.0, 1.0), 1.0)
    return np.asarray(np.where((a == 0) & (n > 0), 0.0, out), dtype=np.float64)


@dataclass(frozen=True)
class QueueMetrics:
    """Performance of a queue with a given number of agents (arrays, broadcast shape).

    ``sl`` is the share of *answered* calls answered within T (Erlang C's only service
    level; for Erlang A the same as ``sl_over_answered``).  ``sl_over_offered`` counts
    abandoned calls in the denominator; ``sl_excluding_short_abandons`` removes calls that
    abandoned within the short-abandon threshold from it.  ``asa_s`` is the mean wait of
    answered calls, ``mean_wait_s`` the mean wait of all calls (answered or abandoned).
    """

    agents: FloatArray
    load: FloatArray
    p_wait: FloatArray
    sl: FloatArray
    sl_over_offered: FloatArray
    sl_over_answered: FloatArray
    sl_excluding_short_abandons: FloatArray
    p_abandon: FloatArray
    asa_s: FloatArray
    mean_wait_s: FloatArray
    occupancy: FloatArray

    def service_level(self, formula: SlFormula) -> FloatArray:
        """The service level under ``formula`` (one of ``SL_FORMULAS``)."""
        if formula == "over_offered":
            return self.sl_over_offered
        if formula == "over_answered":
            return self.sl_over_answered
        if formula == "excluding_short_abandons":
            return self.sl_excluding_short_abandons
        raise InvalidInputError("sl_formula", f"unknown formula {formula!r}")


def erlang_c_metrics(
    agents: npt.ArrayLike,
    load: npt.ArrayLike,
    aht_s: npt.ArrayLike,
    t_s: npt.ArrayLike = 20.0,
) -> QueueMetrics:
    """P(wait), service level within ``t_s``, ASA and occupancy under Erlang C.

    >>> m = erlang_c_metrics(14, 10.0, 180, 20)
    >>> round(float(m.sl), 4), round(float(m.asa_s), 2), round(float(m.occupancy), 4)
    (0.8884, 7.84, 0.7143)
    """
    n = np.floor(_arr(agents, "agents"))
    a = _arr(load, "load")
    h = _arr(aht_s, "aht_s", positive=True)
    t = _arr(t_s, "t_s")
    n, a, h, t = np.broadcast_arrays(n, a, h, t)
    c = erlang_c(n, a)
    stable = n > a
    gap = np.where(stable, n - a, 1.0)
    sl = np.where(stable, 1.0 - c * np.exp(-gap * t / h), 0.0)
    asa = np.where(stable, c * h / gap, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.where(stable, a / np.where(n > 0, n, 1.0), 1.0)
    occ = np.where((a == 0), 0.0, occ)
    sl = np.clip(sl, 0.0, 1.0)
    zero = np.zeros(n.shape, dtype=np.float64)
    return QueueMetrics(
        agents=np.asarray(n, dtype=np.float64),
        load=np.asarray(a, dtype=np.float64),
        p_wait=c,
        sl=sl,
        sl_over_offered=sl,
        sl_over_answered=sl,
        sl_excluding_short_abandons=sl,
        p_abandon=zero,
        asa_s=asa,
        mean_wait_s=asa,
        occupancy=np.asarray(occ, dtype=np.float64),
    )


def service_level_c(
    agents: npt.ArrayLike, load: npt.ArrayLike, aht_s: npt.ArrayLike, t_s: npt.ArrayLike
) -> FloatArray:
    """Erlang C share of calls answered within ``t_s``: 1 - C exp(-(N - A) T / AHT)."""
    return erlang_c_metrics(agents, load, aht_s, t_s).sl


def asa_c(agents: npt.ArrayLike, load: npt.ArrayLike, aht_s: npt.ArrayLike) -> FloatArray:
    """Erlang C average speed of answer: C AHT / (N - A); infinite when N <= A."""
    return erlang_c_metrics(agents, load, aht_s, 0.0).asa_s


# --------------------------------------------------------------------------- Erlang A


def _erlang_a_asa_mass(x: FloatArray, y: FloatArray, log_s: FloatArray) -> FloatArray:
    """E[theta V exp(-theta V) | wait] for Erlang A, summed over queue positions m.

    Given m callers ahead, exp(-theta V) ~ Beta(x, m+1), so
    E[theta V e^{-theta V} | m] = x/(x+m+1) (psi(x+m+2) - psi(x+1)); the weight of m is
    t_m / S with t_m = y^m / prod_{k<=m}(x+k).  The sum runs over a window around the mode
    of t_m wide enough (12 standard deviations) that the rest is below 1e-30.
    """
    out = np.zeros(x.shape, dtype=np.float64)
    if x.size == 0:
        return out
    mode = np.maximum(np.floor(y - x), 0.0)
    half = np.ceil(12.0 * np.sqrt(np.maximum(y, 1.0)) + 30.0)
    width = int(np.max(half)) * 2 + 1
    # chunk the cells so that the (cells x width) work array stays small
    chunk = max(1, 4_000_000 // width)
    offsets = np.arange(width, dtype=np.float64)
    for start in range(0, x.size, chunk):
        sl = slice(start, start + chunk)
        xs, ys, ls = x[sl, None], y[sl, None], log_s[sl, None]
        m0 = np.maximum(mode[sl, None] - half[sl, None], 0.0)
        m = m0 + offsets[None, :]
        log_t = m * np.log(ys) - (special.gammaln(xs + m + 1.0) - special.gammaln(xs + 1.0))
        w = np.exp(log_t - ls)
        val = xs / (xs + m + 1.0) * (special.digamma(xs + m + 2.0) - special.digamma(xs + 1.0))
        out[sl] = np.sum(w * val, axis=1)
    return out


def erlang_a_metrics(
    agents: npt.ArrayLike,
    load: npt.ArrayLike,
    aht_s: npt.ArrayLike,
    patience_s: npt.ArrayLike,
    t_s: npt.ArrayLike = 20.0,
    short_abandon_s: npt.ArrayLike = 5.0,
    *,
    with_asa: bool = True,
) -> QueueMetrics:
    """Erlang A (M/M/N+M) performance: P(wait), P(abandon), service levels, ASA, occupancy.

    ``with_asa=False`` skips the ASA (the only measure that needs a sum over queue
    positions) and returns NaN for it.

    >>> m = erlang_a_metrics(13, 10.0, 180, 180, 20)
    >>> round(float(m.p_abandon), 4), round(float(m.sl_over_offered), 4)
    (0.0322, 0.8751)
    """
    n = np.floor(_arr(agents, "agents"))
    a = _arr(load, "load")
    h = _arr(aht_s, "aht_s", positive=True)
    p = _arr(patience_s, "patience_s", positive=True)
    t = _arr(t_s, "t_s")
    s_ab = _arr(short_abandon_s, "short_abandon_s")
    n, a, h, p, t, s_ab = (
        np.array(v, dtype=np.float64) for v in np.broadcast_arrays(n, a, h, p, t, s_ab)
    )
    shape = n.shape
    p_wait = np.zeros(shape)
    p_ab = np.zeros(shape)
    sl_off = np.ones(shape)
    sl_ans = np.ones(shape)
    sl_short = np.ones(shape)
    asa = np.zeros(shape)
    occ = np.zeros(shape)

    nobody = (n == 0) & (a > 0)
    p_wait[nobody] = 1.0
    p_ab[nobody] = 1.0
    sl_off[nobody] = 0.0
    sl_ans[nobody] = np.nan
    sl_short[nobody] = 0.0
    asa[nobody] = np.inf

    live = (n > 0) & (a > 0)
    if np.any(live):
        nl, al, hl, pl, tl, sl_ = n[live], a[live], h[live], p[live], t[live], s_ab[live]
        theta_over_mu = hl / pl  # theta / mu
        x = nl / theta_over_mu  # N mu / theta
        y = al / theta_over_mu  # lambda / theta
        log_s = log_a_function(x, y)
        b = erlang_b(nl, al)
        with np.errstate(divide="ignore"):
            log_b = np.log(b)
        # P(wait) = 1 / (1 + (1 - E) / (E S))
        term = np.log1p(-np.minimum(b, 1.0 - 1e-300)) - log_b - log_s
        pw = special.expit(-term)
        pw = np.where(b >= 1.0, 1.0, pw)
        ab_given_wait = np.clip(1.0 - (x / y) * (-np.expm1(-log_s)), 0.0, 1.0)
        pab = pw * ab_given_wait
        served = 1.0 - pab

        log_a1_y = log_a_function(x + 1.0, y)

        def served_within(ts: FloatArray) -> FloatArray:
            """Share of *waiting* callers answered within ts (mass over S)."""
            u_log = -ts / pl  # log u, u = exp(-theta t)
            yu = y * np.exp(u_log)
            part = np.exp(
                y * (-np.expm1(u_log)) + (x + 1.0) * u_log + log_a_function(x + 1.0, yu) - log_s
            )
            whole = np.exp(log_a1_y - log_s)
            return np.asarray(x / (x + 1.0) * np.maximum(whole - part, 0.0), dtype=np.float64)

        def offered_wait_exceeds(ts: FloatArray) -> FloatArray:
            u_log = -ts / pl
            yu = y * np.exp(u_log)
            return np.asarray(
                np.exp(y * (-np.expm1(u_log)) + x * u_log + log_a_function(x, yu) - log_s),
                dtype=np.float64,
            )

        within = (1.0 - pw) + pw * served_within(tl)
        # abandoned within the short threshold: 1 - E[exp(-theta min(V, s))]
        u_s = np.exp(-sl_ / pl)
        kept = (1.0 - pw) + pw * (served_within(sl_) + u_s * offered_wait_exceeds(sl_))
        short_ab = np.clip(1.0 - kept, 0.0, 1.0)
        sl_off[live] = np.clip(within, 0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            sl_ans[live] = np.clip(within / served, 0.0, 1.0)
            sl_short[live] = np.clip(within / (1.0 - short_ab), 0.0, 1.0)
        p_wait[live] = pw
        p_ab[live] = pab
        occ[live] = np.minimum(al * served / nl, 1.0)
        if with_asa:
            mass = _erlang_a_asa_mass(x, y, log_s)
            with np.errstate(divide="ignore", invalid="ignore"):
                asa[live] = pw * mass * pl / served
        else:
            asa[live] = np.nan
    mean_wait = np.where(np.isfinite(p), p_ab * p, 0.0)
    return QueueMetrics(
        agents=n,
        load=a,
        p_wait=p_wait,
        sl=sl_ans,
        sl_over_offered=sl_off,
        sl_over_answered=sl_ans,
        sl_excluding_short_abandons=sl_short,
        p_abandon=p_ab,
        asa_s=asa,
        mean_wait_s=np.asarray(mean_wait, dtype=np.float64),
        occupancy=occ,
    )
