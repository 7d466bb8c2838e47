"""``satupintu roster AGENTS.csv SHIFTS.csv``: assign named agents to chosen shifts.

``AGENTS.csv`` has one agent a row: ``name`` and optionally ``skills`` (``billing;tech``),
``contract_hours`` (40), ``available_days`` (``Mon-Fri``; default every day),
``available_hours`` (per-interval availability, ``Mon-Fri 08:00-17:00; Sat 08:00-12:00``;
days not named keep the whole day), ``leave`` (``2026-11-24;Wed``: dates need
``--week-start``), ``preferences`` (``early:2;night:-1``) and ``preferred_days_off``
(``Sat;Sun``).

``SHIFTS.csv`` has the shifts to staff (e.g. from ``satupintu schedule``): ``day``
(Mon..Sun, 0..6 or a date within the week of ``--week-start``), ``shift`` (name),
``start`` (HH:MM), ``length_minutes``, and optionally ``count`` (1), ``break_minutes``
(unpaid, 0) and ``skills`` needed (``billing;tech``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

import numpy as np
from django.utils.translation import gettext as _

from satupintu.commands.erlang import fail
from satupintu.commands.schedule import InputError, _day, _days, _minutes, _number, _rows
from satupintu.engine.schedule import DAY_NAMES, BreakRule, ShiftCount, ShiftPlan, ShiftTemplate
from satupintu.engine.schedule_roster import Agent, LabourRules, build_roster
from satupintu.engine.wfm_errors import InfeasibleScheduleError, WfmError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "roster",
        help=_("Assign named agents to a week of shifts"),
        description=_(
            "Rostering with HiGHS: availability, leave, skills, contract hours, Indonesian "
            "working-time rules, rest between shifts, fair weekends and nights, preferences."
        ),
    )
    p.add_argument("agents", help=_("CSV of agents"))
    p.add_argument("shifts", help=_("CSV of shifts to staff: day, shift, start, length_minutes"))
    p.add_argument("--week-start", help=_("Monday of the week (YYYY-MM-DD), for dates"))
    p.add_argument("--interval", type=int, default=30, help=_("interval length in minutes (30)"))
    p.add_argument("--weekly-hours", type=float, default=40.0, help=_("regular hours a week (40)"))
    p.add_argument(
        "--max-overtime", type=float, default=18.0, help=_("overtime hours a week at most (18)")
    )
    p.add_argument(
        "--six-day-hours", type=float, default=7.0, help=_("daily hours at most on 6 days (7)")
    )
    p.add_argument(
        "--five-day-hours", type=float, default=8.0, help=_("daily hours at most on 5 days (8)")
    )
    p.add_argument(
        "--min-rest-hours", type=float, default=11.0, help=_("rest between shifts (11 h)")
    )
    p.add_argument("--weekend-days", default="Sat,Sun", help=_("days counted as weekend (Sat,Sun)"))
    p.add_argument(
        "--require-contract-hours",
        action="store_true",
        help=_("every agent must get at least the contract hours"),
    )
    p.add_argument(
        "--allow-unfilled",
        action="store_true",
        help=_("report shifts nobody can take instead of failing"),
    )
    p.add_argument("--time-limit", type=float, default=30.0, help=_("solver time limit (s)"))
    p.add_argument("--json", action="store_true", help=_("print one JSON object"))
    p.set_defaults(func=run)


def _week_day(text: str, line: int, week_start: dt.date | None) -> int:
    """A weekday name/number, or a date inside the week that starts on ``week_start``."""
    t = text.strip()
    if len(t) == 10 and t[4] == "-":
        try:
            date = dt.date.fromisoformat(t)
        except ValueError as exc:
            raise InputError(
                _("line %(line)s: %(value)s is not a date (YYYY-MM-DD)")
                % {"line": line, "value": t}
            ) from exc
        if week_start is None:
            raise InputError(
                _("line %(line)s: the date %(value)s needs --week-start")
                % {"line": line, "value": t}
            )
        offset = (date - week_start).days
        if not 0 <= offset <= 6:
            raise InputError(
                _("line %(line)s: %(value)s is outside the week starting %(start)s")
                % {"line": line, "value": t, "start": week_start.isoformat()}
            )
        return offset
    return _day(t, line)


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("|", ";").split(";") if p.strip()]


def _windows(text: str, line: int, interval: int) -> dict[int, tuple[tuple[int, int], ...]]:
    """``Mon-Fri 08:00-17:00; Sat 08:00-12:00`` -> weekday -> (first, end) periods."""
    out: dict[int, list[tuple[int, int]]] = {}
    for part in _split(text):
        try:
            days_text, hours = part.rsplit(" ", 1)
            a_text, b_text = hours.split("-")
        except ValueError as exc:
            raise InputError(
                _(
                    "line %(line)s: available_hours must look like "
                    "'Mon-Fri 08:00-17:00', got %(value)s"
                )
                % {"line": line, "value": part}
            ) from exc
        a = _minutes(a_text, "available_hours", line)
        b = _minutes(b_text, "available_hours", line) if b_text.strip() != "24:00" else 24 * 60
        if b <= a:  # until the next morning
            b += 24 * 60
        for d in _days(days_text, line):
            out.setdefault(d, []).append((a // interval, -(-b // interval)))
    return {d: tuple(w) for d, w in out.items()}


def read_agents(
    path: str, interval: int, week_start: dt.date | None, templates: set[str]
) -> list[Agent]:
    rows = _rows(path)
    if not rows:
        raise InputError(_("%(path)s has no rows") % {"path": path})
    agents = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        name = row.get("name", "")
        if not name:
            raise InputError(_("line %(line)s: column name is missing") % {"line": line})
        if name in seen:
            raise InputError(
                _("line %(line)s: agent %(name)s appears twice") % {"line": line, "name": name}
            )
        seen.add(name)
        prefs: dict[str, float] = {}
        for item in _split(row.get("preferences", "")):
            key, _sep, score = item.partition(":")
            key = key.strip()
            if key not in templates:
                raise InputError(
                    _("line %(line)s: preference for unknown shift %(value)s")
                    % {"line": line, "value": key}
                )
            try:
                prefs[key] = float(score) if score.strip() else 1.0
            except ValueError as exc:
                raise InputError(
                    _("line %(line)s: preference score is not a number: %(value)s")
                    % {"line": line, "value": item}
                ) from exc
        avail = row.get("available_days", "")
        agents.append(
            Agent(
                name=name,
                skills=frozenset(_split(row.get("skills", ""))),
                contract_hours=_number(row, "contract_hours", line, 40.0),
                available_days=frozenset(_days(avail.replace(";", ","), line)),
                leave_days=frozenset(
                    _week_day(x, line, week_start) for x in _split(row.get("leave", ""))
                ),
                preferences=prefs,
                preferred_days_off=frozenset(
                    _day(x, line) for x in _split(row.get("preferred_days_off", ""))
                ),
                available_periods=_windows(row.get("available_hours", ""), line, interval),
            )
        )
    return agents


def read_shifts(
    path: str, interval: int, week_start: dt.date | None
) -> tuple[list[ShiftTemplate], list[ShiftCount], dict[str, frozenset[str]]]:
    rows = _rows(path)
    if not rows:
        raise InputError(_("%(path)s has no rows") % {"path": path})
    templates: dict[str, ShiftTemplate] = {}
    skills: dict[str, frozenset[str]] = {}
    counts: dict[tuple[int, str], int] = {}
    for line, row in enumerate(rows, start=2):
        name = row.get("shift", "") or row.get("name", "")
        if not name:
            raise InputError(_("line %(line)s: column shift is missing") % {"line": line})
        day = _week_day(row.get("day", ""), line, week_start)
        start = _minutes(row.get("start", ""), "start", line)
        length = _number(row, "length_minutes", line)
        brk = _number(row, "break_minutes", line, 0.0)
        count = _number(row, "count", line, 1.0)
        if start % interval or length % interval or brk % interval or length <= brk:
            raise InputError(
                _(
                    "line %(line)s: start, length and break must be multiples of "
                    "%(interval)s minutes, the break shorter than the shift"
                )
                % {"line": line, "interval": interval}
            )
        if count != int(count):
            raise InputError(_("line %(line)s: count must be a whole number") % {"line": line})
        n_len = int(length // interval)
        n_brk = int(brk // interval)
        # the break's place does not matter for rostering: only paid hours do
        breaks = (BreakRule(n_brk, 0, 0),) if n_brk else ()
        t = ShiftTemplate(name=name, start=start // interval, length=n_len, breaks=breaks)
        need = frozenset(_split(row.get("skills", "")))
        if name in templates and (templates[name] != t or skills[name] != need):
            raise InputError(
                _("line %(line)s: shift %(name)s is defined twice differently")
                % {"line": line, "name": name}
            )
        templates[name] = t
        skills[name] = need
        counts[(day, name)] = counts.get((day, name), 0) + int(count)
    shifts = [ShiftCount(day=d, template=n, count=c) for (d, n), c in sorted(counts.items()) if c]
    return list(templates.values()), shifts, skills


def run(args: argparse.Namespace) -> int:
    if args.interval <= 0 or (24 * 60) % args.interval:
        return fail(
            _("--interval must divide a day (15, 30, 60), got %(value)s") % {"value": args.interval}
        )
    week_start = None
    if args.week_start:
        try:
            week_start = dt.date.fromisoformat(args.week_start)
        except ValueError:
            return fail(
                _("--week-start must be a date YYYY-MM-DD, got %(value)s")
                % {"value": args.week_start}
            )
        if week_start.weekday() != 0:
            return fail(
                _("--week-start must be a Monday, %(value)s is a %(day)s")
                % {"value": args.week_start, "day": DAY_NAMES[week_start.weekday()]}
            )
    for option, value in (
        ("--weekly-hours", args.weekly_hours),
        ("--max-overtime", args.max_overtime),
        ("--six-day-hours", args.six_day_hours),
        ("--five-day-hours", args.five_day_hours),
        ("--min-rest-hours", args.min_rest_hours),
    ):
        if not value >= 0:
            return fail(
                _("%(option)s must be zero or more, got %(value)s")
                % {"option": option, "value": value}
            )
    try:
        weekend = _days(args.weekend_days, 0)
        templates, shifts, skills = read_shifts(args.shifts, args.interval, week_start)
        agents = read_agents(args.agents, args.interval, week_start, {t.name for t in templates})
    except InputError as exc:
        return fail(str(exc))
    periods = 24 * 60 // args.interval
    zeros = np.zeros((7, periods))
    plan = ShiftPlan(
        shifts=shifts,
        required=zeros,
        scheduled=zeros,
        objective=0.0,
        optimal=True,
        mip_gap=0.0,
        status="given",
        solve_seconds=0.0,
        periods_per_day=periods,
    )
    rules = LabourRules(
        regular_weekly_hours=args.weekly_hours,
        max_overtime_hours=args.max_overtime,
        six_day_max_daily_hours=args.six_day_hours,
        five_day_max_daily_hours=args.five_day_hours,
        min_rest_hours=args.min_rest_hours,
        weekend_days=weekend,
        require_contract_hours=args.require_contract_hours,
    )
    try:
        roster = build_roster(
            plan,
            templates,
            agents,
            rules=rules,
            skills_needed={k: v for k, v in skills.items() if v},
            strict=not args.allow_unfilled,
            time_limit_s=args.time_limit,
        )
    except InfeasibleScheduleError as exc:
        return fail(
            _("no roster: the binding constraint is %(constraint)s (%(reason)s)")
            % {"constraint": exc.constraint, "reason": exc.reason}
        )
    except WfmError as exc:
        return fail(_("no roster: %(reason)s") % {"reason": str(exc)})
    by_name = {t.name: t for t in templates}
    minutes = args.interval

    def clock(period: int) -> str:
        m = (period * minutes) % (24 * 60)
        return f"{m // 60:02d}:{m % 60:02d}"

    def day_label(d: int) -> str:
        if week_start is None:
            return DAY_NAMES[d]
        return (week_start + dt.timedelta(days=d)).isoformat()

    if args.json:
        data = {
            "status": roster.status,
            "optimal": roster.optimal,
            "objective": roster.objective,
            "assignments": [
                {
                    "agent": a.agent,
                    "day": DAY_NAMES[a.day % 7],
                    "date": day_label(a.day) if week_start else None,
                    "shift": a.template,
                    "start": clock(by_name[a.template].start),
                    "end": clock(by_name[a.template].start + by_name[a.template].length),
                }
                for a in roster.assignments
            ],
            "unfilled": [
                {"day": DAY_NAMES[d % 7], "shift": n, "count": c}
                for (d, n), c in sorted(roster.unfilled.items())
            ],
            "hours_by_agent": roster.hours_by_agent,
            "weekend_shifts_by_agent": roster.weekend_shifts_by_agent,
            "night_shifts_by_agent": roster.night_shifts_by_agent,
        }
        print(json.dumps(data))
        return 0
    print(_("status: %(status)s") % {"status": roster.status})
    grid: dict[tuple[str, int], str] = {(a.agent, a.day): a.template for a in roster.assignments}
    width = max(8, *(len(t.name) + 1 for t in templates))
    name_w = max(10, *(len(a.name) + 1 for a in agents))
    header = f"{_('agent'):<{name_w}}" + "".join(f"{DAY_NAMES[d]:<{width}}" for d in range(7))
    print(header + _("hours"))
    for ag in agents:
        cells = []
        for d in range(7):
            if d in ag.leave_days:
                cells.append(_("leave"))
            else:
                cells.append(grid.get((ag.name, d), "-"))
        line = f"{ag.name:<{name_w}}" + "".join(f"{c:<{width}}" for c in cells)
        print(line + f"{roster.hours_by_agent[ag.name]:g}")
    if roster.unfilled:
        print()
        print(_("shifts nobody can take:"))
        for (d, n), c in sorted(roster.unfilled.items()):
            print(f"  {day_label(d)} {n} x {c}")
    sys.stdout.flush()
    return 0
