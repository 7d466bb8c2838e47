"""``satupintu schedule requirements.csv --templates shifts.csv``: shift selection.

``requirements.csv`` has columns ``day`` (Mon..Sun or 0..6), ``time`` (HH:MM, start of
the interval) and ``required`` (agents).  Missing intervals need nobody.

``shifts.csv`` has one template a row: ``name``, ``start`` (HH:MM), ``length_minutes``,
and optionally ``days`` (e.g. ``Mon-Fri``, ``Sat,Sun``; default every day),
``break_minutes``, ``break_earliest_minutes`` and ``break_latest_minutes`` (offsets of the
break start from the shift start), ``break_paid`` (yes/no), ``family`` and ``cost``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from satupintu.commands.erlang import fail
from satupintu.engine.schedule import (
    DAY_NAMES,
    BreakRule,
    DaysOffRule,
    ShiftTemplate,
    select_shifts,
)
from satupintu.engine.wfm_errors import WfmError


class InputError(Exception):
    """A problem in an input file, already translated."""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "schedule",
        help=_("Choose shifts to cover a week of staffing requirements"),
        description=_(
            "Shift selection with HiGHS: how many of each shift template start each day, "
            "and where their breaks go."
        ),
    )
    p.add_argument("requirements", help=_("CSV with columns day, time, required"))
    p.add_argument("--templates", required=True, help=_("CSV of shift templates"))
    p.add_argument("--interval", type=int, default=30, help=_("interval length in minutes (30)"))
    p.add_argument(
        "--work-days",
        type=int,
        help=_("weekly pattern: this many working days and consecutive days off"),
    )
    p.add_argument("--under-weight", type=float, default=10.0)
    p.add_argument("--over-weight", type=float, default=1.0)
    p.add_argument("--cost-weight", type=float, default=0.01)
    p.add_argument("--time-limit", type=float, default=60.0, help=_("solver time limit (s)"))
    p.add_argument("--json", action="store_true", help=_("print one JSON object"))
    p.set_defaults(func=run)


def _minutes(text: str, what: str, line: int) -> int:
    try:
        hh, mm = text.strip().split(":")
        value = int(hh) * 60 + int(mm)
    except ValueError as exc:
        raise InputError(
            _("line %(line)s: %(what)s must be HH:MM, got %(value)s")
            % {"line": line, "what": what, "value": text}
        ) from exc
    if not 0 <= value < 24 * 60:
        raise InputError(
            _("line %(line)s: %(what)s must be within a day, got %(value)s")
            % {"line": line, "what": what, "value": text}
        )
    return value


def _day(text: str, line: int) -> int:
    t = text.strip()
    if t.isdigit() and 0 <= int(t) <= 6:
        return int(t)
    for i, name in enumerate(DAY_NAMES):
        if t[:3].lower() == name.lower():
            return i
    raise InputError(_("line %(line)s: unknown day %(value)s") % {"line": line, "value": text})


def _days(text: str, line: int) -> tuple[int, ...]:
    if not text.strip():
        return tuple(range(7))
    out: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            a, b = (_day(x, line) for x in part.split("-", 1))
            out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        else:
            out.add(_day(part, line))
    return tuple(sorted(out))


def _number(row: dict[str, str], key: str, line: int, default: float | None = None) -> float:
    raw = row.get(key, "").strip()
    if not raw:
        if default is None:
            raise InputError(
                _("line %(line)s: column %(column)s is missing") % {"line": line, "column": key}
            )
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise InputError(
            _("line %(line)s: %(column)s is not a number: %(value)s")
            % {"line": line, "column": key, "value": raw}
        ) from exc
    if math.isnan(value) or value < 0:
        raise InputError(
            _("line %(line)s: %(column)s must be a number of zero or more")
            % {"line": line, "column": key}
        )
    return value


def _rows(path: str) -> list[dict[str, str]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return [
                {(k or "").strip().lower(): (v or "").strip() for k, v in r.items()}
                for r in csv.DictReader(fh)
            ]
    except OSError as exc:
        raise InputError(
            _("cannot read %(path)s: %(reason)s") % {"path": path, "reason": exc.strerror}
        ) from exc


def read_requirements(path: str, interval: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    periods = 24 * 60 // interval
    req = np.zeros((7, periods))
    rows = _rows(path)
    if not rows:
        raise InputError(_("%(path)s has no rows") % {"path": path})
    for line, row in enumerate(rows, start=2):
        d = _day(row.get("day", ""), line)
        m = _minutes(row.get("time", ""), "time", line)
        if m % interval:
            raise InputError(
                _("line %(line)s: time %(value)s is not on a %(interval)s-minute boundary")
                % {"line": line, "value": row.get("time", ""), "interval": interval}
            )
        req[d, m // interval] = _number(row, "required", line)
    return req


def read_templates(path: str, interval: int) -> list[ShiftTemplate]:
    rows = _rows(path)
    if not rows:
        raise InputError(_("%(path)s has no rows") % {"path": path})
    out = []
    for line, row in enumerate(rows, start=2):
        name = row.get("name", "") or f"shift{line - 1}"
        start = _minutes(row.get("start", ""), "start", line)
        length = _number(row, "length_minutes", line)
        if start % interval or length % interval or length <= 0:
            raise InputError(
                _(
                    "line %(line)s: start and length must be positive multiples of "
                    "%(interval)s minutes"
                )
                % {"line": line, "interval": interval}
            )
        breaks: tuple[BreakRule, ...] = ()
        blen = _number(row, "break_minutes", line, 0.0)
        if blen:
            early = _number(row, "break_earliest_minutes", line)
            late = _number(row, "break_latest_minutes", line, early)
            if blen % interval or early % interval or late % interval:
                raise InputError(
                    _("line %(line)s: break times must be multiples of %(interval)s minutes")
                    % {"line": line, "interval": interval}
                )
            paid = row.get("break_paid", "").lower() in ("1", "yes", "true", "ya")
            breaks = (
                BreakRule(
                    int(blen // interval), int(early // interval), int(late // interval), paid
                ),
            )
        cost_raw = row.get("cost", "")
        out.append(
            ShiftTemplate(
                name=name,
                start=start // interval,
                length=int(length // interval),
                breaks=breaks,
                days=_days(row.get("days", ""), line),
                family=row.get("family", "") or "default",
                cost=_number(row, "cost", line) if cost_raw else None,
            )
        )
    return out


def run(args: argparse.Namespace) -> int:
    if args.interval <= 0 or (24 * 60) % args.interval:
        return fail(
            _("--interval must divide a day (15, 30, 60), got %(value)s") % {"value": args.interval}
        )
    if args.work_days is not None and not 1 <= args.work_days <= 7:
        return fail(_("--work-days must be 1 to 7, got %(value)s") % {"value": args.work_days})
    try:
        req = read_requirements(args.requirements, args.interval)
        templates = read_templates(args.templates, args.interval)
    except InputError as exc:
        return fail(str(exc))
    days_off = None
    if args.work_days is not None:
        days_off = [DaysOffRule(f, args.work_days) for f in sorted({t.family for t in templates})]
    try:
        plan = select_shifts(
            req,
            templates,
            days_off=days_off,
            under_weight=args.under_weight,
            over_weight=args.over_weight,
            cost_weight=args.cost_weight,
            time_limit_s=args.time_limit,
        )
    except WfmError as exc:
        return fail(_("no schedule: %(reason)s") % {"reason": str(exc)})
    minutes = args.interval
    if args.json:
        data = {
            "status": plan.status,
            "optimal": plan.optimal,
            "objective": plan.objective,
            "mip_gap": plan.mip_gap,
            "solve_seconds": round(plan.solve_seconds, 3),
            "headcount": plan.headcount if plan.headcount_by_pattern else None,
            "shifts": [
                {
                    "day": DAY_NAMES[s.day],
                    "template": s.template,
                    "count": s.count,
                    "breaks": [
                        {f"{k * minutes}": v for k, v in sorted(b.items())} for b in s.breaks
                    ],
                }
                for s in plan.shifts
            ],
            "coverage": [
                {
                    "day": DAY_NAMES[d],
                    "time": f"{p * minutes // 60:02d}:{p * minutes % 60:02d}",
                    "required": float(plan.required[d, p]),
                    "scheduled": float(plan.scheduled[d, p]),
                }
                for d in range(7)
                for p in range(plan.required.shape[1])
                if plan.required[d, p] or plan.scheduled[d, p]
            ],
            "under": float(plan.under.sum()),
            "over": float(plan.over.sum()),
        }
        print(json.dumps(data))
        return 0
    print(_("status: %(status)s") % {"status": plan.status})
    print(
        _("objective: %(value).4f  (gap %(gap).4f%%)")
        % {"value": plan.objective, "gap": plan.mip_gap * 100}
    )
    print(
        _("under-staffed agent-intervals: %(under)s; over-staffed: %(over)s")
        % {"under": f"{plan.under.sum():g}", "over": f"{plan.over.sum():g}"}
    )
    if plan.headcount_by_pattern:
        print(_("headcount: %(n)s") % {"n": plan.headcount})
    print()
    print(
        f"{_('day'):<5}{_('shift'):<16}{_('count'):>6}  {_('breaks (minutes after start: shifts)')}"
    )
    for s in plan.shifts:
        brk = "; ".join(
            ", ".join(f"{k * minutes}: {v}" for k, v in sorted(b.items())) for b in s.breaks
        )
        print(f"{DAY_NAMES[s.day]:<5}{s.template:<16}{s.count:>6}  {brk}")
    short = [
        (d, p) for d in range(7) for p in range(plan.required.shape[1]) if plan.under[d, p] > 0
    ]
    if short:
        print()
        print(_("intervals short of staff:"))
        for d, p in short[:20]:
            print(
                f"  {DAY_NAMES[d]} {p * minutes // 60:02d}:{p * minutes % 60:02d}  "
                + _("required %(req)s, scheduled %(sch)s")
                % {"req": f"{plan.required[d, p]:g}", "sch": f"{plan.scheduled[d, p]:g}"}
            )
    sys.stdout.flush()
    return 0
