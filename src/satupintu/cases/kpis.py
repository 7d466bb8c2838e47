"""Case KPIs read from the case timeline; the definitions live in ``satupintu.engine.kpi``.

Reads only. First-contact resolution needs the case link that no ACD has: a case resolved in
the period counts when the customer contacted us exactly once before its first resolution and
came back on the same contact reason neither on that case nor on another one, on any channel,
within the client's FCR window.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from satupintu.cases.models import Case, CaseEvent, Status
from satupintu.engine.kpi import FcrCase, FcrResult, fcr

if TYPE_CHECKING:
    from satupintu.accounts.models import Client

DEFAULT_FCR_WINDOW_DAYS = 7
CONTACT_KINDS = (CaseEvent.Kind.INBOUND, CaseEvent.Kind.CALL)
# A case opened by an agent with no logged inbound message or call at its opening (a walk-in,
# a call typed up afterwards) still began with a customer contact: the opening counts as one
# unless a contact event within this long of it records it.
OPENING_SLACK = timedelta(minutes=1)


def fcr_records(client: Client, start: datetime, end: datetime,
                window: timedelta) -> list[FcrCase]:
    """The engine's FCR records: every case of ``client`` first resolved in ``[start, end)``
    and every case of the same customers that could be a repeat (opened before
    ``end + window``)."""
    resolutions = (CaseEvent.objects
                   .filter(case__client=client, kind=CaseEvent.Kind.STATUS,
                           data__to=Status.RESOLVED, created_at__lt=end)
                   .values_list("case_id", "created_at"))
    first_resolved: dict[int, datetime] = {}
    for case_id, at in resolutions:
        if case_id not in first_resolved or at < first_resolved[case_id]:
            first_resolved[case_id] = at
    in_period = {pk for pk, at in first_resolved.items() if start <= at < end}
    if not in_period:
        return []
    customers = set(Case.objects.filter(pk__in=in_period).values_list("customer_id", flat=True))
    cases = list(Case.objects.filter(client=client, customer_id__in=customers,
                                     created_at__lt=end + window)
                 .values_list("pk", "customer_id", "reason_id", "created_at"))
    contacts: dict[int, list[datetime]] = defaultdict(list)
    for case_id, at in (CaseEvent.objects
                        .filter(case_id__in=[c[0] for c in cases], kind__in=CONTACT_KINDS)
                        .values_list("case_id", "created_at")):
        contacts[case_id].append(at)
    records = []
    for pk, customer_id, reason_id, created_at in cases:
        times = sorted(contacts[pk])
        if not times or times[0] > created_at + OPENING_SLACK:
            times.insert(0, created_at)
        records.append(FcrCase(case_id=pk, customer_id=customer_id, reason=reason_id,
                               resolved_at=first_resolved.get(pk) if pk in in_period else None,
                               contacts=tuple(times)))
    return records


def fcr_rate(client: Client, start: datetime, end: datetime, *,
             window_days: int = DEFAULT_FCR_WINDOW_DAYS) -> FcrResult:
    """First-contact resolution of ``client``'s cases first resolved in ``[start, end)``.
    ``window_days`` is the client's FCR window: a repeat on the same reason within it, on any
    channel, breaks first-contact resolution. Cases resolved less than the window before now
    may still lose it."""
    window = timedelta(days=window_days)
    return fcr(fcr_records(client, start, end, window), window, start=start, end=end)
