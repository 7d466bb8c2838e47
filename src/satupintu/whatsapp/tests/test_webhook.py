"""The Cloud API webhook end to end: handshake, signatures, every message type, statuses,
replays and failures, counted: zero lost, zero duplicated."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from satupintu.audit.models import AuditEntry
from satupintu.cases.models import Attachment, Case, CaseEvent
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage, InboundStatus
from satupintu.whatsapp import services
from satupintu.whatsapp.tests.conftest import APP_SECRET, notification, post, text

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01"
       b"\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _inbound(case: Case) -> list[CaseEvent]:
    return list(case.events.filter(kind=CaseEvent.Kind.INBOUND))


def test_handshake_echoes_the_challenge_only_for_a_known_token(client, wa_account):
    ok = client.get("/whatsapp/webhook/", {"hub.mode": "subscribe",
                                           "hub.verify_token": "verify-me",
                                           "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    bad = client.get("/whatsapp/webhook/", {"hub.mode": "subscribe",
                                            "hub.verify_token": "guess",
                                            "hub.challenge": "1158201444"})
    assert bad.status_code == 403 and b"1158201444" not in bad.content
    assert client.get("/whatsapp/webhook/", {"hub.mode": "unsubscribe",
                                             "hub.verify_token": "verify-me",
                                             "hub.challenge": "x"}).status_code == 403


def test_text_message_opens_a_whatsapp_case_for_the_customer(client, wa_account, org):
    response = post(client, notification(messages=[text("wamid.A1", "Halo, kartu saya hilang")]))
    assert response.status_code == 200, response.content
    case = Case.objects.get()
    assert (case.client, case.channel, case.customer.name) == (org.alpha, "whatsapp",
                                                               "Budi Santoso")
    identity = case.customer.identities.get()
    assert (identity.kind, identity.value) == ("whatsapp", "+6281234567890")
    event = _inbound(case)[0]
    assert event.body == "Halo, kartu saya hilang"
    assert event.data["wamid"] == "wamid.A1" and event.data["wa_phone_number_id"] == "1098765432"
    assert InboundMessage.objects.get().status == InboundStatus.PROCESSED
    # A second message threads onto the same case.
    post(client, notification(messages=[text("wamid.A2", "Tolong diblokir")]))
    assert Case.objects.count() == 1 and len(_inbound(case)) == 2


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", ""])
def test_forged_or_missing_signature_is_401_and_stores_nothing(client, wa_account, signature):
    body = notification(messages=[text("wamid.F1", "forged")])
    if signature is None:
        response = post(client, body, secret="not-the-secret")
    else:
        response = post(client, body, secret=None, signature=signature or None)
    assert response.status_code == 401
    assert response.json()["code"] in {"signature_invalid", "signature_missing"}
    assert InboundMessage.objects.count() == 0 and Case.objects.count() == 0
    assert AuditEntry.objects.filter(action="whatsapp.webhook_rejected").exists()


def test_tampered_body_with_a_once_valid_signature_is_401(client, wa_account):
    body = notification(messages=[text("wamid.T1", "pay 10")])
    signature = services.sign(APP_SECRET, body)
    response = post(client, body.replace(b"pay 10", b"pay 99"), signature=signature)
    assert response.status_code == 401 and Case.objects.count() == 0


def test_unknown_number_and_malformed_json(client, wa_account):
    response = post(client, notification(messages=[text("wamid.U1", "x")], pnid="999"))
    assert response.status_code == 401 and response.json()["code"] == "unknown_account"
    assert post(client, b"{not json", secret=APP_SECRET).status_code == 400
    assert post(client, b'{"entry": "nope"}', secret=APP_SECRET).status_code == 400
    assert post(client, b"\xff\xfe\x00", secret=APP_SECRET).status_code == 400
    assert InboundMessage.objects.count() == 0


def test_oversized_body_is_413(client, wa_account, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    body = notification(messages=[text("wamid.B1", "x" * 5000)])
    assert post(client, body).status_code == 413
    assert InboundMessage.objects.count() == 0


def test_replayed_webhook_is_one_interaction(client, wa_account):
    body = notification(messages=[text("wamid.R1", "sekali saja")])
    for _ in range(3):
        assert post(client, body).status_code == 200
    assert InboundMessage.objects.count() == 1
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.INBOUND).count() == 1


def test_image_is_downloaded_with_the_token_and_attached(client, wa_account, graph):
    graph.media["MEDIA1"] = (PNG, "image/png")
    message = {"from": "6281234567890", "id": "wamid.I1", "timestamp": str(int(time.time())),
               "type": "image", "image": {"id": "MEDIA1", "mime_type": "image/png",
                                          "caption": "Struk transfer"}}
    assert post(client, notification(messages=[message])).status_code == 200
    event = CaseEvent.objects.get(kind=CaseEvent.Kind.INBOUND)
    assert "Struk transfer" in event.body and event.data["wa_type"] == "image"
    attachment = Attachment.objects.get()
    assert attachment.event == event and attachment.content_type == "image/png"
    assert attachment.size == len(PNG)
    gets = [r for r in graph.requests if r.method == "GET"]
    assert [r.path for r in gets] == ["/v21.0/MEDIA1", "/v21.0/bytes/MEDIA1"]
    assert all(r.headers["Authorization"] == "Bearer test-access-token" for r in gets)


def test_document_keeps_its_file_name(client, wa_account, graph):
    graph.media["DOC1"] = (PDF, "application/pdf")
    message = {"from": "6281234567890", "id": "wamid.D1", "timestamp": str(int(time.time())),
               "type": "document", "document": {"id": "DOC1", "filename": "tagihan.pdf",
                                                "mime_type": "application/pdf"}}
    assert post(client, notification(messages=[message])).status_code == 200
    attachment = Attachment.objects.get()
    assert attachment.original_name == "tagihan.pdf"
    assert "tagihan.pdf" in CaseEvent.objects.get(kind=CaseEvent.Kind.INBOUND).body


def test_location_is_text_and_data(client, wa_account):
    message = {"from": "6281234567890", "id": "wamid.L1", "timestamp": str(int(time.time())),
               "type": "location", "location": {"latitude": -6.2, "longitude": 106.816666,
                                                "name": "Monas", "address": "Jakarta Pusat"}}
    assert post(client, notification(messages=[message])).status_code == 200
    event = CaseEvent.objects.get(kind=CaseEvent.Kind.INBOUND)
    assert "Monas" in event.body and "-6.200000" in event.body
    assert event.data["location"] == {"latitude": -6.2, "longitude": 106.816666,
                                      "name": "Monas", "address": "Jakarta Pusat"}


@pytest.mark.parametrize("kind,part", [
    ("sticker", {"id": "S1", "mime_type": "image/webp"}),
    ("audio", {"id": "A1", "voice": True}),
    ("video", {"id": "V1"}),
    ("contacts", None),
    ("reaction", {"message_id": "wamid.X", "emoji": "👍"}),
    ("unsupported", None),
    ("something_new", {"weird": [1, 2]}),
])
def test_other_types_are_kept_with_a_placeholder(client, wa_account, kind, part):
    message: dict[str, Any] = {"from": "6281234567890", "id": f"wamid.O-{kind}",
                               "timestamp": str(int(time.time())), "type": kind}
    if part is not None:
        message[kind] = part
    assert post(client, notification(messages=[message])).status_code == 200
    event = CaseEvent.objects.get(kind=CaseEvent.Kind.INBOUND)
    assert event.body.startswith("[") and event.data["wa_type"] == kind


def test_invalid_sender_number_is_quarantined_not_lost(client, wa_account):
    response = post(client, notification(messages=[text("wamid.Q1", "hi", sender="12")]))
    assert response.status_code == 200
    row = InboundMessage.objects.get()
    assert row.status == InboundStatus.QUARANTINED and Case.objects.count() == 0


def test_processing_exception_is_retried_zero_lost_zero_doubled(client, wa_account,
                                                                 monkeypatch, graph):
    graph.media["MEDIA2"] = (PNG, "image/png")
    graph.fail_next = 1  # the media download fails the first time
    message = {"from": "6281234567890", "id": "wamid.E1", "timestamp": str(int(time.time())),
               "type": "image", "image": {"id": "MEDIA2", "mime_type": "image/png"}}
    body = notification(messages=[message])
    assert post(client, body).status_code == 200  # stored: Meta must not resend
    row = InboundMessage.objects.get()
    assert row.status == InboundStatus.FAILED and Case.objects.count() == 0
    assert post(client, body).status_code == 200  # Meta's retry: still one row
    assert inbox.recover(now=timezone.now() + timedelta(hours=1)) == 1
    row.refresh_from_db()
    assert row.status == InboundStatus.PROCESSED
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.INBOUND).count() == 1
    assert Attachment.objects.count() == 1
    assert inbox.recover(now=timezone.now() + timedelta(hours=2)) == 0


def test_crash_between_store_and_process_is_recovered(client, wa_account, monkeypatch):
    monkeypatch.setattr(inbox, "process", lambda message: message)  # "killed" after storing
    assert post(client, notification(messages=[text("wamid.K1", "halo")])).status_code == 200
    monkeypatch.undo()
    assert InboundMessage.objects.get().status == InboundStatus.RECEIVED
    inbox.recover(now=timezone.now() + timedelta(minutes=5))
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.INBOUND).count() == 1


def test_many_messages_in_one_delivery(client, wa_account):
    messages = [text(f"wamid.M{i}", f"pesan {i}") for i in range(5)]
    assert post(client, notification(messages=messages)).status_code == 200
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.INBOUND).count() == 5
    assert Case.objects.count() == 1


def test_other_client_account_routes_to_that_client(client, wa_account, org, graph):
    from satupintu.whatsapp.models import WhatsAppAccount

    WhatsAppAccount.objects.create(client=org.bravo, phone_number_id="2000", display_number="+1",
                                   app_secret="bravo-secret", verify_token="v2",
                                   access_token="t2", api_base=graph.base)
    body = notification(messages=[text("wamid.BR1", "halo bravo")], pnid="2000")
    assert post(client, body, secret=APP_SECRET).status_code == 401  # alpha's secret
    assert post(client, body, secret="bravo-secret").status_code == 200
    assert Case.objects.get().client == org.bravo


@pytest.mark.parametrize("value", [
    {"messages": 5}, {"messages": {"a": 1}}, {"messages": [None, 3, {"no": "id"}]},
    {"statuses": "delivered"}, {"contacts": 7, "messages": [{"id": "wamid.W1", "from": None,
                                                            "type": None, "timestamp": "x"}]},
    {"messages": [{"id": "wamid.W2", "from": "6281234567890", "type": "text",
                   "text": {"body": ["not", "a", "string"]}, "timestamp": "1e99"}]},
    {"messages": [{"id": "wamid.W3", "from": "6281234567890", "type": "location",
                   "location": {"latitude": "north"}}]},
])
def test_strange_payloads_never_500(client, wa_account, value):
    import json

    body = json.dumps({"entry": [{"changes": [{"value": {
        "metadata": {"phone_number_id": "1098765432"}, **value}}]}]}).encode()
    response = post(client, body)
    assert response.status_code == 200
    for row in InboundMessage.objects.all():
        assert row.status in {InboundStatus.PROCESSED, InboundStatus.QUARANTINED}
