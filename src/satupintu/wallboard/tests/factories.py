"""A routing day written straight into the event logs with fixed timestamps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from satupintu.accounts.models import Client, User
from satupintu.cases import services as cases
from satupintu.customers import services as customers
from satupintu.routing.models import (
    PresenceEvent,
    Queue,
    RoutingEvent,
    RuleVersion,
    WorkItem,
    WorkStatus,
)

WIB = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 2)
K = RoutingEvent.Kind


def at(hhmmss: str, day: date = DAY) -> datetime:
    h, m, s = (int(x) for x in hhmmss.split(":"))
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=WIB)


@dataclass
class Builder:
    client: Client
    by: User
    rules: RuleVersion | None = None
    customer: Any = None
    queues: dict[str, Queue] = field(default_factory=dict)

    def queue(self, code: str, name: str = "", channel: str = "chat") -> Queue:
        if code not in self.queues:
            self.queues[code] = Queue.objects.create(
                client=self.client, code=code, name_id=name or code.title(),
                name_en=name or code.title(), channel=channel)
        return self.queues[code]

    def item(self, queue: str, steps: list[tuple[str, datetime, User | None]]) -> WorkItem:
        """``steps``: (kind, when, agent); the first is the enqueue."""
        if self.rules is None:
            self.rules = RuleVersion.objects.create(client=self.client, number=1, text="{}",
                                                    is_current=True, created_at=timezone.now())
        if self.customer is None:
            self.customer = customers.create_customer(self.client, "Dewi Lestari", by=self.by)
        q = self.queue(queue)
        case = cases.create_case(self.client, self.customer, "Kartu", by=self.by)
        status, agent = WorkStatus.WAITING, None
        final = {K.ACCEPTED: WorkStatus.ASSIGNED, K.WRAP_UP: WorkStatus.WRAP_UP,
                 K.DONE: WorkStatus.DONE, K.ABANDONED: WorkStatus.ABANDONED,
                 K.CANCELLED: WorkStatus.CANCELLED, K.OFFERED: WorkStatus.OFFERED,
                 K.MISSED: WorkStatus.WAITING}
        stamps: dict[str, datetime] = {}
        for kind, when, who in steps:
            status = final.get(kind, status)
            agent = who or agent
            stamps.setdefault(kind, when)
        if status in (WorkStatus.WAITING, WorkStatus.ABANDONED, WorkStatus.CANCELLED):
            agent = None
        ended = stamps.get(K.DONE) or stamps.get(K.ABANDONED) or stamps.get(K.CANCELLED)
        WorkItem.objects.filter(case=case).exclude(status__in=[
            WorkStatus.DONE, WorkStatus.ABANDONED, WorkStatus.CANCELLED]).update(
            status=WorkStatus.CANCELLED, ended_at=steps[0][1] - timedelta(days=30))
        item = WorkItem.objects.create(
            case=case, queue=q, client=self.client, channel="chat", rules=self.rules,
            status=status, agent=agent, enqueued_at=steps[0][1], place_at=steps[0][1],
            offered_at=stamps.get(K.OFFERED), accepted_at=stamps.get(K.ACCEPTED),
            wrap_up_at=stamps.get(K.WRAP_UP), ended_at=ended)
        for kind, when, who in steps:
            RoutingEvent.objects.create(item=item, queue=q, kind=kind, agent=who, at=when)
        return item


def presence(user: User, *steps: tuple[str, datetime, str]) -> None:
    for state, when, reason in steps:
        PresenceEvent.objects.create(user=user, state=state, reason_code=reason, at=when)


def standard_day(b: Builder, alice: User) -> dict[str, WorkItem]:
    """The day the tests compute by hand (docs in test_kpis)."""
    prev = DAY - timedelta(days=1)
    nxt = DAY + timedelta(days=1)
    items = {
        "c1": b.item("general", [(K.ENQUEUED, at("09:00:00"), None),
                                 (K.OFFERED, at("09:00:05"), alice),
                                 (K.ACCEPTED, at("09:00:10"), alice),
                                 (K.WRAP_UP, at("09:05:10"), alice),
                                 (K.DONE, at("09:06:10"), alice)]),
        "c2": b.item("general", [(K.ENQUEUED, at("09:10:00"), None),
                                 (K.OFFERED, at("09:10:20"), alice),
                                 (K.MISSED, at("09:10:50"), alice),
                                 (K.OFFERED, at("09:10:55"), alice),
                                 (K.ACCEPTED, at("09:11:00"), alice),
                                 (K.WRAP_UP, at("09:13:00"), alice),
                                 (K.DONE, at("09:13:30"), alice)]),
        "c3": b.item("general", [(K.ENQUEUED, at("09:20:00"), None),
                                 (K.ABANDONED, at("09:20:15"), None)]),
        "c4": b.item("general", [(K.ENQUEUED, at("09:40:00"), None),
                                 (K.ABANDONED, at("09:41:00"), None)]),
        "c5": b.item("general", [(K.ENQUEUED, at("10:00:00"), None),
                                 (K.ACCEPTED, at("10:00:05"), alice),
                                 (K.WRAP_UP, at("10:02:05"), alice),
                                 (K.DONE, at("10:03:05"), alice)]),
        "c6": b.item("general", [(K.ENQUEUED, at("23:50:00"), None),
                                 (K.ACCEPTED, at("00:05:00", nxt), alice),
                                 (K.DONE, at("00:09:00", nxt), alice)]),
        "c7": b.item("general", [(K.ENQUEUED, at("23:55:00", prev), None),
                                 (K.ACCEPTED, at("00:00:30"), alice),
                                 (K.DONE, at("00:02:30"), alice)]),
        "c8": b.item("general", [(K.ENQUEUED, at("11:00:00"), None),
                                 (K.CANCELLED, at("11:00:30"), None)]),
    }
    presence(alice, ("ready", at("08:55:00"), ""), ("not_ready", at("12:00:00"), "break"),
             ("ready", at("12:30:00"), ""), ("logged_out", at("17:00:00"), ""))
    return items
