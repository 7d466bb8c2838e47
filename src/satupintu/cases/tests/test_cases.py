"""Cases: references, lifecycle, optimistic concurrency, timeline, reopen, canned replies."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone, translation

from satupintu.cases import services
from satupintu.cases.models import (
    CannedResponse,
    Case,
    CaseEvent,
    ClientCaseSettings,
    ClientStatus,
    ContactReason,
    Status,
)
from satupintu.customers import services as customers

pytestmark = pytest.mark.django_db


@pytest.fixture
def dewi(org):
    return customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                     identities=[("phone", "081234567890")])


@pytest.fixture
def case(org, dewi):
    return services.create_case(org.alpha, dewi, "Kartu kredit terblokir", by=org.alice,
                                body="Kartu saya tidak bisa dipakai.")


def test_references_are_consecutive_and_readable(org, dewi):
    year = timezone.localtime().year
    refs = [services.create_case(org.alpha, dewi, f"Case {i}", by=org.alice).reference
            for i in range(3)]
    assert refs == [f"SP-{year}-{n:06d}" for n in (1, 2, 3)]


def test_rolled_back_case_gives_its_number_back(org, dewi):
    first = services.create_case(org.alpha, dewi, "one", by=org.alice).reference
    with pytest.raises(ValidationError):
        services.create_case(org.alpha, dewi, "two", by=org.alice, priority="bogus")
    second = services.create_case(org.alpha, dewi, "three", by=org.alice).reference
    assert int(second[-6:]) == int(first[-6:]) + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="in-memory SQLite test database locks whole tables across threads")
def test_references_unique_and_consecutive_under_concurrency(org, dewi):
    per_thread, threads_n = 10, 6
    refs: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads_n)

    def work() -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                case = services.create_case(org.alpha, dewi, f"c{i}", by=org.alice)
                with lock:
                    refs.append(case.reference)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    numbers = sorted(int(r[-6:]) for r in refs)
    assert numbers == list(range(1, per_thread * threads_n + 1))


def test_allowed_and_refused_transitions(org, case):
    services.change_status(case, "open", by=org.alice)
    services.change_status(case, "pending_customer", by=org.alice)
    services.change_status(case, "resolved", by=org.alice)
    case.refresh_from_db()
    version = case.version
    with translation.override("en"), pytest.raises(ValidationError) as err:
        services.change_status(case, "pending_internal", by=org.alice)
    assert "cannot go from “Resolved” to “Pending internal”" in err.value.messages[0]
    with translation.override("en"), pytest.raises(ValidationError) as err:
        services.change_status(case, "flying", by=org.alice)
    assert "Unknown status" in err.value.messages[0]
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.version == version
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == ["inbound", "status", "status", "status"]


def test_client_status_maps_onto_a_category(org, case):
    ClientStatus.objects.create(client=org.alpha, code="menunggu-cabang",
                                name_id="Menunggu cabang", name_en="Waiting for branch",
                                category=Status.PENDING_INTERNAL)
    services.change_status(case, "menunggu-cabang", by=org.alice)
    case.refresh_from_db()
    assert case.status == Status.PENDING_INTERNAL
    assert case.status_label("en") == "Waiting for branch"
    with pytest.raises(ValidationError):  # another client's status code is unknown here
        ClientStatus.objects.create(client=org.bravo, code="x", name_id="x", name_en="x",
                                    category=Status.OPEN)
        services.change_status(case, "x", by=org.alice)


def test_stale_version_is_refused_with_who_changed_it(org, case):
    stale = case.version
    services.update_case(case, by=org.sam, expected_version=stale, priority="high")
    with translation.override("en"), pytest.raises(ValidationError) as err:
        services.update_case(case, by=org.alice, expected_version=stale, priority="low")
    assert "changed by Sam" in err.value.messages[0] and "reload" in err.value.messages[0]
    case.refresh_from_db()
    assert case.priority == "high"


def test_reply_to_closed_case_is_refused(org, case):
    services.change_status(case, "closed", by=org.alice)
    events = CaseEvent.objects.count()
    with translation.override("en"), pytest.raises(ValidationError) as err:
        services.reply(case, "Halo?", by=org.alice)
    assert "This case is closed" in err.value.messages[0]
    assert CaseEvent.objects.count() == events


def test_reply_opens_a_new_case_and_notes_are_internal(org, case):
    services.reply(case, "Baik, kami cek.", by=org.alice)
    note = services.add_note(case, "Nasabah VIP", by=org.alice)
    case.refresh_from_db()
    assert case.status == Status.OPEN and note.internal
    assert not case.events.get(kind="outbound").internal


def test_timeline_is_append_only(org, case):
    event = case.events.first()
    event.body = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        CaseEvent.objects.filter(case=case).update(body="x")
    with pytest.raises(TypeError):
        CaseEvent.objects.filter(case=case).delete()


def test_customer_reply_reopens_within_window_else_follow_up(org, case):
    ClientCaseSettings.objects.create(client=org.alpha, reopen_window_days=3)
    services.change_status(case, "resolved", by=org.alice)
    case.refresh_from_db()
    reopened = services.receive_customer_message(case, "Masih belum bisa",
                                                 now=case.resolved_at + timedelta(days=2))
    assert reopened.pk == case.pk and reopened.status == Status.OPEN
    services.change_status(case, "resolved", by=org.alice)
    case.refresh_from_db()
    follow = services.receive_customer_message(case, "Lagi", now=case.resolved_at
                                               + timedelta(days=4))
    assert follow.pk != case.pk and follow.status == Status.NEW
    assert follow.links_out.get().to_case == case
    case.refresh_from_db()
    assert case.status == Status.RESOLVED


def test_assignment_reason_and_tags(org, case):
    billing = ContactReason.objects.create(client=org.alpha, name_id="Tagihan",
                                           name_en="Billing")
    double = ContactReason.objects.create(client=org.alpha, parent=billing,
                                          name_id="Tagihan ganda", name_en="Double charge")
    services.update_case(case, by=org.sam, reason=double, assignee=org.alice,
                         team=org.team_a, tags=["vip", "kartu"])
    case.refresh_from_db()
    assert case.reason.path("en") == "Billing › Double charge"
    assert case.assignee == org.alice and sorted(t.name for t in case.tags.all()) == [
        "kartu", "vip"]
    assert case.events.filter(kind="assignment").count() == 1
    with pytest.raises(ValidationError):
        services.update_case(case, by=org.sam, assignee=org.bob)  # bob works for bravo
    other = ContactReason.objects.create(client=org.bravo, name_id="x", name_en="x")
    with pytest.raises(ValidationError):
        services.update_case(case, by=org.sam, reason=other)


def test_link_parent_child(org, dewi, case):
    child = services.create_case(org.alpha, dewi, "Sub", by=org.alice)
    services.link(case, child, kind="parent", by=org.alice)
    assert case.links_out.get().kind == "parent"


def test_canned_response_renders_only_known_placeholders(org, case):
    canned = CannedResponse.objects.create(
        client=org.alpha, title="Salam",
        body_id="Halo {customer_name}, kasus {case_reference} {customer.__class__} {x}",
        body_en="Hello {customer_name}, case {case_reference}.")
    text = services.render_canned(canned, case, "id")
    assert text == (f"Halo Dewi Lestari, kasus {case.reference} {{customer.__class__}} {{x}}")
    assert services.render_canned(canned, case, "en") == (
        f"Hello Dewi Lestari, case {case.reference}.")


def test_case_for_another_clients_customer_is_refused(org, dewi):
    with pytest.raises(ValidationError):
        services.create_case(org.bravo, dewi, "x", by=org.root)
    assert not Case.objects.exists()
