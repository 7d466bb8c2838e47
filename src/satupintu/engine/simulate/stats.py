"""Interval/queue statistics, service-level formulas, replications and 95 % CIs."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from .des import ABANDONED, ANSWERED, RunResult, run_once
from .distributions import FloatArray
from .scenario import Scenario

METRICS = (
    "offered", "answered", "abandoned", "short_abandoned", "sl", "asa_s", "aht_s",
    "abandon_rate", "occupancy",
)


def service_level(
    formula: str, answered_within: float, answered: float, abandoned: float,
    abandoned_within: float, short_abandoned: float,
) -> float:
    """The configured service-level formula (see DOMAIN-NOTES)."""
    if formula == "answered":
        num, den = answered_within, answered
    elif formula == "offered":
        num, den = answered_within, answered + abandoned
    elif formula == "asterisk_sl2":
        num, den = answered_within + abandoned_within, answered + abandoned
    else:  # exclude_short_abandons
        num, den = answered_within, answered + abandoned - short_abandoned
    return num / den if den > 0 else math.nan


def _busy_until(starts: FloatArray, ends: FloatArray, w: FloatArray, edges: FloatArray
                ) -> FloatArray:
    """Weighted time inside spans [start, end) up to each edge (vectorised)."""
    o1 = np.argsort(starts)
    o2 = np.argsort(ends)
    s, ws = starts[o1], w[o1]
    e, we = ends[o2], w[o2]
    cs_w = np.concatenate([[0.0], np.cumsum(ws)])
    cs_sw = np.concatenate([[0.0], np.cumsum(ws * s)])
    ce_w = np.concatenate([[0.0], np.cumsum(we)])
    ce_ew = np.concatenate([[0.0], np.cumsum(we * e)])
    i = np.searchsorted(s, edges, side="left")
    j = np.searchsorted(e, edges, side="left")
    out: FloatArray = edges * cs_w[i] - cs_sw[i] - (edges * ce_w[j] - ce_ew[j])
    return out


def _per_bin(starts: FloatArray, ends: FloatArray, w: FloatArray, edges: FloatArray
             ) -> FloatArray:
    if starts.size == 0:
        return np.zeros(edges.size - 1)
    return np.diff(_busy_until(starts, ends, w, edges))


def _union(spans: FloatArray) -> FloatArray:
    """Merge overlapping [start, end) spans."""
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    ends = np.maximum.accumulate(spans[:, 1])
    new = np.ones(len(spans), dtype=bool)
    new[1:] = spans[1:, 0] > ends[:-1]
    starts_idx = np.flatnonzero(new)
    end_idx = np.concatenate([starts_idx[1:] - 1, [len(spans) - 1]])
    out: FloatArray = np.stack([spans[starts_idx, 0], ends[end_idx]], axis=1)
    return out


@dataclass
class Table:
    """Metric arrays of shape (intervals, queues + 1); the last column is the total."""

    scenario: Scenario
    data: dict[str, FloatArray]
    agent_contacts: FloatArray
    agent_occupancy: FloatArray


def interval_table(res: RunResult) -> Table:
    sc = res.scenario
    nq = len(sc.queues)
    ni = sc.n_intervals
    interval = sc.interval_s
    b = np.minimum((res.arrival // interval).astype(np.int64), ni - 1)
    cols = nq + 1

    def count(mask: np.ndarray, values: FloatArray | None = None) -> FloatArray:
        idx = b[mask] * cols + res.queue[mask]
        wts = None if values is None else values[mask]
        per = np.bincount(idx, weights=wts, minlength=ni * cols).astype(np.float64)
        per = per.reshape(ni, cols)
        per[:, nq] = per[:, :nq].sum(axis=1)
        return per

    ans = res.outcome == ANSWERED
    ab = res.outcome == ABANDONED
    thr = sc.sl_threshold_s
    wait = np.nan_to_num(res.wait, nan=np.inf)
    offered = count(np.ones(res.n, dtype=bool))
    answered = count(ans)
    abandoned = count(ab)
    ans_within = count(ans & (wait <= thr))
    ab_within = count(ab & (wait <= thr))
    short = count(ab & (wait < sc.short_abandon_s))
    wait_sum = count(ans, np.nan_to_num(res.wait))
    handle_sum = count(ans, res.handle + res.acw)
    with np.errstate(invalid="ignore", divide="ignore"):
        sl = np.vectorize(lambda a, b_, c, d, e: service_level(sc.sl_formula, a, b_, c, d, e))(
            ans_within, answered, abandoned, ab_within, short
        ).astype(np.float64)
        asa = wait_sum / answered
        aht = handle_sum / answered
        abandon_rate = abandoned / (answered + abandoned)
    # occupancy of the agents able to serve each queue (weighted by capacity share)
    edges = np.arange(ni + 1, dtype=np.float64) * interval
    na = len(sc.agents)
    start = res.arrival + np.nan_to_num(res.wait)
    end = start + res.handle + res.acw
    busy = np.zeros((na, ni))
    staffed = np.zeros((na, ni))
    order = np.argsort(res.agent, kind="stable")
    bounds = np.searchsorted(res.agent[order], np.arange(na + 1))
    for a in range(na):
        sel = order[bounds[a]:bounds[a + 1]]
        duty = np.asarray(sc.agents[a].on_duty, dtype=np.float64).reshape(-1, 2)
        if sel.size:
            busy[a] = _per_bin(start[sel], end[sel], res.weight[sel], edges)
            # staffed time: on duty, plus any time spent finishing work off duty
            duty = _union(np.concatenate([duty, np.stack([start[sel], end[sel]], axis=1)]))
        staffed[a] = _per_bin(duty[:, 0], duty[:, 1], np.ones(len(duty)), edges)
    occ = np.full((ni, cols), np.nan)
    for q, spec in enumerate(sc.queues):
        el = sc.eligible_agents(spec)
        if el:
            st_ = staffed[el].sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                occ[:, q] = np.where(st_ > 0, busy[el].sum(axis=0) / st_, np.nan)
    tot = staffed.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        occ[:, nq] = np.where(tot > 0, busy.sum(axis=0) / tot, np.nan)
        agent_occ = busy.sum(axis=1) / staffed.sum(axis=1)
    contacts = np.bincount(res.agent[ans], minlength=na).astype(np.float64)
    data = {
        "offered": offered, "answered": answered, "abandoned": abandoned,
        "short_abandoned": short, "sl": sl, "asa_s": asa, "aht_s": aht,
        "abandon_rate": abandon_rate, "occupancy": occ,
    }
    return Table(sc, data, contacts, agent_occ)


@dataclass
class Summary:
    """Replicated results: means and 95 % CI half-widths per metric, interval, queue."""

    scenario: Scenario
    tables: list[Table]
    mean: dict[str, FloatArray]
    half_width: dict[str, FloatArray]
    runs: list[RunResult]


def ci95(samples: Sequence[float] | FloatArray) -> tuple[float, float]:
    """Mean and half-width of the 95 % t confidence interval (nan when undefined)."""
    x = np.asarray(samples, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return math.nan, math.nan
    if x.size == 1:
        return float(x[0]), math.nan
    hw = float(sps.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return float(x.mean()), hw


def replicate(sc: Scenario, replications: int | None = None, seed: int | None = None,
              keep_runs: bool = False) -> Summary:
    """Run independent replications (seeds ``seed, seed+1, …``) and pool them."""
    reps = replications or sc.replications
    base = sc.seed if seed is None else seed
    tables: list[Table] = []
    runs: list[RunResult] = []
    for r in range(reps):
        res = run_once(sc, base + r)
        tables.append(interval_table(res))
        if keep_runs:
            runs.append(res)
    mean: dict[str, FloatArray] = {}
    hw: dict[str, FloatArray] = {}
    for m in METRICS:
        stack = np.stack([t.data[m] for t in tables])
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean[m] = np.nanmean(stack, axis=0)
            if reps > 1:
                sd = np.nanstd(stack, axis=0, ddof=1)
                cnt = np.sum(~np.isnan(stack), axis=0)
                tq = sps.t.ppf(0.975, np.maximum(cnt - 1, 1))
                hw[m] = np.where(cnt > 1, tq * sd / np.sqrt(np.maximum(cnt, 1)), np.nan)
            else:
                hw[m] = np.full_like(mean[m], np.nan)
    return Summary(sc, tables, mean, hw, runs)


def day_totals(table: Table) -> dict[str, FloatArray]:
    """Whole-horizon figures per queue (+ total) from one replication's table."""
    d = table.data
    sc = table.scenario
    out = {k: d[k].sum(axis=0) for k in ("offered", "answered", "abandoned", "short_abandoned")}
    with np.errstate(invalid="ignore", divide="ignore"):
        out["asa_s"] = np.nansum(d["asa_s"] * d["answered"], axis=0) / out["answered"]
        out["aht_s"] = np.nansum(d["aht_s"] * d["answered"], axis=0) / out["answered"]
        out["abandon_rate"] = out["abandoned"] / (out["answered"] + out["abandoned"])
    # service level over the horizon: re-weight interval SL by its denominator
    slw = {"answered": d["answered"], "offered": d["answered"] + d["abandoned"],
           "asterisk_sl2": d["answered"] + d["abandoned"],
           "exclude_short_abandons": d["answered"] + d["abandoned"] - d["short_abandoned"]}
    w = slw[sc.sl_formula]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["sl"] = np.nansum(d["sl"] * w, axis=0) / w.sum(axis=0)
    return out
