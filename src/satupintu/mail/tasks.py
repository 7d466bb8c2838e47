"""Periodic e-mail work: poll the IMAP mailboxes, forget old loop fingerprints."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from satupintu.mail import imap, services


@db_periodic_task(crontab(minute="*"))
def poll_mailboxes() -> dict[int, int | str]:
    return imap.poll_all()


@db_periodic_task(crontab(minute="17"))
def forget_fingerprints() -> int:
    return services.forget_fingerprints()
