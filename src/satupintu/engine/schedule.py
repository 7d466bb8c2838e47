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

Breaks with a window are placed by the implicit (Bechtold-Jacobs) model: integer break
counts per (day, break length, start slot) shared by all templates, tied to the shift
counts by forward/backward constraints (Hall's conditions, hence exact), then matched
back to templates.  Independent blocks (e.g. days with no overnight shift and no weekly
patterns) are solved separately, each after its LP relaxation and reduced-cost fixing.

The week is cyclic by default: a shift that starts Sunday 22:00 covers Monday 05:00.
"""

from __future__ import annotations

import heapq
import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import optimize, sparse
from scipy.sparse import csgraph

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
    break_model: str = "implicit",
    decompose: bool = True,
) -> ShiftPlan:
    """Choose shift starts and breaks to cover ``required`` (days x periods agents).

    Breaks are decided jointly with the shifts: every shift of a template with break
    rules takes each break at one offset of its window, chosen so that coverage is best.

    ``break_model="implicit"`` (default) uses one integer per (day, break length, break
    start slot) shared by all shifts, linked to the shift counts by forward/backward
    (Bechtold-Jacobs) constraints; these are Hall's conditions for matching shifts to
    break slots, so the model is exact and every solution is disaggregated into
    per-template offsets afterwards.  ``"explicit"`` keeps one integer per (shift, break
    offset) (Aykin); it gives the same optimum but is much larger.  If HiGHS stops at
    ``time_limit_s`` the plan reports ``optimal=False`` and the relative gap.

    With ``decompose`` (default) independent blocks (days that no overnight shift,
    weekly pattern or headcount cap links) are solved one by one, each after its LP
    relaxation with reduced-cost fixing (see ``_solve_block``); the optimum is the same,
    found much faster.  ``decompose=False`` is one plain HiGHS call (for comparison).

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
        break_model=break_model,
        decompose=decompose,
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
    break_model: str = "implicit",
    decompose: bool = True,
) -> ShiftPlan:
    if break_model not in ("implicit", "explicit"):
        raise InvalidInputError("break_model", "must be 'implicit' or 'explicit'")
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
    chains: list[_Chain] = []
    if break_model == "explicit":
        for (d, si), _ in x_index.items():
            for r, br in enumerate(templates[si].breaks):
                if br.earliest == br.latest:
                    continue
                for k in range(br.earliest, br.latest + 1):
                    b_index[(d, si, r, k)] = n_x + len(b_index)
        n_b = len(b_index)
    else:
        chains = _break_chains(templates, x_index, periods)
        n_b = 0
        for ch in chains:
            for t_abs in ch.slots:
                ch.col[t_abs] = n_x + n_b
                n_b += 1
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
    if days_off and decompose and max_headcount is None:
        # Two stages, exact when the second succeeds: without the weekly coupling the
        # days are independent blocks and the optimum is a lower bound; if its daily
        # counts can be produced by whole weekly patterns it is also optimal here.
        started0 = time.perf_counter()
        loose = _solve(
            req,
            templates,
            days_off=None,
            under_weight=under_weight,
            over_weight=over_weight,
            cost_weight=cost_weight,
            cyclic=cyclic,
            max_headcount=None,
            allow_understaffing=allow_understaffing,
            time_limit_s=0.5 * time_limit_s,
            mip_rel_gap=mip_rel_gap,
            break_model=break_model,
            decompose=True,
        )
        if loose.optimal:
            heads = _patterns_for(loose, templates, days_off, pattern_list)
            if heads is not None:
                loose.headcount_by_pattern = heads
                loose.solve_seconds = time.perf_counter() - started0
                return loose
        time_limit_s = max(0.01, time_limit_s - (time.perf_counter() - started0))
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
        # a break with a single offset is a fixed hole in the shift's column
        holes = {
            br.earliest + i for br in t.breaks if br.earliest == br.latest for i in range(br.length)
        }
        for i in range(t.length):
            if i in holes:
                continue
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
    for ch in chains:
        for t_abs, j in ch.col.items():
            for period in cover_periods(0, t_abs, ch.length):
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
    # implicit breaks: totals equal, forward and backward (Hall) constraints per chain
    for ch in chains:
        n_rows = _chain_rows(ch, n_rows, rows, cols, vals, lower, upper)
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
    res = _milp_by_blocks(
        c,
        a_mat,
        np.array(lower),
        np.array(upper),
        integrality,
        lb,
        ub,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        decompose=decompose,
    )
    elapsed = time.perf_counter() - started
    if res.x is None:
        if not allow_understaffing and res.infeasible:
            cause = "max_headcount" if max_headcount is not None else "coverage"
            raise InfeasibleScheduleError(
                cause,
                "the requirement cannot be met in full with these templates"
                + (f" and at most {max_headcount} agents" if max_headcount is not None else "")
                + "; allow understaffing to see which periods fall short",
            )
        raise InfeasibleScheduleError("solver", f"HiGHS found no plan: {res.message}")
    xv = np.round(res.x).astype(np.int64)
    placed: dict[tuple[int, int, int], dict[int, int]] = {}
    for (d, si, r, k), j in b_index.items():
        if xv[j] > 0:
            placed.setdefault((d, si, r), {})[k] = int(xv[j])
    for ch in chains:
        _disaggregate(ch, xv, templates, periods, placed)
    for (d, si), j in x_index.items():
        for r, br in enumerate(templates[si].breaks):
            if br.earliest == br.latest and xv[j] > 0:
                placed[(d, si, r)] = {br.earliest: int(xv[j])}
    shifts: list[ShiftCount] = []
    for (d, si), j in x_index.items():
        if xv[j] > 0:
            t = templates[si]
            brs = tuple(
                dict(sorted(placed.get((d, si, r), {}).items())) for r in range(len(t.breaks))
            )
            shifts.append(ShiftCount(day=d, template=t.name, count=int(xv[j]), breaks=brs))
    coverage = _true_coverage(templates, x_index, placed, xv, n_days, periods, cyclic)
    scheduled = np.asarray(np.round(coverage), dtype=np.float64).reshape(n_days, periods)
    gap = res.gap
    optimal = res.optimal
    status = "optimal" if optimal else f"stopped ({res.message}); relative gap {gap:.4%}"
    return ShiftPlan(
        shifts=shifts,
        required=req,
        scheduled=scheduled,
        objective=res.fun,
        optimal=optimal,
        mip_gap=gap if not optimal else 0.0,
        status=status,
        solve_seconds=elapsed,
        periods_per_day=periods,
        headcount_by_pattern={
            pattern_list[i]: int(xv[w0 + i]) for i in range(n_w) if xv[w0 + i] > 0
        },
    )


