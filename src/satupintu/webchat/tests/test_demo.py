"""The demo's chats go the real way and show on the Chats page and the test page."""

from __future__ import annotations

import pytest

from satupintu.cases.models import CaseEvent
from satupintu.inbox.models import InboundMessage, OutboundMessage
from satupintu.webchat.models import ChatMessage, ChatSession

pytestmark = pytest.mark.django_db


def test_demo_chats(client, login):
    from satupintu.accounts.models import User
    from satupintu.demo import organisation
    from satupintu.demo.webchat import build_webchat, start_message

    organisation.build(2026)
    build_webchat(2026)
    sessions = list(ChatSession.objects.order_by("pk"))
    assert len(sessions) == 2 and all(s.status == "ended" for s in sessions)
    bank = sessions[0]
    assert bank.case.status == "resolved" and bank.case.channel == "chat"
    assert list(ChatMessage.objects.filter(session=bank).values_list("seq", flat=True)) == [
        1, 2, 3, 4, 5]
    assert CaseEvent.objects.filter(case=bank.case, kind="inbound").count() == 3
    assert InboundMessage.objects.filter(channel="chat", status="processed").count() == 5
    assert OutboundMessage.objects.filter(kind="transcript").count() == 1
    assert "/chat/demo/" in start_message()
    login(client, User.objects.get(username="agent"))
    page = client.get("/chat/demo/").content.decode()
    assert 'data-client="bank-nusantara"' in page and "/chat/widget.js" in page
