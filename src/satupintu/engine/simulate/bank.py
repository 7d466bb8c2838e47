"""Replay of the Anonymous Bank call log (Feb 1999) and comparison with the simulator.

For every day of the log the real contacts are replayed through the simulator and the
router: arrival times (queue entry, or VRU exit for calls answered at once), the real
handle time of answered calls and the real abandonment time of abandoned calls. What the
log cannot show is drawn: the handle time an abandoned call would have needed (from that
day's answered calls) and the patience of answered calls (exponential, with the rate
estimated from abandonments over total queue time, the censored-data MLE). Agents on duty
come from the ``server`` column: an agent is taken as on duty in every half hour in which
it served at least one call. Calls that never reached the queue (hung up in the VRU),
PHANTOM calls and calls served by NO_SERVER are left out.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..router import RuleSet
from .des import ABANDONED, ANSWERED, run_once
from .distributions import Dist, FloatArray, ScenarioError
from .scenario import AgentSpec, QueueSpec, Replay, Scenario
from .stats import ci95

OPEN_S = 7 * 3600
CLOSE_S = 24 * 3600
HALF_HOUR = 1800
N_BINS = (CLOSE_S - OPEN_S) // HALF_HOUR

_RULES = RuleSet.from_dict(
    {"version": "bank-1999", "queues": {"regular": {"steps": [{}]}, "high": {"steps": [{}]}}}
)


@dataclass
class DayLog:
    date: str
    arrival: FloatArray  # seconds since 07:00
    high: np.ndarray  # bool: priority 2 customer
    answered: np.ndarray  # bool
    wait: FloatArray  # q_time (answer wait or abandon time)
    handle: FloatArray  # nan for abandoned calls
    servers: list[tuple[str, float, float]]  # (server, service start, service end)


def _secs(hms: str) -> float:
    h, m, s = hms.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s) - OPEN_S


def load_bank_log(path: str | Path) -> list[DayLog]:
    """Parse the TSV into one :class:`DayLog` per date (queued calls only)."""
    per_day: dict[str, list[dict[str, str]]] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                per_day.setdefault(row["date"], []).append(row)
    except (OSError, KeyError) as exc:
        raise ScenarioError(f"cannot read the bank log {path}: {exc}") from None
    days = []
    for date in sorted(per_day):
        arr, high, ans, wait, handle = [], [], [], [], []
        servers = []
        for r in per_day[date]:
            outcome, qt, server = r["outcome"], int(r["q_time"]), r["server"]
            if outcome == "AGENT" and server != "NO_SERVER":
                t = _secs(r["q_start"]) if qt > 0 else _secs(r["vru_exit"])
                arr.append(t)
                ans.append(True)
                handle.append(float(r["ser_time"]))
                s = _secs(r["ser_start"])
                servers.append((server, s, s + float(r["ser_time"])))
            elif outcome == "HANG" and qt > 0:
                arr.append(_secs(r["q_start"]))
                ans.append(False)
                handle.append(math.nan)
            else:
                continue
            high.append(r["priority"] == "2")
            wait.append(float(qt))
        days.append(DayLog(date, np.asarray(arr, dtype=np.float64), np.asarray(high),
                           np.asarray(ans), np.asarray(wait, dtype=np.float64),
                           np.asarray(handle, dtype=np.float64), servers))
    return days


def busy_gaps(days: list[DayLog], cap_s: float = 1800.0) -> FloatArray:
    """Gaps between an agent's consecutive calls while customers were waiting.

    The log records talk time only; these gaps are the unrecorded work (wrap-up, other
    tasks, short breaks) that kept agents from the queue. Used as an empirical
    after-contact-work distribution in :func:`compare_bank_log` (``wrap_up=True``).
    """
    out: list[float] = []
    for d in days:
        queued = d.wait > 0
        qs, qe = d.arrival[queued], (d.arrival + d.wait)[queued]
        order = np.argsort(qs)
        qs, qe = qs[order], np.maximum.accumulate(qe[order])
        per: dict[str, list[tuple[float, float]]] = {}
        for server, st, en in d.servers:
            per.setdefault(server, []).append((st, en))
        for spans in per.values():
            spans.sort()
            for (_, end), (nxt, _) in itertools.pairwise(spans):
                gap = nxt - end
                if not 0 <= gap < cap_s:
                    continue
                i = int(np.searchsorted(qs, end, side="right"))
                if i and qe[i - 1] > end + 1.0:  # someone was waiting when the call ended
                    out.append(gap)
    return np.asarray(out, dtype=np.float64)


def day_scenario(day: DayLog, threshold_s: float = 20.0, acw: Dist | None = None
                 ) -> Scenario:
    """The replay scenario for one day of the log."""
    ok = (day.arrival >= 0) & (day.arrival < CLOSE_S - OPEN_S)
    served = day.handle[ok & day.answered]
    if served.size == 0:
        raise ScenarioError(f"bank log {day.date}: no answered calls")
    queued_time = float(day.wait[ok].sum())
    abandons = int((ok & ~day.answered).sum())
    theta = abandons / queued_time if queued_time > 0 and abandons else 0.0
    patience = Dist.exponential(1.0 / theta) if theta > 0 else Dist("none")
    handle_dist = Dist("empirical", values=tuple(float(x) for x in served))
    queues = [
        QueueSpec(name, "call", "", {}, "", prio, 0.0, (0.0,) * N_BINS, handle_dist, patience,
                  acw or Dist("constant", 0.0))
        for name, prio in (("regular", 0), ("high", 1))
    ]
    # agents: on duty in every half hour in which they served a call
    bins: dict[str, set[int]] = {}
    for server, s, e in day.servers:
        b0 = max(0, int(s // HALF_HOUR))
        b1 = min(N_BINS - 1, int(max(s, e - 1e-9) // HALF_HOUR))
        bins.setdefault(server, set()).update(range(b0, b1 + 1))
    agents = []
    for server in sorted(bins):
        spans: list[tuple[float, float]] = []
        for b in sorted(bins[server]):
            if spans and spans[-1][1] == b * HALF_HOUR:
                spans[-1] = (spans[-1][0], (b + 1) * HALF_HOUR)
            else:
                spans.append((b * HALF_HOUR, (b + 1) * HALF_HOUR))
        agents.append(AgentSpec(server, {}, (), (), {"call": 1, "chat": 0, "email": 0},
                                tuple(spans)))
    sc = Scenario(f"bank {day.date}", HALF_HOUR, N_BINS, queues, agents, _RULES,
                  start_s=OPEN_S, sl_threshold_s=threshold_s)
    sc.replay = Replay(
        day.arrival[ok],
        day.high[ok].astype(np.int64),
        day.handle[ok],
        np.where(day.answered[ok], np.nan, day.wait[ok]),
    )
    return sc


@dataclass
class Comparison:
    """Per half hour of the day (07:00-24:00), the log against the simulation."""

    label: list[str]
    offered: FloatArray
    agents: FloatArray  # mean agents on duty per day
    log: dict[str, FloatArray]
    sim: dict[str, FloatArray]
    sim_ci: dict[str, FloatArray]
    total_log: dict[str, float]
    total_sim: dict[str, tuple[float, float]]


def _bin_stats(arrival: FloatArray, answered: np.ndarray, abandoned: np.ndarray,
               wait: FloatArray, thr: float) -> dict[str, FloatArray]:
    b = np.clip((arrival // HALF_HOUR).astype(np.int64), 0, N_BINS - 1)

    def cnt(mask: np.ndarray, w: FloatArray | None = None) -> FloatArray:
        return np.bincount(b[mask], weights=None if w is None else w[mask],
                           minlength=N_BINS).astype(np.float64)

    w = np.nan_to_num(wait)
    return {"answered": cnt(answered), "abandoned": cnt(abandoned),
            "within": cnt(answered & (w <= thr)), "wait_sum": cnt(answered, w)}


def _ratios(s: dict[str, FloatArray]) -> dict[str, FloatArray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "sl": s["within"] / s["answered"],
            "asa_s": s["wait_sum"] / s["answered"],
            "abandon_rate": s["abandoned"] / (s["answered"] + s["abandoned"]),
        }


def compare_bank_log(path: str | Path, replications: int = 5, seed: int = 1,
                     threshold_s: float = 20.0, wrap_up: bool = False) -> Comparison:
    """Replay every day ``replications`` times; pool per half hour of day.

    With ``wrap_up`` every answered call is followed by after-contact work drawn from
    :func:`busy_gaps` (the agents' unrecorded unavailability in the log).
    """
    days = load_bank_log(path)
    acw = None
    if wrap_up:
        gaps = busy_gaps(days)
        acw = Dist("empirical", values=tuple(float(g) for g in gaps)) if gaps.size else None
    keys = ("answered", "abandoned", "within", "wait_sum")
    log_tot = {k: np.zeros(N_BINS) for k in keys}
    sim_tot = [{k: np.zeros(N_BINS) for k in keys} for _ in range(replications)]
    staff = np.zeros(N_BINS)
    ndays = 0
    for day in days:
        try:
            sc = day_scenario(day, threshold_s, acw)
        except ScenarioError:
            continue
        ndays += 1
        for a in sc.agents:
            for s, e in a.on_duty:
                staff[int(s // HALF_HOUR):int(e // HALF_HOUR)] += 1
        assert sc.replay is not None
        ok = (day.arrival >= 0) & (day.arrival < CLOSE_S - OPEN_S)
        st = _bin_stats(day.arrival[ok], day.answered[ok], ~day.answered[ok], day.wait[ok],
                        threshold_s)
        for k in keys:
            log_tot[k] += st[k]
        for r in range(replications):
            res = run_once(sc, seed + r)
            st = _bin_stats(res.arrival, res.outcome == ANSWERED, res.outcome == ABANDONED,
                            res.wait, threshold_s)
            for k in keys:
                sim_tot[r][k] += st[k]
    log_r = _ratios(log_tot)
    sim_r = [_ratios(s) for s in sim_tot]
    sim_mean: dict[str, FloatArray] = {}
    sim_ci: dict[str, FloatArray] = {}
    for m in ("sl", "asa_s", "abandon_rate"):
        stack = np.stack([s[m] for s in sim_r])
        pairs = [ci95(stack[:, i]) for i in range(N_BINS)]
        sim_mean[m] = np.array([p[0] for p in pairs])
        sim_ci[m] = np.array([p[1] for p in pairs])

    def overall(s: dict[str, FloatArray]) -> dict[str, float]:
        tot = {k: np.array([v.sum()]) for k, v in s.items()}
        return {k: float(v[0]) for k, v in _ratios(tot).items()}

    total_sim: dict[str, tuple[float, float]] = {}
    per_rep = [overall(s) for s in sim_tot]
    for m in ("sl", "asa_s", "abandon_rate"):
        total_sim[m] = ci95([p[m] for p in per_rep])
    labels = [f"{(OPEN_S + i * HALF_HOUR) // 3600:02d}:{(i % 2) * 30:02d}"
              for i in range(N_BINS)]
    return Comparison(labels, log_tot["answered"] + log_tot["abandoned"],
                      staff / max(ndays, 1), log_r, sim_mean, sim_ci, overall(log_tot),
                      total_sim)