def _patterns_for(
    plan: ShiftPlan,
    templates: list[ShiftTemplate],
    days_off: list[DaysOffRule],
    pattern_list: list[tuple[str, tuple[int, ...]]],
) -> dict[tuple[str, tuple[int, ...]], int] | None:
    """Agents per weekly pattern whose working days give exactly the plan's shifts per
    family and day (fewest agents), or None when no such whole numbers exist."""
    family = {t.name: t.family for t in templates}
    out: dict[tuple[str, tuple[int, ...]], int] = {}
    for fam in sorted({rule.family for rule in days_off}):
        pats = [p for f, p in pattern_list if f == fam]
        need = np.zeros(7)
        for sc in plan.shifts:
            if family[sc.template] == fam:
                need[sc.day] += sc.count
        a = np.array([[1.0 if d in p else 0.0 for p in pats] for d in range(7)])
        res = optimize.milp(
            np.ones(len(pats)),
            constraints=optimize.LinearConstraint(a, need, need),
            integrality=np.ones(len(pats), dtype=np.int64),
            bounds=optimize.Bounds(0, np.inf),
            options={"time_limit": 5.0},
        )
        if res.status != 0 or res.x is None:
            return None
        w = np.round(res.x).astype(np.int64)
        out.update({(fam, p): int(n) for p, n in zip(pats, w, strict=True) if n > 0})
    return out


