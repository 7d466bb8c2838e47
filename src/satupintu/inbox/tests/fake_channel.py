"""A channel-agnostic test processor: JSON in, one customer message out. Imported by the
tests and by the worker process they kill."""

from __future__ import annotations

import json

from satupintu.cases.models import CaseEvent
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage
from satupintu.inbox.services import Contact, Quarantine


def test_processor(message: InboundMessage) -> CaseEvent:
    data = json.loads(message.raw)
    if message.client is None:
        raise Quarantine("no client for " + data["to"])
    return inbox.deliver(Contact(client=message.client, channel="chat", identity_kind="email",
                                 identity_value=data["from"], body=data["text"],
                                 data={"ext": message.external_id}))


test_processor.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
