"""The SLA breach job, run every minute by the task queue (embedded in `serve`, or `worker`)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from satupintu.sla import services


@db_periodic_task(crontab(minute="*"))
def check_sla_clocks() -> int:
    return services.run_checks()
