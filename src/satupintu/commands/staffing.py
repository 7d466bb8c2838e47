"""``satupintu staffing volumes.csv``: a staffing table for many intervals and queues at once.

The CSV has a header row.  Columns (case-insensitive):

* ``calls`` (required): contacts offered in the interval;
* ``aht_s`` or ``aht`` (required unless ``--aht`` is given): mean handle time in seconds;
* ``patience_s`` (optional): mean patience; present (or ``--patience``) means Erlang A;
* any other column (``interval``, ``start``, ``queue``...) is carried to the output.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from satupintu.commands.erlang import SL_FORMULA_CHOICES, fail
from satupintu.engine.erlang import offered_load
from satupintu.engine.staffing import Targets, metrics, required_agents_for_load, scheduled_staff
from satupintu.engine.wfm_errors import WfmError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "staffing",
        help=_("Staffing table from a CSV of interval volumes"),
        description=_(
            "Required agents per row of a CSV with columns calls and aht_s "
            "(and optionally patience_s for Erlang A)."
        ),
    )
    p.add_argument("csv", help=_("CSV file with a header row, or - for standard input"))
    p.add_argument(
        "--interval", type=float, default=1800.0, help=_("interval length in seconds (1800)")
    )
    p.add_argument("--aht", type=float, help=_("handle time in seconds for rows without aht_s"))
    p.add_argument("--patience", type=float, help=_("mean patience in seconds: use Erlang A"))
    p.add_argument("--t", type=float, default=20.0, help=_("service-level threshold (20 s)"))
    p.add_argument("--sl-target", type=float, help=_("service-level target (0.8 if no target)"))
    p.add_argument("--asa-target", type=float, help=_("highest average speed of answer (s)"))
    p.add_argument("--max-p-wait", type=float, help=_("highest probability of waiting"))
    p.add_argument("--max-occupancy", type=float, help=_("highest occupancy, a fraction"))
    p.add_argument("--max-abandon", type=float, help=_("highest abandonment rate (Erlang A)"))
    p.add_argument("--sl-formula", choices=SL_FORMULA_CHOICES, default="over_offered")
    p.add_argument("--shrinkage", type=float, default=0.0, help=_("shrinkage, a fraction (0)"))
    p.add_argument("--min-agents", type=int, default=0, help=_("least agents in any row (0)"))
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=run)


def _read(path: str) -> list[dict[str, str]]:
    if path == "-":
        text = sys.stdin.read()
    else:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for row in reader:
        rows.append({(k or "").strip().lower(): (v or "").strip() for k, v in row.items()})
    return rows


def _column(
    rows: list[dict[str, str]], names: tuple[str, ...], default: float | None
) -> tuple[np.ndarray[Any, np.dtype[np.float64]] | None, str | None]:
    values = []
    for line, row in enumerate(rows, start=2):
        raw = next((row[n] for n in names if row.get(n, "") != ""), None)
        if raw is None:
            if default is None:
                return None, _("line %(line)s: column %(column)s is missing") % {
                    "line": line,
                    "column": names[0],
                }
            values.append(default)
            continue
        try:
            value = float(raw)
        except ValueError:
            return None, _("line %(line)s: %(column)s is not a number: %(value)s") % {
                "line": line,
                "column": names[0],
                "value": raw,
            }
        if math.isnan(value) or math.isinf(value) or value < 0:
            return None, _("line %(line)s: %(column)s must be a number of zero or more") % {
                "line": line,
                "column": names[0],
            }
        values.append(value)
    return np.array(values, dtype=np.float64), None


def run(args: argparse.Namespace) -> int:
    for option, value in (
        ("--sl-target", args.sl_target),
        ("--max-p-wait", args.max_p_wait),
        ("--max-occupancy", args.max_occupancy),
        ("--max-abandon", args.max_abandon),
    ):
        if value is not None and not (0.0 < value < 1.0):
            return fail(
                _("%(option)s must be between 0 and 1 (exclusive), got %(value)s")
                % {"option": option, "value": value}
            )
    if not (args.interval > 0):
        return fail(
            _("--interval must be greater than zero, got %(value)s") % {"value": args.interval}
        )
    if not (0.0 <= args.shrinkage < 1.0):
        return fail(
            _("--shrinkage must be at least 0 and below 1, got %(value)s")
            % {"value": args.shrinkage}
        )
    try:
        rows = _read(args.csv)
    except OSError as exc:
        return fail(
            _("cannot read %(path)s: %(reason)s") % {"path": args.csv, "reason": exc.strerror}
        )
    except csv.Error as exc:
        return fail(_("cannot read %(path)s: %(reason)s") % {"path": args.csv, "reason": str(exc)})
    if not rows:
        return fail(_("%(path)s has no rows") % {"path": args.csv})
    calls, problem = _column(rows, ("calls",), None)
    if problem or calls is None:
        return fail(problem or "")
    aht, problem = _column(rows, ("aht_s", "aht"), args.aht)
    if problem or aht is None:
        return fail(problem or "")
    if np.any(aht <= 0):
        line = int(np.argmax(aht <= 0)) + 2
        return fail(_("line %(line)s: aht_s must be greater than zero") % {"line": line})
    has_patience = args.patience is not None or any(r.get("patience_s") for r in rows)
    patience = None
    if has_patience:
        patience, problem = _column(rows, ("patience_s",), args.patience)
        if problem or patience is None:
            return fail(problem or "")
        if np.any(patience <= 0):
            line = int(np.argmax(patience <= 0)) + 2
            return fail(_("line %(line)s: patience_s must be greater than zero") % {"line": line})
    sl_target = args.sl_target
    if all(
        v is None
        for v in (sl_target, args.asa_target, args.max_p_wait, args.max_occupancy, args.max_abandon)
    ):
        sl_target = 0.8
    try:
        targets = Targets(
            service_level=sl_target,
            service_time_s=args.t,
            max_asa_s=args.asa_target,
            max_p_wait=args.max_p_wait,
            max_occupancy=args.max_occupancy,
            max_abandon=args.max_abandon,
            sl_formula=args.sl_formula,
        )
        load = offered_load(calls, args.interval, aht)
        agents = required_agents_for_load(
            load, aht, targets, patience, min_agents=max(args.min_agents, 0)
        )
        m = metrics(agents, load, aht, args.t, patience)
        scheduled = scheduled_staff(agents, args.shrinkage)
    except WfmError as exc:
        return fail(_("cannot compute: %(reason)s") % {"reason": str(exc)})
    sl = m.service_level(args.sl_formula) if has_patience else m.sl
    out_rows: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        out: dict[str, Any] = {k: v for k, v in row.items() if k}
        out["load"] = round(float(load[i]), 4)
        out["agents"] = int(agents[i])
        out["scheduled"] = int(scheduled[i])
        out["sl"] = round(float(sl[i]), 4)
        asa = float(m.asa_s[i])
        out["asa_s"] = None if math.isinf(asa) else round(asa, 2)
        out["occupancy"] = round(float(m.occupancy[i]), 4)
        if has_patience:
            out["p_abandon"] = round(float(m.p_abandon[i]), 4)
        out_rows.append(out)
    _write(out_rows, args.format)
    return 0


def _write(rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(rows))
        return
    fields = list(rows[0].keys())
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    total_agents = sum(r["agents"] for r in rows)
    total_sched = sum(r["scheduled"] for r in rows)
    cells = [[("" if r[f] is None else str(r[f])) for f in fields] for r in rows]
    widths = [max(len(f), *(len(c[i]) for c in cells)) for i, f in enumerate(fields)]
    print("  ".join(f.ljust(w) for f, w in zip(fields, widths, strict=True)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))
    print(
        _("total agent-intervals: %(agents)s, scheduled: %(scheduled)s")
        % {"agents": total_agents, "scheduled": total_sched}
    )
