"""Recompute the SLA clocks of active cases, e.g. after a policy or calendar changed."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from satupintu.cases.models import ACTIVE_STATUSES, Case, CaseEvent
from satupintu.sla import services
from satupintu.sla.models import CaseSla


class Command(BaseCommand):
    help = "Recompute the SLA clocks of active cases (after a policy or calendar change)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client", help="only this client's cases (its code)")
        parser.add_argument("--all", action="store_true",
                            help="resolved and closed cases too")

    def handle(self, *args: Any, **options: Any) -> None:
        cases = Case.objects.all()
        if not options["all"]:
            cases = cases.filter(status__in=ACTIVE_STATUSES)
        if options["client"]:
            cases = cases.filter(client__code=options["client"])
        ids = list(cases.values_list("pk", flat=True))
        now = timezone.now()
        done = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            events: dict[int, list[tuple[str, dict[str, object], Any]]] = defaultdict(list)
            for case_id, kind, data, at in (CaseEvent.objects.filter(case_id__in=chunk)
                                            .order_by("created_at", "id")
                                            .values_list("case_id", "kind", "data",
                                                         "created_at")):
                events[case_id].append((kind, data, at))
            converted = {pk: services.to_sla_events(evs) for pk, evs in events.items()}
            old = {r.case_id: r for r in CaseSla.objects.filter(case_id__in=chunk)}
            rows = services.build_rows(Case.objects.filter(pk__in=chunk), converted, now,
                                       mark_seen=False, previous=old)
            with transaction.atomic():
                CaseSla.objects.filter(case_id__in=chunk).delete()
                CaseSla.objects.bulk_create(rows)
            done += len(rows)
        self.stdout.write(f"{done}")
