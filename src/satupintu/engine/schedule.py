"""Shift selection (set-covering MILP with break placement and days-off coupling).

Given staff requirements for a week (``days x periods``, e.g. 7 x 48 half hours) and
shift templates, ``select_shifts`` chooses how many of each template start on each day,
and where each shift takes its breaks, minimising

    under_weight * sum(under) + over_weight * sum(over) + cost_weight * sum(shift cost)

where ``under``/``over`` are agents missing / in excess per period.  The model is a MILP
solved by HiGHS (``scipy.optimize.milp``); the result says whether it is proven optimal,
and otherwise reports the relative gap to the best bound.

Weekly coupling: with ``days_off`` patterns (e.g. 5 working days and 2 consecutive days
off), the model also decides how many agents work each weekly pattern; every template
belongs to a ``family`` and on each day the shifts of a family equal the agents of that
family's patterns working that day, so the headcount is exact and weekly hours follow
(5 x 8 h or 6 x 7 h = 40 h).

The week is cyclic by default: a shift that starts Sunday 22:00 covers Monday 05:00.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import optimize, sparse

from satupintu.engine.wfm_errors import InfeasibleScheduleError, InvalidInputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class BreakRule:
    """A break of ``length`` periods starting between ``earliest`` and ``latest`` periods
    after the shift start (inclusive).  Unpaid breaks do not count in paid hours."""

    length: int
    earliest: int
    latest: int
    paid: bool = False


@dataclass(frozen=True)
class ShiftTemplate:
    """A shift that starts at period ``start`` of a day and lasts ``length`` periods
    (breaks included).  ``days`` are the weekdays (0 = Monday) it may start on;
    ``family`` ties it to weekly days-off patterns; ``cost`` defaults to paid hours."""

    name: str
    start: int
    length: int
    breaks: tuple[BreakRule, ...] = ()
    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    family: str = "default"
    cost: float | None = None

    def paid_periods(self) -> int:
        return self.length - sum(b.length for b in self.breaks if not b.paid)


@dataclass(frozen=True)
class DaysOffRule:
    """Weekly patterns of a family: ``work_days`` days on, the rest off (consecutive, in
    the cyclic week, when ``consecutive_off``)."""

    family: str = "default"
    work_days: int = 5
    consecutive_off: bool = True

    def patterns(self) -> list[tuple[int, ...]]:
        off = 7 - self.work_days
        out: list[tuple[int, ...]] = []
        if self.consecutive_off:
            for first in range(7):
                days_off = {(first + k) % 7 for k in range(off)}
                out.append(tuple(d for d in range(7) if d not in days_off))
        else:
            out = [tuple(c) for c in itertools.combinations(range(7), self.work_days)]
        return sorted(set(out))


@dataclass(frozen=True)
class ShiftCount:
    """``count`` shifts of ``template`` start on ``day``; ``breaks[r]`` maps a start
    offset of break rule r to how many of them take it there."""

    day: int
    template: str
    count: int
    breaks: tuple[dict[int, int], ...] = ()


@dataclass
class ShiftPlan:
    """The chosen shifts and how they cover the requirement (explains itself)."""

    shifts: list[ShiftCount]
    required: FloatArray
    scheduled: FloatArray
    objective: float
    optimal: bool
    mip_gap: float
    status: str
    solve_seconds: float
    periods_per_day: int
    headcount_by_pattern: dict[tuple[str, tuple[int, ...]], int] = field(default_factory=dict)

    @property
    def under(self) -> FloatArray:
        return np.asarray(np.maximum(self.required - self.scheduled, 0.0), dtype=np.float64)

    @property
    def over(self) -> FloatArray:
        return np.asarray(np.maximum(self.scheduled - self.required, 0.0), dtype=np.float64)

    @property
    def headcount(self) -> int:
        return sum(self.headcount_by_pattern.values())

    def coverage_rows(self) -> list[tuple[str, int, int, str]]:
        """(day, period, required, scheduled, time label) per period, for reports."""
        rows = []
        minutes = 24 * 60 // self.periods_per_day
        for d in range(self.required.shape[0]):
            for p in range(self.required.shape[1]):
                label = f"{DAY_NAMES[d % 7]} {p * minutes // 60:02d}:{p * minutes % 60:02d}"
                rows.append((label, int(self.required[d, p]), int(self.scheduled[d, p]), ""))
        return rows


def _validate_templates(templates: list[ShiftTemplate], periods: int) -> None:
    if not templates:
        raise InvalidInputError("templates", "give at least one shift template")
    names = [t.name for t in templates]
    if len(set(names)) != len(names):
        raise InvalidInputError("templates", "template names must be unique")
    for t in templates:
        if not (0 <= t.start < periods):
            raise InvalidInputError(f"template {t.name}", f"start must be in [0, {periods})")
        if not (1 <= t.length <= periods):
            raise InvalidInputError(f"template {t.name}", "length must be 1 to one day")
        if any(d not in range(7) for d in t.days) or not t.days:
            raise InvalidInputError(f"template {t.name}", "days must be weekdays 0 to 6")
        last_end = 0
        for b in sorted(t.breaks, key=lambda br: br.earliest):
            if b.length < 1 or b.earliest < 0 or b.latest < b.earliest:
                raise InvalidInputError(f"template {t.name}", "break window is empty")
            if b.latest + b.length > t.length:
                raise InvalidInputError(f"template {t.name}", "break window ends after the shift")
            if b.earliest < last_end:
                raise InvalidInputError(f"template {t.name}", "break windows overlap")
            last_end = b.latest + b.length


def select_shifts(
    required: npt.ArrayLike,
    templates: list[ShiftTemplate],
    *,
    days_off: list[DaysOffRule] | None = None,
    under_weight: float = 10.0,
    over_weight: float = 1.0,
    cost_weight: float = 0.01,
    cyclic: bool = True,
    max_headcount: int | None = None,
    allow_understaffing: bool = True,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-4,
) -> ShiftPlan:
    """Choose shift starts and breaks to cover ``required`` (days x periods agents).

    Breaks are decided jointly with the shifts: every shift of a template with break
    rules takes each break at one offset of its window, chosen so that coverage is best.
    With many templates and breaks HiGHS may stop at ``time_limit_s``; the plan then
    reports ``optimal=False`` and the relative gap to the best bound.

    Raises ``InfeasibleScheduleError`` naming the binding constraint when no plan exists
    (a period no template can cover, a headcount cap too low, or a pattern family with
    no template), never returns an empty plan silently.
    """
    return _solve(
        required,
        templates,
        days_off=days_off,
        under_weight=under_weight,
        over_weight=over_weight,
        cost_weight=cost_weight,
        cyclic=cyclic,
        max_headcount=max_headcount,
        allow_understaffing=allow_understaffing,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )


def _solve(
    required: npt.ArrayLike,
    templates: list[ShiftTemplate],
    *,
    days_off: list[DaysOffRule] | None,
    under_weight: float,
    over_weight: float,
    cost_weight: float,
    cyclic: bool,
    max_headcount: int | None,
    allow_understaffing: bool,
    time_limit_s: float,
    mip_rel_gap: float,
) -> ShiftPlan:
    req = np.asarray(required, dtype=np.float64)
    if req.ndim != 2 or req.shape[0] < 1:
        raise InvalidInputError("required", "must be a days x periods table")
    if np.any(np.isnan(req)) or np.any(req < 0):
        raise InvalidInputError("required", "must not be negative or NaN")
    n_days, periods = req.shape
    _validate_templates(templates, periods)
    horizon = n_days * periods

    # ---- variables: x[d, s], then b[d, s, r, k], then w[pattern], then over, under
    x_index: dict[tuple[int, int], int] = {}
    for d in range(n_days):
        for si, t in enumerate(templates):
            if d % 7 in t.days:
                x_index[(d, si)] = len(x_index)
    n_x = len(x_index)
    b_index: dict[tuple[int, int, int, int], int] = {}
    for (d, si), _ in x_index.items():
        for r, br in enumerate(templates[si].breaks):
            for k in range(br.earliest, br.latest + 1):
                b_index[(d, si, r, k)] = n_x + len(b_index)
    n_b = len(b_index)
    families = sorted({t.family for t in templates})
    pattern_list: list[tuple[str, tuple[int, ...]]] = []
    if days_off:
        if n_days != 7:
            raise InvalidInputError("days_off", "days-off patterns need a 7-day requirement")
        for rule in days_off:
            if not (1 <= rule.work_days <= 7):
                raise InvalidInputError("days_off", "work_days must be 1 to 7")
            if rule.family not in families:
                raise InfeasibleScheduleError(
                    "days_off", f"family {rule.family!r} has no shift template"
                )
            pattern_list += [(rule.family, p) for p in rule.patterns()]
    n_w = len(pattern_list)
    w0 = n_x + n_b
    over0 = w0 + n_w
    under0 = over0 + horizon
    n_vars = under0 + horizon

    def cover_periods(d: int, start: int, length: int) -> list[int]:
        out = []
        for i in range(length):
            t = d * periods + start + i
            if t >= horizon:
                if not cyclic:
                    continue
                t %= horizon
            out.append(t)
        return out

    # coverage check: each period with a requirement must be reachable by some template
    reach = np.zeros(horizon, dtype=bool)
    for (d, si), _ in x_index.items():
        t = templates[si]
        reach[cover_periods(d, t.start, t.length)] = True
    flat_req = req.reshape(-1)
    unreachable = np.where((flat_req > 0) & ~reach)[0]
    if unreachable.size:
        t0 = int(unreachable[0])
        d, p = divmod(t0, periods)
        minutes = 24 * 60 // periods
        raise InfeasibleScheduleError(
            "templates",
            f"no shift template covers {DAY_NAMES[d % 7]} {p * minutes // 60:02d}:"
            f"{p * minutes % 60:02d} (required {flat_req[t0]:g}) "
            f"and {unreachable.size - 1} more period(s)",
        )

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for (d, si), j in x_index.items():
        t = templates[si]
        for i in range(t.length):
            period = d * periods + t.start + i
            if period >= horizon:
                if not cyclic:
                    continue
                period %= horizon
            rows.append(period)
            cols.append(j)
            vals.append(1.0)
    for (d, si, r, k), j in b_index.items():
        t = templates[si]
        for period in cover_periods(d, t.start + k, t.breaks[r].length):
            rows.append(period)
            cols.append(j)
            vals.append(-1.0)
    for period in range(horizon):
        rows += [period, period]
        cols += [over0 + period, under0 + period]
        vals += [-1.0, 1.0]
    n_rows = horizon
    lower: list[float] = [float(v) for v in flat_req]
    upper: list[float] = list(lower)
    # breaks: sum_k b[d,s,r,k] - x[d,s] = 0
    groups: dict[tuple[int, int, int], list[int]] = {}
    for (d, si, r, _k), j in b_index.items():
        groups.setdefault((d, si, r), []).append(j)
    for (d, si, _r), js in groups.items():
        for j in js:
            rows.append(n_rows)
            cols.append(j)
            vals.append(1.0)
        rows.append(n_rows)
        cols.append(x_index[(d, si)])
        vals.append(-1.0)
        lower.append(0.0)
        upper.append(0.0)
        n_rows += 1
    # days-off coupling per family and day
    if days_off:
        for fam in {rule.family for rule in days_off}:
            for d in range(7):
                for (dd, si), j in x_index.items():
                    if dd == d and templates[si].family == fam:
                        rows.append(n_rows)
                        cols.append(j)
                        vals.append(1.0)
                for pi, (pf, pat) in enumerate(pattern_list):
                    if pf == fam and d in pat:
                        rows.append(n_rows)
                        cols.append(w0 + pi)
                        vals.append(-1.0)
                lower.append(0.0)
                upper.append(0.0)
                n_rows += 1
    if max_headcount is not None:
        if n_w:
            for pi in range(n_w):
                rows.append(n_rows)
                cols.append(w0 + pi)
                vals.append(1.0)
            lower.append(-np.inf)
            upper.append(float(max_headcount))
            n_rows += 1
        else:
            for d in range(n_days):
                for (dd, _si), j in x_index.items():
                    if dd == d:
                        rows.append(n_rows)
                        cols.append(j)
                        vals.append(1.0)
                lower.append(-np.inf)
                upper.append(float(max_headcount))
                n_rows += 1
    a_mat = sparse.csr_array((vals, (rows, cols)), shape=(n_rows, n_vars))

    c = np.zeros(n_vars)
    for (_d, si), j in x_index.items():
        t = templates[si]
        cost = t.cost if t.cost is not None else t.paid_periods() * 24.0 / periods
        c[j] = cost_weight * cost
    c[over0:under0] = over_weight
    c[under0:] = under_weight
    integrality = np.zeros(n_vars, dtype=np.int64)
    integrality[:over0] = 1
    lb = np.zeros(n_vars)
    ub = np.full(n_vars, np.inf)
    if not allow_understaffing:
        ub[under0:] = 0.0
    started = time.perf_counter()
    res = optimize.milp(
        c,
        constraints=optimize.LinearConstraint(a_mat, np.array(lower), np.array(upper)),
        integrality=integrality,
        bounds=optimize.Bounds(lb, ub),
        options={"time_limit": time_limit_s, "mip_rel_gap": mip_rel_gap, "presolve": True},
    )
    elapsed = time.perf_counter() - started
    if res.x is None:
        if not allow_understaffing:
            cause = "max_headcount" if max_headcount is not None else "coverage"
            raise InfeasibleScheduleError(
                cause,
                "the requirement cannot be met in full with these templates"
                + (f" and at most {max_headcount} agents" if max_headcount is not None else "")
                + "; allow understaffing to see which periods fall short",
            )
        raise InfeasibleScheduleError("solver", f"HiGHS found no plan: {res.message}")
    xv = np.round(res.x).astype(np.int64)
    shifts: list[ShiftCount] = []
    for (d, si), j in x_index.items():
        if xv[j] > 0:
            t = templates[si]
            brs = tuple(
                {
                    k: int(xv[b_index[(d, si, r, k)]])
                    for k in range(br.earliest, br.latest + 1)
                    if xv[b_index[(d, si, r, k)]] > 0
                }
                for r, br in enumerate(t.breaks)
            )
            shifts.append(ShiftCount(day=d, template=t.name, count=int(xv[j]), breaks=brs))
    coverage = _true_coverage(templates, x_index, b_index, xv, n_days, periods, cyclic)
    scheduled = np.asarray(np.round(coverage), dtype=np.float64).reshape(n_days, periods)
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    optimal = res.status == 0
    status = "optimal" if optimal else f"stopped ({res.message}); relative gap {gap:.4%}"
    return ShiftPlan(
        shifts=shifts,
        required=req,
        scheduled=scheduled,
        objective=float(res.fun),
        optimal=optimal,
        mip_gap=gap if not optimal else 0.0,
        status=status,
        solve_seconds=elapsed,
        periods_per_day=periods,
        headcount_by_pattern={
            pattern_list[i]: int(xv[w0 + i]) for i in range(n_w) if xv[w0 + i] > 0
        },
    )


def _true_coverage(
    templates: list[ShiftTemplate],
    x_index: dict[tuple[int, int], int],
    b_index: dict[tuple[int, int, int, int], int],
    xv: IntArray,
    n_days: int,
    periods: int,
    cyclic: bool,
) -> FloatArray:
    horizon = n_days * periods
    cov = np.zeros(horizon)

    def add(d: int, start: int, length: int, amount: float) -> None:
        for i in range(length):
            t = d * periods + start + i
            if t >= horizon:
                if not cyclic:
                    continue
                t %= horizon
            cov[t] += amount

    for (d, si), j in x_index.items():
        if xv[j]:
            add(d, templates[si].start, templates[si].length, float(xv[j]))
    for (d, si, r, k), j in b_index.items():
        if xv[j]:
            add(d, templates[si].start + k, templates[si].breaks[r].length, -float(xv[j]))
    return cov


def templates_every(
    step: int,
    lengths: list[int],
    *,
    periods: int = 48,
    first: int = 0,
    last: int | None = None,
    break_rules: dict[int, tuple[BreakRule, ...]] | None = None,
    family_by_length: dict[int, str] | None = None,
) -> list[ShiftTemplate]:
    """Templates starting every ``step`` periods from ``first`` to ``last`` for each
    length (e.g. every 30 min from 06:00 to 14:00, 8 h 30 with a 1 h lunch)."""
    last = periods - 1 if last is None else last
    out = []
    for length in lengths:
        for start in range(first, last + 1, step):
            fam = (family_by_length or {}).get(length, "default")
            brs = (break_rules or {}).get(length, ())
            minutes = 24 * 60 // periods
            name = f"{start * minutes // 60:02d}{start * minutes % 60:02d}-{length}"
            out.append(ShiftTemplate(name=name, start=start, length=length, breaks=brs, family=fam))
    return out