@dataclass
class _MilpResult:
    x: FloatArray | None
    fun: float
    bound: float
    optimal: bool
    infeasible: bool
    message: str

    @property
    def gap(self) -> float:
        if self.optimal:
            return 0.0
        return max(0.0, (self.fun - self.bound) / max(abs(self.fun), 1e-9))


def _milp_by_blocks(
    c: FloatArray,
    a_mat: sparse.csr_array,
    lower: FloatArray,
    upper: FloatArray,
    integrality: IntArray,
    lb: FloatArray,
    ub: FloatArray,
    *,
    time_limit_s: float,
    mip_rel_gap: float,
    decompose: bool = True,
) -> _MilpResult:
    """Solve the MILP one independent block at a time (e.g. days that no shift, break
    or weekly pattern links).  Exact: the blocks share no row, so the objectives and
    the HiGHS dual bounds add up.  Branch and bound on seven small blocks is much
    faster than on their union."""
    n_rows, n_vars = a_mat.shape
    coo = a_mat.tocoo()
    graph = sparse.coo_array(
        (np.ones(coo.nnz), (coo.row, n_rows + coo.col)), shape=(n_rows + n_vars,) * 2
    )
    _n, label = csgraph.connected_components(graph, directed=False)
    col_label = label[n_rows:]
    row_label = label[:n_rows]
    has_int = np.zeros(label.max() + 1, dtype=bool)
    has_int[col_label[integrality > 0]] = True
    # components without integers are merged into one LP-like block
    block = np.where(has_int[col_label], col_label, -1)
    row_block = np.where(has_int[row_label], row_label, -1)
    if not decompose:
        block[:] = 0
        row_block[:] = 0
    x = np.zeros(n_vars)
    fun = 0.0
    bound = 0.0
    optimal = True
    message = ""
    deadline = time.perf_counter() + time_limit_s
    blocks = sorted(set(block.tolist()))
    # reduced-cost fixing is dropped once it fails to certify a block
    try_fixing = [decompose]
    for k, b in enumerate(blocks):
        cols = np.where(block == b)[0]
        rws = np.where(row_block == b)[0]
        # a hard block may use half of what is left, the last block all of it
        left = max(0.01, deadline - time.perf_counter())
        if k < len(blocks) - 1:
            left = max(0.01, 0.5 * left)
        sub = a_mat[rws][:, cols] if rws.size else sparse.csr_array((0, cols.size))
        res = _solve_block(
            c[cols],
            sparse.csr_array(sub),
            lower[rws],
            upper[rws],
            integrality[cols],
            lb[cols],
            ub[cols],
            time_limit_s=left,
            mip_rel_gap=mip_rel_gap,
            try_fixing=try_fixing,
        )
        if res.x is None:
            return res
        x[cols] = res.x
        fun += res.fun
        bound += res.bound
        if not res.optimal:
            optimal = False
            message = res.message
    return _MilpResult(x, fun, bound, optimal, False, "" if optimal else message)


