"""Many e-mails processed at once on PostgreSQL: no deadlock, nothing lost or doubled."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from django.db import connection

from satupintu.cases.models import Case, CaseEvent
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage, InboundStatus
from satupintu.mail import services
from satupintu.mail.tests.conftest import make_mail


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only
def test_concurrent_processing_never_deadlocks(addresses: SimpleNamespace) -> None:
    """New customers (their creation is audited first) and known customers (their case's
    reference counter is locked first) at the same time: the processor's lock order keeps
    every message processed on its first attempt."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent writers")
    from django.db import connections

    known = [f"lama{i}@p.example" for i in range(6)]
    for i, sender in enumerate(known):  # customers who exist already
        services.receive_and_process(make_mail(sender=sender, message_id=f"<old{i}@p.example>"),
                                     recipients=["halo@alpha.example"], mail_from=sender,
                                     source="smtp")
    raws = [make_mail(sender=f"baru{i}@p.example", message_id=f"<new{i}@p.example>",
                      subject=f"Baru {i}") for i in range(12)]
    raws += [make_mail(sender=known[i % 6], message_id=f"<again{i}@p.example>",
                       subject=f"Lagi {i}") for i in range(12)]
    raws += [make_mail(sender=known[i % 6], message_id=f"<reply{i}@p.example>",
                       headers={"In-Reply-To": f"<old{i % 6}@p.example>"}) for i in range(12)]
    rows = [services.receive(raw, recipients=["halo@alpha.example"], mail_from="x@p.example",
                             source="smtp")[0] for raw in raws]
    errors: list[BaseException] = []
    workers = 6
    barrier = threading.Barrier(workers)

    def work(chunk: list[InboundMessage]) -> None:
        try:
            barrier.wait()
            for row in chunk:
                inbox.process(row)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(rows[k::workers],)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    done = InboundMessage.objects.filter(pk__in=[r.pk for r in rows])
    assert done.filter(status=InboundStatus.PROCESSED, attempts=0).count() == len(rows), list(
        done.exclude(status=InboundStatus.PROCESSED).values_list("last_error", flat=True))
    assert Case.objects.count() == 6 + 24
    assert CaseEvent.objects.filter(kind="inbound").count() == 6 + 36
    refs = list(Case.objects.values_list("reference", flat=True))
    assert len(set(refs)) == len(refs)


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only
def test_a_new_customer_writing_several_times_at_once_is_one_customer(
        addresses: SimpleNamespace) -> None:
    """Messages of one brand-new sender processed at the same time: the first to commit
    creates the customer, the others find it; none is quarantined, nothing is doubled."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent writers")
    from django.db import connections

    from satupintu.customers.models import Customer, CustomerIdentity

    raws = [make_mail(sender="serentak@p.example", message_id=f"<same{i}@p.example>",
                      subject=f"Serentak {i}") for i in range(8)]
    rows = [services.receive(raw, recipients=["halo@alpha.example"], mail_from="x@p.example",
                             source="smtp")[0] for raw in raws]
    customers_before = Customer.objects.count()
    identities_before = CustomerIdentity.objects.filter(kind="email").count()
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(rows))

    def work(row: InboundMessage) -> None:
        try:
            barrier.wait()
            inbox.process(row)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(row,)) for row in rows]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    done = InboundMessage.objects.filter(pk__in=[r.pk for r in rows])
    assert done.filter(status=InboundStatus.PROCESSED).count() == len(rows), list(
        done.exclude(status=InboundStatus.PROCESSED).values_list("reason", "last_error"))
    assert CustomerIdentity.objects.filter(kind="email").count() == identities_before + 1
    assert Customer.objects.count() == customers_before + 1
    cases = Case.objects.filter(pk__in=done.values("case_id"))
    assert len({c.customer_id for c in cases}) == 1
    assert CaseEvent.objects.filter(kind="inbound", case__in=cases).count() == len(rows)
