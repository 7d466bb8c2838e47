"""The wallboard only reads; the one thing it records is who exported a report."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest

from satupintu.accounts.models import Client
from satupintu.audit import services as audit


def record_export(request: HttpRequest, client: Client, day: date) -> None:
    """Exports leave the platform: the audit trail says who took which day's figures."""
    audit.record("wallboard.report_exported", actor=request.user,  # type: ignore[arg-type]
                 obj=client, client=client, request=request, data={"day": day.isoformat()})
