"""Periodic safety nets: process what was stored but not processed, send what is due."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from satupintu.inbox import services


@db_periodic_task(crontab(minute="*"))
def recover_inbound() -> int:
    return services.recover()


@db_periodic_task(crontab(minute="*"))
def send_due_outbound() -> int:
    return services.send_due()


@db_task()
def send_outbound(pk: int) -> None:
    from satupintu.inbox.models import OutboundMessage

    message = OutboundMessage.objects.filter(pk=pk).first()
    if message is not None and services.has_sender(message.channel):
        services.send_one(message)
