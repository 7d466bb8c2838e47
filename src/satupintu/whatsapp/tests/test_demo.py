"""The demo step runs through the real webhook and CTI paths and leaves something to see."""

from __future__ import annotations

import pytest

from satupintu.cases.models import Case, CaseEvent
from satupintu.demo.whatsapp_calls import SANDBOX_BASE, build_whatsapp_calls
from satupintu.inbox.models import InboundMessage, OutboundMessage
from satupintu.telephony.models import Call
from satupintu.whatsapp.models import WhatsAppAccount

pytestmark = pytest.mark.django_db


def test_demo_builds_accounts_conversations_and_calls(org):
    build_whatsapp_calls(2026)
    assert set(WhatsAppAccount.objects.values_list("api_base", flat=True)) == {SANDBOX_BASE}
    assert InboundMessage.objects.filter(channel="whatsapp", status="processed").count() == 5
    assert Case.objects.filter(channel="whatsapp").count() == 3
    assert OutboundMessage.objects.filter(channel="whatsapp").count() == 1
    calls = list(Call.objects.order_by("call_id"))
    assert [c.state for c in calls] == ["done", "done"]
    assert [(c.talk_seconds, c.hold_seconds, c.acw_seconds) for c in calls] == [
        (245, 40, 60), (130, 0, 35)]
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.CALL).count() == 4
