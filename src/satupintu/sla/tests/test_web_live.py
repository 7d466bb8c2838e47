"""SLA clocks on the case page, the queue and the API; live case notices over WebSockets."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils import timezone

from satupintu.cases import services as cases
from satupintu.config.asgi import application
from satupintu.customers import services as customers
from satupintu.sla.models import BusinessCalendar, CaseSla, SlaPolicy

pytestmark = pytest.mark.django_db


def _always_open_policy(client, **kw):
    cal = BusinessCalendar.objects.create(name="24x7", client=client, timezone="Asia/Jakarta",
                                          weekly_hours=[[["00:00", "24:00"]]] * 7,
                                          use_public_holidays=False)
    values = {"first_response_minutes": 60, "resolution_minutes": 600}
    values.update(kw)
    return SlaPolicy.objects.create(client=client, priority="normal", calendar=cal,
                                    name="24x7 normal", **values)


@pytest.fixture
def world(org):
    _always_open_policy(org.alpha)
    dewi = customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                     identities=[("phone", "081234567890")])
    now = timezone.now()
    late = cases.create_case(org.alpha, dewi, "Lama sekali", by=org.alice, assignee=org.alice,
                             now=now - timedelta(minutes=90))
    soon = cases.create_case(org.alpha, dewi, "Baru saja", by=org.alice, assignee=org.alice,
                             now=now - timedelta(minutes=55))
    fresh = cases.create_case(org.alpha, dewi, "Segar", by=org.alice, assignee=org.alice,
                              now=now - timedelta(minutes=1))
    return late, soon, fresh


def test_case_page_shows_clocks_with_countdown(client, org, login, world):
    late, soon, _fresh = world
    login(client, org.alice)
    page = client.get(f"/cases/{soon.reference}/").content.decode()
    assert "First response" in page and "Resolution" in page
    assert 'data-sla-remaining="' in page and 'data-sla-ticking="1"' in page
    assert "sla-warning" in page  # 55 of 60 minutes gone, warned at 80 %
    assert " WIB</time>" in page  # deadlines in the calendar's own zone
    assert "/ws/notifications/" not in page  # the script holds the URL, not the page
    assert "sla/live.js" in page and 'data-live-case="' + soon.reference in page
    page = client.get(f"/cases/{late.reference}/").content.decode()
    assert "sla-breached" in page
    assert "overdue by %(time)s" in page


def test_case_page_in_indonesian(client, org, login, world):
    org.alice.language = "id"
    org.alice.save()
    login(client, org.alice)
    page = client.get(f"/cases/{world[0].reference}/", HTTP_ACCEPT_LANGUAGE="id").content
    assert b"data-sla-left" in page


def test_queue_sorts_by_next_deadline(client, org, login, world):
    late, soon, fresh = world
    login(client, org.alice)
    page = client.get("/cases/mine/", {"sort": "deadline"}).content.decode()
    assert page.index(late.reference) < page.index(soon.reference) < page.index(fresh.reference)
    newest = client.get("/cases/mine/").content.decode()
    assert newest.index(fresh.reference) < newest.index(late.reference)
    assert "Next deadline" in page
    row = page[page.index(late.reference):page.index(soon.reference)]
    assert 'class="sla-breached"' in row
    row = page[page.index(soon.reference):page.index(fresh.reference)]
    assert 'class="sla-warning"' in row


def test_timeline_fragment_for_htmx(client, org, login, world):
    login(client, org.alice)
    fragment = client.get(f"/cases/{world[0].reference}/", {"fragment": "timeline"})
    body = fragment.content.decode()
    assert body.startswith('<ol class="plain timeline" id="timeline">')
    assert "<html" not in body


def test_api_case_detail_includes_clocks(client, org, login, world):
    late, _soon, fresh = world
    login(client, org.alice)
    data = client.get(f"/api/v1/cases/{late.reference}").json()
    clocks = {c["name"]: c for c in data["sla"]}
    assert clocks["first_response"]["state"] == "breached"
    assert clocks["first_response"]["remaining_s"] < 0
    assert clocks["resolution"]["state"] == "running"
    row = CaseSla.objects.get(case=fresh)
    data = client.get(f"/api/v1/cases/{fresh.reference}").json()
    due = {c["name"]: c for c in data["sla"]}["first_response"]["deadline"]
    assert abs(datetime.fromisoformat(due) - row.first_response_due) < timedelta(seconds=1)


def _headers(client, user) -> list[tuple[bytes, bytes]]:
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return [(b"cookie", cookie.encode()), (b"origin", b"http://testserver"),
            (b"host", b"testserver")]


async def _connect(client, user) -> WebsocketCommunicator:
    headers = await sync_to_async(_headers)(client, user)
    communicator = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["type"] == "hello"
    return communicator


@pytest.mark.django_db(transaction=True)
async def test_customer_message_and_assignment_reach_the_assignee_live(client, org):
    dewi = await sync_to_async(customers.create_customer)(
        org.alpha, "Dewi Lestari", by=org.alice, identities=[("phone", "081234567890")])
    case = await sync_to_async(cases.create_case)(org.alpha, dewi, "Kartu", by=org.sam,
                                                  team=org.team_a)
    alice = await _connect(client, org.alice)
    await sync_to_async(cases.update_case)(case, by=org.sam, assignee=org.alice)
    message = await alice.receive_json_from()
    assert message["payload"]["kind"] == "assigned"
    assert message["payload"]["case"] == case.reference
    await sync_to_async(cases.receive_customer_message)(case, "Halo, ada kabar?")
    message = await alice.receive_json_from()
    assert message == {"type": "notification",
                       "payload": {"kind": "customer_message", "case": case.reference,
                                   "subject": "Kartu"}}
    assert await alice.receive_nothing()
    await alice.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_unassigned_case_message_reaches_the_team(client, org):
    dewi = await sync_to_async(customers.create_customer)(
        org.alpha, "Dewi Lestari", by=org.alice, identities=[("phone", "081234567890")])
    case = await sync_to_async(cases.create_case)(org.alpha, dewi, "Kartu", by=None,
                                                  team=org.team_a)
    alice = await _connect(client, org.alice)  # alice is in team A
    await sync_to_async(cases.receive_customer_message)(case, "Halo?")
    message = await alice.receive_json_from()
    assert message["payload"]["kind"] == "customer_message"
    await alice.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_rolled_back_write_publishes_nothing(client, org):
    from django.db import transaction

    dewi = await sync_to_async(customers.create_customer)(
        org.alpha, "Dewi Lestari", by=org.alice, identities=[("phone", "081234567890")])
    case = await sync_to_async(cases.create_case)(org.alpha, dewi, "Kartu", by=org.alice,
                                                  assignee=org.alice)
    alice = await _connect(client, org.alice)

    def failing() -> None:
        with transaction.atomic():
            cases.receive_customer_message(case, "Halo?")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await sync_to_async(failing)()
    assert await alice.receive_nothing()
    await alice.disconnect()
