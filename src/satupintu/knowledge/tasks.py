"""Periodic knowledge jobs, run by the task queue (embedded in `serve`, or `worker`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from satupintu.knowledge.services import deviations


@db_periodic_task(crontab(minute="*"))
def escalate_deviations() -> int:
    """Live deviation requests nobody answered in time go to the client's managers."""
    return deviations.escalate_overdue()
