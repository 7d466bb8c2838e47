"""The CTI event API end to end: lifecycle and durations, duplicates, out-of-order events,
bad input and client scope, the screen pop over a real WebSocket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client as HttpClient

from satupintu.accounts.services import tokens
from satupintu.cases.models import Case, CaseEvent
from satupintu.inbox.models import InboundMessage
from satupintu.telephony.models import AgentExtension, Call, CtiNumber

T0 = datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC)
LINE = "+622150001234"
CALLER = "+6281298765432"
_ids = count(1)


@pytest.fixture
def pbx(org: Any) -> dict[str, str]:
    CtiNumber.objects.create(client=org.alpha, number=LINE, queue="Kartu")
    CtiNumber.objects.create(client=org.bravo, number="+622150009999", queue="Telko")
    AgentExtension.objects.create(user=org.alice, extension="201")
    _token, secret = tokens.create(org.root, "pbx bridge")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def ev(kind: str, seconds: int, *, call: str = "call-1", event_id: str | None = None,
       **extra: Any) -> dict[str, Any]:
    body = {"event_id": event_id or f"ev-{next(_ids)}", "call_id": call, "type": kind,
            "at": (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")}
    if kind == "ringing":
        body.update(caller=CALLER, dialled=LINE)
    body.update(extra)
    return body


def send(client: Any, auth: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post("/api/v1/cti/events", body, content_type="application/json", **auth)


LIFECYCLE = [("ringing", 0, {"agent": "201"}), ("answered", 5, {"agent": "alice"}),
             ("held", 65, {}), ("resumed", 95, {}), ("ended", 185, {}),
             ("wrapup_done", 215, {})]


@pytest.mark.django_db
def test_full_call_lifecycle_with_durations(client, org, pbx):
    states = []
    for kind, seconds, extra in LIFECYCLE:
        response = send(client, pbx, ev(kind, seconds, **extra))
        assert response.status_code == 200, response.content
        states.append(response.json()["state"])
    assert states == ["ringing", "answered", "held", "answered", "ended", "done"]
    call = Call.objects.get()
    assert (call.talk_seconds, call.hold_seconds, call.acw_seconds) == (150, 30, 30)
    assert call.agent == org.alice and call.queue == "Kartu"
    assert call.from_number == CALLER and call.to_number == LINE
    case = Case.objects.get()
    assert case.channel == "phone" and case.client == org.alpha and call.case == case
    assert case.customer.identities.get().value == CALLER
    events = list(CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.CALL))
    assert [e.data["phase"] for e in events] == ["ended", "wrapup_done"]
    assert events[-1].data | {} == events[-1].data
    assert (events[-1].data["talk_s"], events[-1].data["hold_s"],
            events[-1].data["acw_s"]) == (150, 30, 30)
    assert events[0].actor == org.alice
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT from_number FROM telephony_call")
        assert CALLER not in cursor.fetchone()[0]


@pytest.mark.django_db
def test_call_attaches_to_the_customers_active_case(client, org, pbx):
    send(client, pbx, ev("ringing", 0, call="a"))
    send(client, pbx, ev("ended", 10, call="a"))
    send(client, pbx, ev("ringing", 100, call="b"))
    assert Case.objects.count() == 1
    missed = CaseEvent.objects.filter(kind=CaseEvent.Kind.CALL).first()
    assert missed.data["answered"] is False and missed.data["talk_s"] == 0


@pytest.mark.django_db
def test_duplicate_event_is_one_change(client, org, pbx):
    send(client, pbx, ev("ringing", 0))
    send(client, pbx, ev("answered", 5))
    ended = ev("ended", 65, event_id="pbx-77")
    first = send(client, pbx, ended)
    again = send(client, pbx, ended)
    assert first.json()["duplicate"] is False and again.json()["duplicate"] is True
    assert again.status_code == 200 and again.json()["talk_s"] == 60
    # The same step again under another event id does not move the times either.
    send(client, pbx, ev("ended", 300))
    call = Call.objects.get()
    assert call.talk_seconds == 60
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.CALL).count() == 1
    assert InboundMessage.objects.filter(channel="phone").count() == 4


@pytest.mark.django_db
def test_out_of_order_events_give_the_same_durations(client, org, pbx):
    order = [LIFECYCLE[0], LIFECYCLE[5], LIFECYCLE[4], LIFECYCLE[3], LIFECYCLE[1],
             LIFECYCLE[2]]
    for kind, seconds, extra in order:
        assert send(client, pbx, ev(kind, seconds, **extra)).status_code == 200
    call = Call.objects.get()
    assert (call.talk_seconds, call.hold_seconds, call.acw_seconds) == (150, 30, 30)
    assert call.state == "done"
    events = CaseEvent.objects.filter(kind=CaseEvent.Kind.CALL)
    assert events.count() == 2
    assert all(e.data["acw_s"] == 30 for e in events)


@pytest.mark.django_db
def test_durations_are_never_negative(client, org, pbx):
    send(client, pbx, ev("ringing", 100))
    send(client, pbx, ev("answered", 100))
    send(client, pbx, ev("held", 50))            # a hold "before" the answer: ignored
    send(client, pbx, ev("ended", 90))           # ended before answered (clock skew)
    send(client, pbx, ev("wrapup_done", 80))     # wrap-up before the end
    call = Call.objects.get()
    assert (call.talk_seconds, call.hold_seconds, call.acw_seconds) == (0, 0, 0)


@pytest.mark.django_db
def test_transfer_moves_the_call_and_is_listed(client, org, pbx):
    from satupintu.accounts.models import User

    carol = User.objects.create_user(username="carol", password="x" * 12, role="agent")
    carol.clients.set([org.alpha])
    send(client, pbx, ev("ringing", 0, agent="alice"))
    send(client, pbx, ev("answered", 2, agent="alice"))
    response = send(client, pbx, ev("transferred", 30, transfer_to="carol", queue="Fraud"))
    assert response.status_code == 200
    call = Call.objects.get()
    assert call.agent == carol
    assert call.transfers == [{"at": (T0 + timedelta(seconds=30)).isoformat(), "from": "alice",
                               "to": "carol", "queue": "Fraud"}]


@pytest.mark.django_db
@pytest.mark.parametrize("body,status,code", [
    ({"event_id": "x", "call_id": "c", "type": "exploded", "at": "2026-11-20T02:00:00Z"},
     422, "invalid_input"),
    ({"event_id": "x", "call_id": "c", "type": "ringing"}, 422, "invalid_input"),
    ({"call_id": "c", "type": "ended", "at": "2026-11-20T02:00:00Z"}, 422, "invalid_input"),
    ({"event_id": "x", "call_id": "c", "type": "ended", "at": "not a time"}, 422,
     "invalid_input"),
    ({"event_id": "x", "call_id": "c", "type": "ended", "at": "2026-11-20T02:00:00Z",
      "colour": "red"}, 422, "unknown_field"),
    ({"event_id": "x", "call_id": "never-rang", "type": "answered",
      "at": "2026-11-20T02:00:00Z"}, 409, "unknown_call"),
    ({"event_id": "x", "call_id": "c", "type": "ringing", "at": "2026-11-20T02:00:00Z",
      "caller": CALLER, "dialled": "+6221777777"}, 422, "unknown_number"),
])
def test_bad_input_is_a_clear_4xx(client, org, pbx, body, status, code):
    response = send(client, pbx, body)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code and response.json()["message"]
    assert Call.objects.count() == 0 and InboundMessage.objects.count() == 0


@pytest.mark.django_db
def test_malformed_json_and_no_token(client, org, pbx):
    response = client.post("/api/v1/cti/events", b"{nope", content_type="application/json",
                           **pbx)
    assert response.status_code == 400 and response.json()["code"] == "malformed_json"
    assert send(client, {}, ev("ringing", 0)).status_code == 401


@pytest.mark.django_db
def test_client_scope_and_role(client, org, pbx):
    _t, bravo_only = tokens.create(org.root, "bravo pbx", client_ids_wanted=[org.bravo.pk])
    response = send(client, {"HTTP_AUTHORIZATION": f"Bearer {bravo_only}"}, ev("ringing", 0))
    assert response.status_code == 404 and Call.objects.count() == 0
    # The bravo token cannot touch an alpha call by its id either.
    send(client, pbx, ev("ringing", 0, call="alpha-call"))
    response = send(client, {"HTTP_AUTHORIZATION": f"Bearer {bravo_only}"},
                    ev("ended", 10, call="alpha-call"))
    assert response.status_code == 409
    assert Call.objects.get().ended_at is None
    _t, agent = tokens.create(org.alice, "mine")
    response = send(client, {"HTTP_AUTHORIZATION": f"Bearer {agent}"}, ev("ringing", 0))
    assert response.status_code == 403
    _t, sam = tokens.create(org.sam, "supervisor's bridge")
    assert send(client, {"HTTP_AUTHORIZATION": f"Bearer {sam}"},
                ev("ringing", 0, call="sam-call")).status_code == 200


@pytest.mark.django_db
def test_agent_of_another_client_gets_no_screen_pop(client, org, pbx):
    send(client, pbx, ev("ringing", 0, agent="bob"))
    call = Call.objects.get()
    assert call.agent is None and call.popped_to == []


@pytest.mark.django_db(transaction=True)
async def test_screen_pop_reaches_the_agent_over_a_real_websocket(org, pbx):
    browser = HttpClient()
    await sync_to_async(browser.force_login)(org.alice)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    socket = WebsocketCommunicator(
        __import__("satupintu.config.asgi", fromlist=["application"]).application,
        "/ws/notifications/", headers=[(b"cookie", cookie.encode()),
                                       (b"origin", b"http://testserver"),
                                       (b"host", b"testserver")])
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "hello"
    response = await sync_to_async(send)(HttpClient(), pbx, ev("ringing", 0, agent="201"))
    assert response.status_code == 200, response.content
    message = await socket.receive_json_from(timeout=5)
    call = await sync_to_async(Call.objects.select_related("case").get)()
    assert message == {"type": "notification", "payload": {
        "kind": "screen_pop", "call": "call-1",
        "customer_url": f"/customers/{call.customer_id}/", "case": call.case.reference,
        "case_url": f"/cases/{call.case.reference}/"}}
    # Answering on the same agent does not pop twice.
    await sync_to_async(send)(HttpClient(), pbx, ev("answered", 3, agent="alice"))
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


@pytest.mark.django_db
def test_workspace_page_has_the_screen_pop_wording(client, org, login):
    login(client, org.alice)
    page = client.get("/cases/mine/")
    assert b"data-msg-screen_pop=" in page.content


@pytest.mark.django_db
def test_calls_page_lists_only_visible_clients(client, org, pbx, login):
    send(client, pbx, ev("ringing", 0, call="alpha-1"))
    send(client, pbx, ev("ringing", 0, call="bravo-1", dialled="+622150009999"))
    login(client, org.alice)
    page = client.get("/calls/")
    assert page.status_code == 200
    alpha_case = Call.objects.get(call_id="alpha-1").case.reference
    bravo_case = Call.objects.get(call_id="bravo-1").case.reference
    assert alpha_case.encode() in page.content and bravo_case.encode() not in page.content
    login(client, org.charlie)
    assert client.get("/calls/").status_code == 403


@pytest.mark.django_db
def test_caller_known_from_whatsapp_is_the_same_customer(client, org, pbx):
    from satupintu.customers.services import find_or_create_contact

    customer = find_or_create_contact(org.alpha, "whatsapp", CALLER, name="Budi")
    send(client, pbx, ev("ringing", 0))
    assert Call.objects.get().customer == customer
