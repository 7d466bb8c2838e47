from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from satupintu.whatsapp.tests import fake_graph

APP_SECRET = "test-app-secret"
PNID = "1098765432"


@pytest.fixture
def graph() -> Iterator[fake_graph.FakeGraph]:
    fake = fake_graph.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def wa_account(org: Any, graph: fake_graph.FakeGraph) -> Any:
    from satupintu.whatsapp.models import WhatsAppAccount

    return WhatsAppAccount.objects.create(
        client=org.alpha, phone_number_id=PNID, display_number="+62 21 5000 1234",
        app_secret=APP_SECRET, verify_token="verify-me", access_token="test-access-token",
        api_base=graph.base)


def notification(*, messages: list[dict[str, Any]] | None = None,
                 statuses: list[dict[str, Any]] | None = None, pnid: str = PNID,
                 name: str = "Budi Santoso", wa_id: str = "6281234567890") -> bytes:
    value: dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": "622150001234",
                                          "phone_number_id": pnid}}
    if messages is not None:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return json.dumps({"object": "whatsapp_business_account", "entry": [
        {"id": "WABA1", "changes": [{"field": "messages", "value": value}]}]}).encode()


def text(wamid: str, body: str, *, ts: float | None = None,
         sender: str = "6281234567890") -> dict[str, Any]:
    return {"from": sender, "id": wamid, "timestamp": str(int(ts or time.time())),
            "type": "text", "text": {"body": body}}


def post(client: Any, body: bytes, *, secret: str | None = APP_SECRET,
         signature: str | None = None) -> Any:
    from satupintu.whatsapp.services import sign

    headers = {}
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    elif secret is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = sign(secret, body)
    return client.post("/whatsapp/webhook/", data=body, content_type="application/json",
                       **headers)
