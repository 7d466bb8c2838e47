"""Periodic account housekeeping, run by the task queue (embedded in `serve`, or `worker`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from satupintu.accounts.services import sessions


@db_periodic_task(crontab(minute="*/5"))
def sweep_sessions() -> int:
    return sessions.sweep_expired()
