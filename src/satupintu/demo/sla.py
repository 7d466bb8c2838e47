"""Demo SLA set-up: a business calendar and four policies per client, and every demo case's
clocks computed in bulk (one query for the events, one engine calendar per policy)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.utils import timezone

from satupintu.accounts.models import Client
from satupintu.cases.models import Case, CaseEvent, Priority
from satupintu.sla import services
from satupintu.sla.models import BusinessCalendar, CaseSla, Closure, SlaPolicy, weekly_hours

# client code: (calendar name, time zone, weekly hours, public holidays closed)
CALENDARS = {
    "bank-nusantara": ("Bank Nusantara — Sen–Sab 08.00–20.00 WIB", "Asia/Jakarta",
                       weekly_hours("08:00", "20:00", days=6), True),
    "telko-merah-putih": ("Telko Merah Putih — 24×7", "Asia/Jakarta",
                          [[["00:00", "24:00"]]] * 7, False),
    "pasar-kita": ("Pasar Kita — Sen–Jum 08.00–17.00 WITA", "Asia/Makassar",
                   weekly_hours("08:00", "17:00"), True),
}
# priority: (first response, next response, resolution) in business minutes
TARGETS = {
    Priority.URGENT: (15, 30, 4 * 60),
    Priority.HIGH: (30, 60, 8 * 60),
    Priority.NORMAL: (60, 2 * 60, 16 * 60),
    Priority.LOW: (4 * 60, 8 * 60, 40 * 60),
}
_CLOCK_KINDS = (CaseEvent.Kind.STATUS, CaseEvent.Kind.INBOUND, CaseEvent.Kind.OUTBOUND,
                CaseEvent.Kind.CALL)


def build(seed: int) -> None:
    for client in Client.objects.filter(code__in=CALENDARS):
        name, tz, weekly, holidays = CALENDARS[client.code]
        calendar = BusinessCalendar.objects.create(name=name, client=client, timezone=tz,
                                                   weekly_hours=weekly,
                                                   use_public_holidays=holidays)
        if holidays:
            Closure.objects.create(calendar=calendar, date=date(2026, 12, 24),
                                   reason="Cuti bersama Natal")
        SlaPolicy.objects.bulk_create([
            SlaPolicy(client=client, priority=priority, calendar=calendar,
                      name=f"{client.name} — {priority}", first_response_minutes=first,
                      next_response_minutes=following, resolution_minutes=resolution,
                      raise_priority=priority in (Priority.LOW, Priority.NORMAL))
            for priority, (first, following, resolution) in TARGETS.items()])
    events: dict[int, list] = defaultdict(list)
    rows = (CaseEvent.objects.filter(kind__in=_CLOCK_KINDS)
            .order_by("case_id", "created_at", "id")
            .values_list("case_id", "kind", "data", "created_at"))
    for case_id, kind, data, at in rows.iterator(chunk_size=5000):
        events[case_id].append((kind, data, at))
    cases = Case.objects.only("pk", "client_id", "priority", "status", "created_at")
    converted = {pk: services.to_sla_events(evs) for pk, evs in events.items()}
    CaseSla.objects.bulk_create(services.build_rows(cases, converted, timezone.now()),
                                batch_size=1000)
