"""Periodic routing housekeeping, a safety net beside the routing worker (`satupintu route`)
and the passes that run after each commit: expire offers, sweep lost presence, route."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from satupintu.routing import ui_tasks  # noqa: F401  (the delayed log-out task)
from satupintu.routing.services import assign, presence, work


@db_periodic_task(crontab(minute="*"))
def expire_offers() -> int:
    return work.expire()


@db_periodic_task(crontab(minute="*"))
def sweep_presence() -> int:
    return presence.sweep_lost()


@db_periodic_task(crontab(minute="*"))
def overflow_pass() -> int:
    from satupintu.routing.services.overflow import overflow_due

    return overflow_due()


@db_periodic_task(crontab(minute="*"))
def route_pass() -> int:
    return len(assign.route(limit=500))
