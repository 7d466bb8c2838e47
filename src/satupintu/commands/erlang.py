"""``satupintu erlang``: the planner's quick Erlang C / Erlang A calculator."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from django.utils.translation import gettext as _

from satupintu.engine.erlang import SL_FORMULAS, QueueMetrics, offered_load
from satupintu.engine.staffing import (
    Targets,
    metrics,
    required_agents_for_load,
    scheduled_staff,
)
from satupintu.engine.wfm_errors import WfmError

SL_FORMULA_CHOICES = ("over_offered", "over_answered", "excluding_short_abandons")
assert set(SL_FORMULA_CHOICES) == set(SL_FORMULAS)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "erlang",
        help=_("Erlang C / Erlang A staffing calculator"),
        description=_(
            "Required agents or queue performance for one interval. Without --patience "
            "it is Erlang C, with it Erlang A."
        ),
    )
    p.add_argument("--calls", type=float, required=True, help=_("calls offered in the interval"))
    p.add_argument("--interval", type=float, required=True, help=_("interval length in seconds"))
    p.add_argument("--aht", type=float, required=True, help=_("average handle time in seconds"))
    p.add_argument(
        "--t", type=float, default=20.0, help=_("service-level threshold in seconds (20)")
    )
    p.add_argument("--patience", type=float, help=_("mean patience in seconds: use Erlang A"))
    p.add_argument("--agents", type=int, help=_("evaluate this number of agents"))
    p.add_argument(
        "--sl-target", type=float, help=_("service-level target, a fraction such as 0.8")
    )
    p.add_argument("--max-p-wait", type=float, help=_("highest probability of waiting"))
    p.add_argument("--asa-target", type=float, help=_("highest average speed of answer (s)"))
    p.add_argument("--max-occupancy", type=float, help=_("highest occupancy, a fraction"))
    p.add_argument(
        "--max-abandon", type=float, help=_("highest abandonment rate (Erlang A), a fraction")
    )
    p.add_argument(
        "--sl-formula",
        choices=SL_FORMULA_CHOICES,
        help=_("service-level definition for Erlang A (default over_offered)"),
    )
    p.add_argument(
        "--short-abandon",
        type=float,
        default=5.0,
        help=_("short-abandon threshold in seconds (5)"),
    )
    p.add_argument("--shrinkage", type=float, default=0.0, help=_("shrinkage, a fraction (0)"))
    p.add_argument("--json", action="store_true", help=_("print one JSON object"))
    p.set_defaults(func=run)


def fail(message: str) -> int:
    """Print a one-line reason on stderr and return exit code 2."""
    print(message.replace("\n", " "), file=sys.stderr)
    return 2


def _check_fraction(value: float | None, option: str) -> str | None:
    if value is not None and not (0.0 < value < 1.0):
        return _("%(option)s must be between 0 and 1 (exclusive), got %(value)s") % {
            "option": option,
            "value": value,
        }
    return None


def _check_positive(value: float | None, option: str, *, zero_ok: bool = False) -> str | None:
    if value is None:
        return None
    if math.isnan(value) or math.isinf(value) or value < 0 or (value == 0 and not zero_ok):
        if zero_ok:
            return _("%(option)s must be zero or more, got %(value)s") % {
                "option": option,
                "value": value,
            }
        return _("%(option)s must be greater than zero, got %(value)s") % {
            "option": option,
            "value": value,
        }
    return None


def validate(args: argparse.Namespace) -> str | None:
    """The first problem with the arguments, as a translated one-line message, or None."""
    checks = [
        _check_positive(args.calls, "--calls", zero_ok=True),
        _check_positive(args.interval, "--interval"),
        _check_positive(args.aht, "--aht"),
        _check_positive(args.t, "--t", zero_ok=True),
        _check_positive(args.patience, "--patience"),
        _check_positive(args.asa_target, "--asa-target"),
        _check_positive(args.short_abandon, "--short-abandon", zero_ok=True),
        _check_fraction(args.sl_target, "--sl-target"),
        _check_fraction(args.max_p_wait, "--max-p-wait"),
        _check_fraction(args.max_occupancy, "--max-occupancy"),
        _check_fraction(args.max_abandon, "--max-abandon"),
    ]
    for problem in checks:
        if problem:
            return problem
    if not (0.0 <= args.shrinkage < 1.0):
        return _("--shrinkage must be at least 0 and below 1, got %(value)s") % {
            "value": args.shrinkage
        }
    goals = [args.sl_target, args.max_p_wait, args.asa_target, args.max_abandon]
    if args.agents is not None:
        if args.agents < 0:
            return _("--agents must be zero or more, got %(value)s") % {"value": args.agents}
        if any(g is not None for g in goals) or args.max_occupancy is not None:
            return _("give either --agents or targets, not both")
    elif all(g is None for g in goals) and args.max_occupancy is None:
        return _(
            "give --agents, or at least one target: --sl-target, --max-p-wait, "
            "--asa-target, --max-occupancy, --max-abandon"
        )
    if args.patience is None and (args.max_abandon is not None or args.sl_formula is not None):
        return _("--max-abandon and --sl-formula need --patience (Erlang A)")
    return None


def _number(value: float) -> float | None:
    return None if math.isinf(value) or math.isnan(value) else value


def result_dict(m: QueueMetrics, agents: int, scheduled: int, erlang_a: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"agents": agents, "scheduled": scheduled}
    out["p_wait"] = float(m.p_wait)
    if erlang_a:
        out["sl_over_offered"] = float(m.sl_over_offered)
        out["p_abandon"] = float(m.p_abandon)
    else:
        out["sl"] = float(m.sl)
    out["asa_s"] = _number(float(m.asa_s))
    out["mean_wait_s"] = _number(float(m.mean_wait_s))
    out["occupancy"] = float(m.occupancy)
    return out


def run(args: argparse.Namespace) -> int:
    problem = validate(args)
    if problem:
        return fail(problem)
    erlang_a = args.patience is not None
    try:
        load = float(offered_load(args.calls, args.interval, args.aht))
        if args.agents is not None:
            agents = int(args.agents)
        else:
            targets = Targets(
                service_level=args.sl_target,
                service_time_s=args.t,
                max_asa_s=args.asa_target,
                max_p_wait=args.max_p_wait,
                max_occupancy=args.max_occupancy,
                max_abandon=args.max_abandon,
                sl_formula=args.sl_formula or "over_offered",
                short_abandon_s=args.short_abandon,
            )
            agents = int(required_agents_for_load(load, args.aht, targets, args.patience))
        m = metrics(agents, load, args.aht, args.t, args.patience, args.short_abandon)
        scheduled = int(scheduled_staff(agents, args.shrinkage))
    except WfmError as exc:
        return fail(_("cannot compute: %(reason)s") % {"reason": str(exc)})
    data = result_dict(m, agents, scheduled, erlang_a)
    if args.json:
        print(json.dumps(data))
        return 0
    print(format_table(data, load, args, erlang_a))
    return 0


def format_table(data: dict[str, Any], load: float, args: argparse.Namespace, ea: bool) -> str:
    model = _("Erlang A") if ea else _("Erlang C")
    rows: list[tuple[str, str]] = [
        (_("model"), model),
        (_("offered load (Erlangs)"), f"{load:.4f}"),
        (_("agents"), str(data["agents"])),
        (
            _("scheduled staff (shrinkage %(pct)s %%)") % {"pct": f"{args.shrinkage * 100:g}"},
            str(data["scheduled"]),
        ),
        (_("probability of waiting"), f"{data['p_wait']:.4f}"),
    ]
    t = f"{args.t:g}"
    if ea:
        rows.append(
            (
                _("answered within %(t)s s / offered") % {"t": t},
                f"{data['sl_over_offered']:.4f}",
            )
        )
        rows.append((_("probability of abandoning"), f"{data['p_abandon']:.4f}"))
    else:
        rows.append((_("answered within %(t)s s") % {"t": t}, f"{data['sl']:.4f}"))
    asa = data["asa_s"]
    rows.append((_("average speed of answer (s)"), "∞" if asa is None else f"{asa:.2f}"))
    wait = data["mean_wait_s"]
    rows.append((_("mean wait of all calls (s)"), "∞" if wait is None else f"{wait:.2f}"))
    rows.append((_("occupancy"), f"{data['occupancy']:.4f}"))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)
