"""The demo's routing: queues per client and channel, bullseye rules, and a floor that moves."""

from __future__ import annotations

import pytest
from django.urls import reverse

from satupintu.accounts.models import Client, User
from satupintu.routing.models import (
    AgentPresence,
    PresenceState,
    Queue,
    RoutingEvent,
    RoutingSettings,
    RuleVersion,
)
from satupintu.routing.services import rules

pytestmark = pytest.mark.django_db


def test_demo_routing_and_floor(client, login):
    from satupintu.demo import STEPS, build, routing

    build()
    if routing.build_floor not in STEPS:  # until the demo's steps run it
        routing.build_floor(2026)
    for c in Client.objects.all():
        channels = set(Queue.objects.filter(client=c, is_default=True)
                       .values_list("channel", flat=True))
        assert channels == {"email", "phone", "whatsapp", "chat", "web"}
        current = RuleVersion.objects.get(client=c, is_current=True)
        assert current.number >= 2 and "experts" in current.text
        assert rules.validate_rules(current.text) == []
        assert RoutingSettings.objects.filter(client=c).exists()
    states = dict.fromkeys(PresenceState.values, 0)
    for state in AgentPresence.objects.values_list("state", flat=True):
        states[state] += 1
    assert states[PresenceState.READY] > 20
    assert states[PresenceState.NOT_READY] > 3
    assert states[PresenceState.ACW] >= 1
    kinds = set(RoutingEvent.objects.values_list("kind", flat=True))
    assert {"enqueued", "offered", "accepted", "wrap_up"} <= kinds
    # The demo supervisor sees the rules history and the floor.
    supervisor = User.objects.get(username="supervisor")
    login(client, supervisor)
    bank = Client.objects.get(code="bank-nusantara")
    page = client.get(reverse("routing:rules_history", args=[bank.pk])).content.decode()
    assert 'data-version="2"' in page
    assert client.get(reverse("routing:team")).status_code == 200
