"""Housekeeping of the public pages."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from satupintu.portal import services


@db_periodic_task(crontab(minute="17"))
def purge_status_codes() -> int:
    return services.purge_codes()
