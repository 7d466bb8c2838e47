"""The routing JSON API: own presence and offers, supervisors' actions, errors {code, message}."""

from __future__ import annotations

import json

import pytest

from satupintu.routing.models import AgentPresence, PresenceEvent, WorkItem, WorkStatus
from satupintu.routing.services import assign

pytestmark = pytest.mark.django_db


def put(client, url, body):
    return client.put(url, data=json.dumps(body), content_type="application/json")


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def test_agent_presence_offer_accept_complete(client, login, org, inbound):
    login(client, org.alice)
    r = put(client, "/api/v1/routing/presence", {"state": "ready", "connection": "t1"})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "ready" and r.json()["holds_presence"]
    inbound("chat")
    assign.route()
    offers = client.get("/api/v1/routing/offers").json()
    assert [o["status"] for o in offers] == ["offered"]
    item_id = offers[0]["id"]
    assert post(client, f"/api/v1/routing/items/{item_id}/accept").json()["status"] == "assigned"
    r = post(client, f"/api/v1/routing/items/{item_id}/complete", {"wrap_up": True})
    assert r.json()["status"] == "wrap_up"
    assert client.get("/api/v1/routing/presence").json()["state"] == "acw"
    assert post(client, "/api/v1/routing/wrap-up/end").json()["state"] == "ready"
    r = post(client, "/api/v1/routing/presence/heartbeat", {"connection": "t2"})
    assert r.json()["holds_presence"] is False


def test_errors_are_code_and_message(client, login, org, inbound):
    login(client, org.alice)
    r = put(client, "/api/v1/routing/presence", {"state": "dancing"})
    assert r.status_code == 400 and r.json()["code"] == "rejected" and r.json()["message"]
    r = put(client, "/api/v1/routing/presence", {"state": "not_ready"})
    assert r.status_code == 400
    r = put(client, "/api/v1/routing/presence", {"state": "ready", "colour": "red"})
    assert r.status_code == 422 and r.json()["code"] == "unknown_field"
    inbound("chat")
    item = WorkItem.objects.get()
    r = post(client, f"/api/v1/routing/items/{item.pk}/accept")
    assert r.status_code == 400 and "no longer yours" in r.json()["message"]
    assert post(client, "/api/v1/routing/items/999999/accept").status_code == 404


def test_other_clients_items_and_agents_are_404(client, login, org, inbound):
    inbound("chat")
    item = WorkItem.objects.get()
    login(client, org.bob)
    assert post(client, f"/api/v1/routing/items/{item.pk}/accept").status_code == 404
    client.logout()
    login(client, org.sam)
    assert put(client, f"/api/v1/routing/agents/{org.bob.pk}/presence",
               {"state": "ready"}).status_code == 404
    r = put(client, f"/api/v1/routing/agents/{org.alice.pk}/presence",
            {"state": "not_ready", "reason": "meeting"})
    assert r.status_code == 200 and r.json()["reason"] == "meeting"
    assert PresenceEvent.objects.get(user=org.alice).source == "supervisor"


def test_agent_cannot_use_supervisor_endpoints(client, login, org, inbound):
    login(client, org.alice)
    assert put(client, f"/api/v1/routing/agents/{org.alice.pk}/presence",
               {"state": "ready"}).status_code == 403
    inbound("chat")
    item = WorkItem.objects.get()
    assert post(client, f"/api/v1/routing/items/{item.pk}/reassign",
                {"to_user": org.alice.pk}).status_code == 403
    client.logout()
    login(client, org.charlie)   # a client viewer has no presence
    assert client.get("/api/v1/routing/presence").status_code == 403


def test_supervisor_reassigns(client, login, org, inbound):
    from satupintu.routing.services import presence

    presence.set_state(org.alice, "ready")
    inbound("chat")
    [item] = assign.route()
    login(client, org.sam)
    r = post(client, f"/api/v1/routing/items/{item.pk}/reassign", {"to_user": org.sam.pk})
    assert r.status_code == 200 and r.json()["status"] == WorkStatus.ASSIGNED
    assert AgentPresence.objects.get(pk=org.alice.pk).load_chat == 0