def _solve_block(
    c: FloatArray,
    a_mat: sparse.csr_array,
    lower: FloatArray,
    upper: FloatArray,
    integrality: IntArray,
    lb: FloatArray,
    ub: FloatArray,
    *,
    time_limit_s: float,
    mip_rel_gap: float,
    try_fixing: list[bool],
) -> _MilpResult:
    """One block: LP relaxation, reduced-cost fixing, then HiGHS.

    Shift-scheduling LPs are very degenerate and usually as good as the integer
    optimum, so HiGHS spends its time looking for an integer point on the LP's face.
    Every integer column with reduced cost d_j > 0 at its lower bound is fixed there: a
    solution using it costs at least z_LP + d_j.  If the restricted MILP's optimum is at
    most z_LP + min d_j it is the optimum of the block (any better solution would have
    been allowed); otherwise the block is solved again without the fixing.  Exact both
    ways, and the LP value is kept as a valid lower bound.
    """
    started = time.perf_counter()
    lp_bound = -np.inf
    fixed_ub = None
    cutoff = np.inf
    if try_fixing[0] and a_mat.shape[0] and integrality.any():
        eq = lower == upper
        le = ~eq & np.isfinite(upper)
        ge = ~eq & np.isfinite(lower)
        lp = optimize.linprog(
            c,
            A_ub=sparse.vstack([a_mat[le], -a_mat[ge]]).tocsr() if (le | ge).any() else None,
            b_ub=np.concatenate([upper[le], -lower[ge]]) if (le | ge).any() else None,
            A_eq=a_mat[eq] if eq.any() else None,
            b_eq=lower[eq] if eq.any() else None,
            bounds=[(lo_, None if np.isinf(hi_) else hi_) for lo_, hi_ in zip(lb, ub, strict=True)],
            method="highs",
            options={"time_limit": time_limit_s},
        )
        if lp.status == 0:
            lp_bound = float(lp.fun or 0.0)
            d = np.asarray(lp.lower.marginals, dtype=np.float64)
            tol = 1e-7 * max(1.0, abs(lp_bound))
            fix = (integrality > 0) & (d > tol) & (lb == 0)
            if fix.any():
                fixed_ub = ub.copy()
                fixed_ub[fix] = lb[fix]
                cutoff = lp_bound + float(d[fix].min()) - tol
    constraints = optimize.LinearConstraint(a_mat, lower, upper) if a_mat.shape[0] else ()
    best_x: FloatArray | None = None
    best_fun = np.inf
    bound = lp_bound
    if fixed_ub is not None:
        left = max(0.01, time_limit_s - (time.perf_counter() - started))
        res = optimize.milp(
            c,
            constraints=constraints,
            integrality=integrality,
            bounds=optimize.Bounds(lb, fixed_ub),
            options={"time_limit": 0.3 * left, "mip_rel_gap": mip_rel_gap, "presolve": True},
        )
        if res.status == 0 and res.x is not None and float(res.fun) <= cutoff:
            dual = _dual_bound(res)
            return _MilpResult(res.x, float(res.fun), max(lp_bound, dual), True, False, "")
        try_fixing[0] = False
        # every solution cheaper than the cutoff was allowed: it costs >= the dual bound
        if res.status == 2:
            bound = max(bound, cutoff)
        elif res.x is not None:
            best_x, best_fun = res.x, float(res.fun)
            bound = max(bound, min(_dual_bound(res), cutoff))
    left = max(0.01, time_limit_s - (time.perf_counter() - started))
    res = optimize.milp(
        c,
        constraints=constraints,
        integrality=integrality,
        bounds=optimize.Bounds(lb, ub),
        options={"time_limit": left, "mip_rel_gap": mip_rel_gap, "presolve": True},
    )
    if res.x is None and best_x is None:
        return _MilpResult(None, np.nan, np.nan, False, res.status == 2, str(res.message))
    if res.x is not None:
        bound = max(bound, _dual_bound(res))
        if float(res.fun) < best_fun:
            best_x, best_fun = res.x, float(res.fun)
    optimal = res.status == 0 and best_fun <= float(res.fun)
    return _MilpResult(
        best_x, best_fun, min(bound, best_fun), optimal, False, "" if optimal else str(res.message)
    )


def _dual_bound(res: optimize.OptimizeResult) -> float:
    dual = getattr(res, "mip_dual_bound", None)
    if dual is None or not np.isfinite(dual):
        return float(res.fun)
    return float(dual)


@dataclass
class _Chain:
    """Break demands of one day and break length whose windows are ordered (sorted by
    earliest slot, their latest slots never decrease): the implicit model's unit."""

    length: int
    items: list[tuple[int, int, int, int, int]]  # (earliest, latest, day, template, rule)
    slots: list[int] = field(default_factory=list)
    col: dict[int, int] = field(default_factory=dict)  # break slot -> column
    xcols: list[int] = field(default_factory=list)  # shift-count column of each item


