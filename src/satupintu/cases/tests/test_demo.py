"""The demo's customers and case history: the promised shape, and data the services accept."""

from __future__ import annotations

import pytest

from satupintu.cases.models import Case, CaseCounter, CaseEvent, Status
from satupintu.customers.models import Customer, CustomerIdentity

pytestmark = pytest.mark.django_db


def test_demo_history_has_the_promised_shape():
    from satupintu.accounts.models import Client
    from satupintu.cases import services
    from satupintu.customers import services as customers
    from satupintu.demo import build

    build()
    for client in Client.objects.all():
        # 200 from the case history; the channel demos add their first-time contacts.
        assert 200 <= Customer.objects.filter(client=client).count() <= 220
        assert Case.objects.filter(client=client).count() > 400
    refs = sorted(Case.objects.values_list("reference", flat=True))
    assert [int(r[-6:]) for r in refs] == list(range(1, len(refs) + 1))
    assert CaseCounter.objects.get().last == len(refs)
    assert Case.objects.filter(status=Status.NEW).exists()
    assert CaseEvent.objects.filter(kind="note").exists()
    identity = CustomerIdentity.objects.filter(kind="phone").select_related("client").first()
    local = "0" + identity.value[3:]  # +62812… → 0812…
    assert customers.find_by_identity(identity.client, "phone", local) == identity.customer
    # The services continue the numbering the demo left.
    case = Case.objects.filter(status=Status.OPEN).select_related("assignee", "client").first()
    new = services.create_case(case.client, case.customer, "Lanjutan", by=case.assignee)
    assert int(new.reference[-6:]) == len(refs) + 1
