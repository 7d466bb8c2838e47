"""Rostering: assign named agents to the shifts chosen by ``select_shifts``.

A MILP (HiGHS) with a binary y[a, d, s] = agent a works shift s on day d, subject to:

* at most one shift a day, only on days the agent is available and not on leave;
* the skills the shift needs;
* working-time rules (``LabourRules``, Indonesian defaults from UU 13/2003 as amended):
  40 regular hours a week, either 6 days of at most 7 paid hours or 5 days of at most
  8 (a binary per agent chooses the regime), at most ``max_overtime_hours`` a week on
  top of the contract, and a minimum rest between the end of one shift and the next;
* fairness: the most weekend shifts and the most night shifts any agent gets are
  minimised (weighted), and preferences (``Agent.preferences``) are rewarded.

Shifts that cannot be filled are elastic (heavily penalised) so the model always
solves; with ``strict=True`` any unfilled shift raises ``InfeasibleScheduleError``
naming the constraint that binds, found by relaxing each family of constraints in turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import optimize, sparse

from satupintu.engine.schedule import DAY_NAMES, ShiftPlan, ShiftTemplate
from satupintu.engine.wfm_errors import InfeasibleScheduleError, InvalidInputError


@dataclass(frozen=True)
class Agent:
    """A named agent.  ``contract_hours`` a week; ``available_days`` weekdays (0 = Mon)
    the agent can work; ``leave_days`` approved leave; ``preferences`` template name ->
    score (positive = wants it); ``preferred_days_off`` days the agent would rather not
    work.  ``available_periods`` narrows availability within a day: weekday -> windows
    ``(first, end)`` in periods from that day's midnight (``end`` may pass midnight, up
    to two days of periods); a shift is allowed only if it lies inside one window.
    Weekdays missing from it keep the whole day."""

    name: str
    skills: frozenset[str] = frozenset()
    contract_hours: float = 40.0
    available_days: frozenset[int] = frozenset(range(7))
    leave_days: frozenset[int] = frozenset()
    preferences: dict[str, float] = field(default_factory=dict)
    preferred_days_off: frozenset[int] = frozenset()
    available_periods: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    def fits(self, day: int, start: int, length: int) -> bool:
        """Whether a shift from period ``start`` of weekday ``day`` for ``length`` periods
        lies inside the agent's availability windows of that day."""
        windows = self.available_periods.get(day % 7)
        if windows is None:
            return True
        return any(a <= start and start + length <= b for a, b in windows)


@dataclass(frozen=True)
class LabourRules:
    """Working-time rules; defaults follow Indonesian law (40 h a week; 7 h x 6 days or
    8 h x 5 days; overtime at most 18 h a week (PP 35/2021); rest between shifts)."""

    regular_weekly_hours: float = 40.0
    max_overtime_hours: float = 18.0
    six_day_max_daily_hours: float = 7.0
    five_day_max_daily_hours: float = 8.0
    min_rest_hours: float = 11.0
    weekend_days: tuple[int, ...] = (5, 6)
    night_start_hour: float = 22.0
    night_end_hour: float = 6.0
    require_contract_hours: bool = False


@dataclass(frozen=True)
class Assignment:
    agent: str
    day: int
    template: str


@dataclass
class Roster:
    assignments: list[Assignment]
    unfilled: dict[tuple[int, str], int]
    hours_by_agent: dict[str, float]
    weekend_shifts_by_agent: dict[str, int]
    night_shifts_by_agent: dict[str, int]
    objective: float
    optimal: bool
    status: str


def _is_night(t: ShiftTemplate, periods: int, rules: LabourRules) -> bool:
    hours_per_period = 24.0 / periods
    for i in range(t.length):
        hour = ((t.start + i) * hours_per_period) % 24.0
        if hour >= rules.night_start_hour or hour < rules.night_end_hour:
            return True
    return False


def build_roster(
    plan: ShiftPlan,
    templates: list[ShiftTemplate],
    agents: list[Agent],
    *,
    rules: LabourRules | None = None,
    skills_needed: dict[str, frozenset[str]] | None = None,
    strict: bool = False,
    weights: dict[str, float] | None = None,
    time_limit_s: float = 30.0,
) -> Roster:
    """Assign ``agents`` to the shifts of ``plan``.  ``skills_needed`` maps a template
    name to the skills an agent must have to work it."""
    rules = rules or LabourRules()
    if not agents:
        raise InvalidInputError("agents", "give at least one agent")
    names = [a.name for a in agents]
    if len(set(names)) != len(names):
        raise InvalidInputError("agents", "agent names must be unique")
    return _roster(
        plan,
        templates,
        agents,
        rules,
        skills_needed or {},
        strict,
        weights or {},
        time_limit_s,
        diagnose=True,
    )


