"""``satupintu simulate``: the quick single-queue form, or a scenario file."""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from typing import Any

from django.utils.translation import gettext as _

from satupintu.engine.simulate import (
    METRICS,
    ScenarioError,
    Summary,
    load_scenario,
    quick_simulate,
    replicate,
)

_QUICK = ("calls", "interval", "aht", "agents")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "simulate",
        help=_("Simulate a queue or a whole contact-center scenario"),
        description=_(
            "Without a scenario file: one queue with exponential arrivals, handle times "
            "and patience. With a scenario file: every queue and interval, with the "
            "router making every assignment."
        ),
    )
    p.add_argument("scenario", nargs="?", metavar=_("SCENARIO.yaml"),
                   help=_("a scenario file (YAML or JSON)"))
    p.add_argument("--calls", type=float, help=_("calls per interval"))
    p.add_argument("--interval", type=float, help=_("interval length in seconds"))
    p.add_argument("--aht", type=float, help=_("average handle time in seconds"))
    p.add_argument("--agents", type=int, help=_("agents on duty"))
    p.add_argument("--patience", type=float,
                   help=_("mean patience in seconds (default: nobody abandons)"))
    p.add_argument("--t", type=float, default=20.0,
                   help=_("service-level threshold in seconds (default 20)"))
    p.add_argument("--customers", type=int, default=100_000,
                   help=_("customers to simulate (default 100000)"))
    p.add_argument("--seed", type=int, default=None, help=_("random seed"))
    p.add_argument("--replications", type=int, default=None,
                   help=_("independent replications (95%% confidence intervals)"))
    p.add_argument("--json", action="store_true", help=_("print JSON"))
    p.add_argument("--csv", metavar=_("PATH"), help=_("write the interval table as CSV"))
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(_("simulate: %(reason)s") % {"reason": message}, file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    quick_given = [k for k in _QUICK if getattr(args, k, None) is not None]
    try:
        if args.scenario:
            if quick_given:
                return _fail(_("give either a scenario file or --calls/--interval/--aht/"
                               "--agents, not both"))
            return _run_scenario(args)
        missing = [f"--{k}" for k in _QUICK if getattr(args, k, None) is None]
        if missing:
            return _fail(_("missing %(options)s (or give a scenario file)")
                         % {"options": ", ".join(missing)})
        if args.csv:
            return _fail(_("--csv needs a scenario file"))
        return _run_quick(args)
    except ScenarioError as exc:
        return _fail(str(exc))


def _run_quick(args: argparse.Namespace) -> int:
    if args.replications is not None and args.replications < 1:
        raise ScenarioError(_("--replications must be at least 1"))
    res = quick_simulate(
        calls=args.calls, interval_s=args.interval, aht_s=args.aht, agents=args.agents,
        patience_s=args.patience, t_s=args.t, customers=args.customers,
        seed=1 if args.seed is None else args.seed,
        replications=args.replications or 1,
    )
    if args.json:
        out: dict[str, Any] = {
            "sl": res.sl, "sl_over_offered": res.sl_over_offered, "p_wait": res.p_wait,
            "p_abandon": res.p_abandon, "asa_s": res.asa_s, "customers": res.customers,
            "customers_per_s": res.customers_per_s, "answered": res.answered,
            "abandoned": res.abandoned, "mean_wait_all_s": res.mean_wait_all_s,
        }
        print(json.dumps({k: _clean(v) for k, v in out.items()}))
        return 0
    lines = [
        (_("Customers simulated"), f"{res.customers:,}"),
        (_("Service level (answered within %(t)s s / answered)") % {"t": f"{args.t:g}"},
         _pct(res.sl)),
        (_("Service level over offered"), _pct(res.sl_over_offered)),
        (_("Share who waited"), _pct(res.p_wait)),
        (_("Abandoned"), _pct(res.p_abandon)),
        (_("Average speed of answer"), _("%(s).1f s") % {"s": res.asa_s}),
        (_("Speed"), _("%(n)s customers/s") % {"n": f"{res.customers_per_s:,.0f}"}),
    ]
    width = max(len(a) for a, _b in lines)
    for label, value in lines:
        print(f"{label:<{width}}  {value}")
    return 0


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.2f} %"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


def _clock(sc_start: float, t: float) -> str:
    s = round(sc_start + t)
    day, rem = divmod(s, 86400)
    hhmm = f"{rem // 3600:02d}:{rem % 3600 // 60:02d}"
    return f"{day} {hhmm}" if day else hhmm


def _run_scenario(args: argparse.Namespace) -> int:
    sc = load_scenario(args.scenario)
    if args.replications is not None and args.replications < 1:
        raise ScenarioError(_("--replications must be at least 1"))
    if args.seed is not None:
        sc.seed = args.seed
    summary = replicate(sc, args.replications)
    rows = _rows(summary)
    if args.csv:
        try:
            with open(args.csv, "w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
        except OSError as exc:
            raise ScenarioError(
                _("cannot write %(path)s: %(why)s") % {"path": args.csv, "why": exc.strerror}
            ) from None
    if args.json:
        print(json.dumps({"scenario": sc.name, "replications": len(summary.tables),
                          "intervals": [{k: _clean(v) for k, v in r.items()} for r in rows]}))
        return 0
    print(_("%(name)s: %(n)d replications, seed %(seed)d, service level %(formula)s "
            "within %(t)g s") % {"name": sc.name, "n": len(summary.tables), "seed": sc.seed,
                                 "formula": sc.sl_formula, "t": sc.sl_threshold_s})
    head = [_("interval"), _("queue"), _("offered"), _("answered"), _("abandoned"),
            _("SL"), _("± CI"), _("ASA s"), _("AHT s"), _("occupancy")]
    table = [head]
    for r in rows:
        table.append([
            r["interval"], r["queue"], f"{r['offered']:.1f}", f"{r['answered']:.1f}",
            f"{r['abandoned']:.1f}", _pct(r["sl"]), _pct(r["sl_ci95"]),
            _num(r["asa_s"]), _num(r["aht_s"]), _pct(r["occupancy"]),
        ])
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for row in table:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))
    return 0


def _num(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1f}"


def _rows(summary: Summary) -> list[dict[str, Any]]:
    sc = summary.scenario
    names = [q.name for q in sc.queues] + [_("total")]
    rows: list[dict[str, Any]] = []
    for i in range(sc.n_intervals):
        for q, name in enumerate(names):
            row: dict[str, Any] = {"interval": _clock(sc.start_s, i * sc.interval_s),
                                   "queue": name}
            for m in METRICS:
                row[m] = float(summary.mean[m][i, q])
                row[f"{m}_ci95"] = float(summary.half_width[m][i, q])
            rows.append(row)
    return rows