def _break_chains(
    templates: list[ShiftTemplate], x_index: dict[tuple[int, int], int], periods: int
) -> list[_Chain]:
    """Group break demands by (day, length) and split each group into ordered chains
    (no window strictly inside another within a chain), so that forward and backward
    constraints are exactly Hall's conditions for matching shifts to break slots."""
    groups: dict[tuple[int, int], list[tuple[int, int, int, int, int]]] = {}
    for d, si in x_index:
        t = templates[si]
        base = d * periods + t.start
        for r, br in enumerate(t.breaks):
            if br.earliest == br.latest:
                continue  # a fixed hole in the shift's own column
            item = (base + br.earliest, base + br.latest, d, si, r)
            groups.setdefault((d, br.length), []).append(item)
    out: list[_Chain] = []
    for (_d, length), items in sorted(groups.items()):
        items.sort()
        chains: list[_Chain] = []
        for item in items:
            # best fit: the chain whose last window ends latest but not after this one
            fit = [c for c in chains if c.items[-1][1] <= item[1]]
            if fit:
                max(fit, key=lambda c: c.items[-1][1]).items.append(item)
            else:
                chains.append(_Chain(length, [item]))
        for c in chains:
            c.slots = sorted({t for e, lt, *_ in c.items for t in range(e, lt + 1)})
            c.xcols = [x_index[(it[2], it[3])] for it in c.items]
        out += chains
    return out


def _chain_rows(
    ch: _Chain,
    n_rows: int,
    rows: list[int],
    cols: list[int],
    vals: list[float],
    lower: list[float],
    upper: list[float],
) -> int:
    """Append sum(b) = sum(x), and for the windows ordered 1..n: shifts 1..j take at most
    the breaks up to l_j (forward), shifts i..n at most the breaks from e_i (backward).
    With the totals equal these imply Hall's condition for every run i..j of windows."""
    xs = ch.xcols

    def add(x_cols: list[int], b_cols: list[int], lo: float, hi: float) -> None:
        nonlocal n_rows
        for j in x_cols:
            rows.append(n_rows)
            cols.append(j)
            vals.append(1.0)
        for j in b_cols:
            rows.append(n_rows)
            cols.append(j)
            vals.append(-1.0)
        lower.append(lo)
        upper.append(hi)
        n_rows += 1

    add(xs, [ch.col[t] for t in ch.slots], 0.0, 0.0)
    n = len(ch.items)
    for j in range(n - 1):
        if ch.items[j][1] < ch.items[j + 1][1]:
            last = ch.items[j][1]
            add(xs[: j + 1], [ch.col[t] for t in ch.slots if t <= last], -np.inf, 0.0)
    for i in range(1, n):
        if ch.items[i - 1][0] < ch.items[i][0]:
            first = ch.items[i][0]
            add(xs[i:], [ch.col[t] for t in ch.slots if t >= first], -np.inf, 0.0)
    return n_rows


def _disaggregate(
    ch: _Chain,
    xv: IntArray,
    templates: list[ShiftTemplate],
    periods: int,
    placed: dict[tuple[int, int, int], dict[int, int]],
) -> None:
    """Match the chain's break slots to its shifts, earliest deadline first (exact for
    ordered windows when Hall's conditions hold), into per-template offsets."""
    pending: list[tuple[int, int, int]] = []  # (latest, item index, remaining)
    remaining = [int(xv[j]) for j in ch.xcols]
    nxt = 0
    for t in ch.slots:
        while nxt < len(ch.items) and ch.items[nxt][0] <= t:
            if remaining[nxt] > 0:
                heapq.heappush(pending, (ch.items[nxt][1], nxt, remaining[nxt]))
            nxt += 1
        units = int(xv[ch.col[t]])
        while units > 0:
            if not pending:
                raise InfeasibleScheduleError("breaks", "break slots could not be matched")
            latest, k, left = heapq.heappop(pending)
            if latest < t:
                raise InfeasibleScheduleError("breaks", "break slots could not be matched")
            take = min(units, left)
            _e, _l, d, si, r = ch.items[k]
            offset = t - d * periods - templates[si].start
            slot = placed.setdefault((d, si, r), {})
            slot[offset] = slot.get(offset, 0) + take
            units -= take
            if left > take:
                heapq.heappush(pending, (latest, k, left - take))


def _true_coverage(
    templates: list[ShiftTemplate],
    x_index: dict[tuple[int, int], int],
    placed: dict[tuple[int, int, int], dict[int, int]],
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
    for (d, si, r), offsets in placed.items():
        for k, n in offsets.items():
            add(d, templates[si].start + k, templates[si].breaks[r].length, -float(n))
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