def _roster(
    plan: ShiftPlan,
    templates: list[ShiftTemplate],
    agents: list[Agent],
    rules: LabourRules,
    skills_needed: dict[str, frozenset[str]],
    strict: bool,
    weights: dict[str, float],
    time_limit_s: float,
    *,
    diagnose: bool,
    relax: frozenset[str] = frozenset(),
) -> Roster:
    by_name = {t.name: t for t in templates}
    periods = plan.periods_per_day
    hpp = 24.0 / periods
    demand = {(sc.day, sc.template): sc.count for sc in plan.shifts}
    for _, name in demand:
        if name not in by_name:
            raise InvalidInputError("templates", f"plan uses unknown template {name!r}")
    keys = sorted(demand)
    w_unfilled = weights.get("unfilled", 1000.0)
    w_short = weights.get("contract_shortfall", 5.0)
    w_weekend = weights.get("weekend_fairness", 3.0)
    w_night = weights.get("night_fairness", 3.0)
    w_pref = weights.get("preference", 1.0)

    var: dict[tuple[int, int, str], int] = {}
    for ai, ag in enumerate(agents):
        for d, name in keys:
            day = d % 7
            if "availability" not in relax and (
                day not in ag.available_days
                or not ag.fits(day, by_name[name].start, by_name[name].length)
            ):
                continue
            if "leave" not in relax and day in ag.leave_days:
                continue
            need = skills_needed.get(name, frozenset())
            if "skills" not in relax and not need <= ag.skills:
                continue
            var[(ai, d, name)] = len(var)
    n_y = len(var)
    n_a = len(agents)
    unf0 = n_y
    regime0 = unf0 + len(keys)  # z_a = 1: five-day regime
    short0 = regime0 + n_a
    wk_max = short0 + n_a
    nt_max = wk_max + 1
    n_vars = nt_max + 1
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def add_row(entries: list[tuple[int, float]], lower: float, upper: float) -> None:
        r = len(lo)
        for c, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        lo.append(lower)
        hi.append(upper)

    # demand: sum_a y + unfilled = count
    for ki, (d, name) in enumerate(keys):
        ent = [(j, 1.0) for (ai, dd, nn), j in var.items() if dd == d and nn == name]
        ent.append((unf0 + ki, 1.0))
        count = float(demand[(d, name)])
        add_row(ent, count, count)
    per_agent_day: dict[tuple[int, int], list[tuple[int, str]]] = {}
    for (ai, d, name), j in var.items():
        per_agent_day.setdefault((ai, d), []).append((j, name))
    n_days = plan.required.shape[0]
    for ai, ag in enumerate(agents):
        # one shift a day
        for d in range(n_days):
            items = per_agent_day.get((ai, d), [])
            if len(items) > 1:
                add_row([(j, 1.0) for j, _ in items], -np.inf, 1.0)
        mine = [(j, d, name) for (aa, d, name), j in var.items() if aa == ai]
        paid = {name: by_name[name].paid_periods() * hpp for _, _, name in mine}
        # weekly hours: regular + overtime cap; contract shortfall is soft (or hard)
        hours = [(j, paid[name]) for j, _, name in mine]
        cap = rules.regular_weekly_hours + (
            np.inf if "hours" in relax else rules.max_overtime_hours
        )
        cap = min(
            cap, ag.contract_hours + (np.inf if "hours" in relax else rules.max_overtime_hours)
        )
        add_row(hours, -np.inf, cap)
        target = ag.contract_hours
        add_row([*hours, (short0 + ai, 1.0)], target, np.inf)
        if "days" not in relax:
            # days <= 6 - z ; shifts longer than the six-day limit force z = 1
            add_row([(j, 1.0) for j, _, _ in mine] + [(regime0 + ai, 1.0)], -np.inf, 6.0)
            for j, _, name in mine:
                if paid[name] > rules.five_day_max_daily_hours + 1e-9:
                    add_row([(j, 1.0)], -np.inf, 0.0)
                elif paid[name] > rules.six_day_max_daily_hours + 1e-9:
                    add_row([(j, 1.0), (regime0 + ai, -1.0)], -np.inf, 0.0)
        if "rest" not in relax:
            # rest: y[a,d,s] + sum of conflicting y[a,d+1,s'] <= 1
            for (aa, d, name), j in var.items():
                if aa != ai:
                    continue
                t = by_name[name]
                end_h = d * 24.0 + (t.start + t.length) * hpp
                nxt = [
                    (j2, 1.0)
                    for (j2, n2) in per_agent_day.get((ai, d + 1), [])
                    if (d + 1) * 24.0 + by_name[n2].start * hpp - end_h < rules.min_rest_hours
                ]
                if nxt:
                    add_row([(j, 1.0), *nxt], -np.inf, 1.0)
        # fairness: weekend and night shifts per agent <= the max variables
        wk = [(j, 1.0) for j, d, _ in mine if d % 7 in rules.weekend_days]
        if wk:
            add_row([*wk, (wk_max, -1.0)], -np.inf, 0.0)
        nt = [(j, 1.0) for j, _, name in mine if _is_night(by_name[name], periods, rules)]
        if nt:
            add_row([*nt, (nt_max, -1.0)], -np.inf, 0.0)

    c = np.zeros(n_vars)
    for (ai, d, name), j in var.items():
        ag = agents[ai]
        score = ag.preferences.get(name, 0.0) - (1.0 if d % 7 in ag.preferred_days_off else 0.0)
        c[j] = -w_pref * score
    c[unf0:regime0] = w_unfilled
    c[short0:wk_max] = 1e6 if rules.require_contract_hours and "hours" not in relax else w_short
    c[wk_max] = w_weekend
    c[nt_max] = w_night
    integrality = np.ones(n_vars, dtype=np.int64)
    integrality[short0:] = 0
    ub = np.full(n_vars, np.inf)
    ub[:n_y] = 1.0
    ub[regime0:short0] = 1.0
    a_mat = sparse.csr_array((vals, (rows, cols)), shape=(len(lo), n_vars))
    res = optimize.milp(
        c,
        constraints=optimize.LinearConstraint(a_mat, np.array(lo), np.array(hi)),
        integrality=integrality,
        bounds=optimize.Bounds(np.zeros(n_vars), ub),
        options={"time_limit": time_limit_s},
    )
    if res.x is None:
        raise InfeasibleScheduleError("roster", f"HiGHS found no roster: {res.message}")
    x = np.round(res.x).astype(np.int64)
    assignments = [
        Assignment(agent=agents[ai].name, day=d, template=name)
        for (ai, d, name), j in sorted(var.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0]))
        if x[j] == 1
    ]
    unfilled = {keys[k]: int(x[unf0 + k]) for k in range(len(keys)) if x[unf0 + k] > 0}
    hours_by: dict[str, float] = {a.name: 0.0 for a in agents}
    wk_by: dict[str, int] = {a.name: 0 for a in agents}
    nt_by: dict[str, int] = {a.name: 0 for a in agents}
    for asg in assignments:
        t = by_name[asg.template]
        hours_by[asg.agent] += t.paid_periods() * hpp
        wk_by[asg.agent] += int(asg.day % 7 in rules.weekend_days)
        nt_by[asg.agent] += int(_is_night(t, periods, rules))
    roster = Roster(
        assignments=assignments,
        unfilled=unfilled,
        hours_by_agent=hours_by,
        weekend_shifts_by_agent=wk_by,
        night_shifts_by_agent=nt_by,
        objective=float(res.fun),
        optimal=res.status == 0,
        status="optimal" if res.status == 0 else str(res.message),
    )
    if unfilled and strict and diagnose:
        total = sum(unfilled.values())
        binding = []
        for family in ("skills", "availability", "leave", "hours", "days", "rest"):
            relaxed = _roster(
                plan,
                templates,
                agents,
                rules,
                skills_needed,
                False,
                weights,
                time_limit_s,
                diagnose=False,
                relax=frozenset({family}),
            )
            if sum(relaxed.unfilled.values()) < total:
                binding.append(family)
        (d, name), count = next(iter(unfilled.items()))
        raise InfeasibleScheduleError(
            ", ".join(binding) if binding else "headcount",
            f"{total} shift(s) cannot be staffed, e.g. {count} x {name} on "
            f"{DAY_NAMES[d % 7]}; "
            + (
                "relaxing " + " or ".join(binding) + " would help"
                if binding
                else "there are not enough agents"
            ),
        )
    return roster


def with_leave(agent: Agent, *days: int) -> Agent:
    """A copy of ``agent`` with approved leave on ``days``."""
    return replace(agent, leave_days=agent.leave_days | frozenset(days))
