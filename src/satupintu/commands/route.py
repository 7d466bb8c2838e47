"""``satupintu route``: the routing worker (expire offers, sweep lost presence, match)."""

from __future__ import annotations

import argparse
import logging
import signal
import time
from typing import Any

from django.utils.translation import gettext as _

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("route", help=_("Run the routing worker"))
    p.add_argument("--once", action="store_true", help=_("Run one pass and stop"))
    p.add_argument("--interval", type=float, default=0.5,
                   help=_("Seconds between passes (default 0.5)"))
    p.add_argument("--limit", type=int, default=200,
                   help=_("Most waiting contacts looked at per pass"))
    p.add_argument("--batch-wait", type=float, default=0.02,
                   help=_("Seconds to let work gather after a pass that found some "
                          "(default 0.02)"))
    p.set_defaults(func=run_route)


def one_pass(limit: int, *, sweep: bool = True, overflow: bool = True) -> int:
    from satupintu.routing.services import assign, presence, work
    from satupintu.routing.services.overflow import overflow_due

    n = work.expire()
    if sweep:
        n += presence.sweep_lost()
    if overflow:
        n += overflow_due()
    return n + len(assign.route(limit=limit))


def run_route(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.db import close_old_connections, connection

    if args.once:
        print(_("%(n)d routing steps done.") % {"n": one_pass(args.limit)})
        return 0
    stop = False

    def _stop(*_args: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # the loop routes every client right after each step: no extra after-commit passes
    settings.ROUTING_INLINE = False
    last_sweep = last_overflow = 0.0
    while not stop:
        sweep = time.monotonic() - last_sweep >= 5.0
        # overflow times are whole seconds or more: looking once a second is on time
        overflow = time.monotonic() - last_overflow >= 1.0
        try:
            n = one_pass(args.limit, sweep=sweep, overflow=overflow)
            if sweep:
                last_sweep = time.monotonic()
            if overflow:
                last_overflow = time.monotonic()
        except Exception:  # a lost connection or a fault: log, reconnect, go on
            log.exception("routing pass failed")
            connection.close()
            close_old_connections()
            n = 0
        # A pass costs about the same for one contact as for ten: after a pass that found
        # some work, let the next arrivals gather briefly instead of passing at once; only
        # a pass that reached its limit (a backlog) goes again immediately.
        if not n:
            time.sleep(args.interval)
        elif n < args.limit:
            time.sleep(args.batch_wait)
    return 0
