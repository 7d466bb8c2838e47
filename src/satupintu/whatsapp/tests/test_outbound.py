"""Replies out through the Cloud API: the 24-hour window, templates, retries, statuses."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from satupintu.accounts.services import tokens
from satupintu.cases import services as cases
from satupintu.cases.models import Case, CaseEvent
from satupintu.inbox import services as inbox
from satupintu.inbox.models import OutboundMessage, OutboundStatus
from satupintu.whatsapp import services
from satupintu.whatsapp.models import WhatsAppTemplate
from satupintu.whatsapp.tests.conftest import notification, post, text

pytestmark = pytest.mark.django_db


def _case(client, *, hours_ago: float = 0) -> Case:
    ts = time.time() - hours_ago * 3600
    assert post(client, notification(messages=[text("wamid.IN1", "Halo", ts=ts)])).status_code \
        == 200
    return Case.objects.get()


def _template(org, approved: bool = True, name: str = "case_update") -> WhatsAppTemplate:
    return WhatsAppTemplate.objects.create(
        client=org.alpha, name=name, language="id", approved=approved,
        body="Halo {{1}}, kasus {{2}} sudah kami tindak lanjuti.")


def test_reply_in_window_is_sent_as_text_with_the_token(client, wa_account, org, graph):
    case = _case(client, hours_ago=1)
    event = cases.reply(case, "Baik, kartu Anda kami blokir.", by=org.alice)
    out = OutboundMessage.objects.get(event=event)
    assert out.channel == "whatsapp" and out.recipient == "+6281234567890"
    assert out.payload["type"] == "text" and out.payload["text"] == event.body
    inbox.send_due()
    out.refresh_from_db()
    assert out.status == OutboundStatus.SENT and out.external_id == "wamid.OUT1"
    request = graph.posts()[0]
    assert request.path == "/v21.0/1098765432/messages"
    assert request.headers["Authorization"] == "Bearer test-access-token"
    assert request.json() == {"messaging_product": "whatsapp", "recipient_type": "individual",
                              "to": "6281234567890", "type": "text",
                              "text": {"preview_url": False,
                                       "body": "Baik, kartu Anda kami blokir."}}


def test_free_text_outside_the_window_is_refused_with_a_reason(client, wa_account, org, graph):
    case = _case(client, hours_ago=25)
    assert not services.window_open(case)
    with pytest.raises(ValidationError) as exc:
        cases.reply(case, "Halo?", by=org.alice)
    assert "template" in " ".join(exc.value.messages)
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.OUTBOUND).exists()
    assert OutboundMessage.objects.count() == 0


def test_window_boundary_uses_the_message_timestamp(client, wa_account, org):
    case = _case(client, hours_ago=23)
    last = services.last_inbound_at(case)
    assert services.window_open(case, now=last + timedelta(hours=23, minutes=59))
    assert not services.window_open(case, now=last + timedelta(hours=24))


def test_case_page_shows_the_refusal(client, wa_account, org, login, graph):
    case = _case(client, hours_ago=30)
    login(client, org.alice)
    response = client.post(f"/cases/{case.reference}/reply/", {"body": "Halo?"}, follow=True)
    assert response.status_code == 200
    assert b"template" in response.content
    assert OutboundMessage.objects.count() == 0


def test_template_outside_the_window_over_the_api(client, wa_account, org, graph):
    case = _case(client, hours_ago=48)
    template = _template(org)
    _token, secret = tokens.create(org.alice, "t")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    window = client.get(f"/api/v1/whatsapp/cases/{case.reference}/window", **auth).json()
    assert window["open"] is False and window["templates"][0]["params"] == 2
    response = client.post(f"/api/v1/whatsapp/cases/{case.reference}/template",
                           {"template_id": template.pk, "params": ["Budi", case.reference]},
                           content_type="application/json", **auth)
    assert response.status_code == 201, response.content
    assert response.json()["body"] == (f"Halo Budi, kasus {case.reference} sudah kami "
                                       "tindak lanjuti.")
    inbox.send_due()
    body = graph.posts()[0].json()
    assert body["type"] == "template"
    assert body["template"] == {"name": "case_update", "language": {"code": "id"},
                                "components": [{"type": "body", "parameters": [
                                    {"type": "text", "text": "Budi"},
                                    {"type": "text", "text": case.reference}]}]}
    # Wrong parameter count, unapproved template, another client's case: clear 4xx.
    bad = client.post(f"/api/v1/whatsapp/cases/{case.reference}/template",
                      {"template_id": template.pk, "params": ["Budi"]},
                      content_type="application/json", **auth)
    assert bad.status_code == 400 and "parameter" in bad.json()["message"]
    draft = _template(org, approved=False, name="draft")
    bad = client.post(f"/api/v1/whatsapp/cases/{case.reference}/template",
                      {"template_id": draft.pk, "params": ["a", "b"]},
                      content_type="application/json", **auth)
    assert bad.status_code == 400
    _t, bob_secret = tokens.create(org.bob, "t")
    assert client.get(f"/api/v1/whatsapp/cases/{case.reference}/window",
                      HTTP_AUTHORIZATION=f"Bearer {bob_secret}").status_code == 404
    assert client.post(f"/api/v1/whatsapp/cases/{case.reference}/template",
                       {"template_id": template.pk, "params": ["a", "b"], "x": 1},
                       content_type="application/json", **auth).status_code == 422


def test_api_down_is_retried_then_sent_once(client, wa_account, org, graph):
    case = _case(client)
    event = cases.reply(case, "Sebentar ya", by=org.alice)
    graph.fail_next = 2
    inbox.send_due()
    out = OutboundMessage.objects.get(event=event)
    assert out.status == OutboundStatus.FAILED and "503" in out.last_error
    inbox.send_due(now=timezone.now() + timedelta(hours=1))
    out.refresh_from_db()
    assert out.status == OutboundStatus.FAILED and out.attempts == 2
    inbox.send_due(now=timezone.now() + timedelta(hours=2))
    out.refresh_from_db()
    assert out.status == OutboundStatus.SENT and out.attempts == 3
    inbox.send_due(now=timezone.now() + timedelta(hours=3))
    assert graph.sent == 1


def test_statuses_update_delivery_and_timeline(client, wa_account, org, graph):
    case = _case(client)
    event = cases.reply(case, "Sudah kami proses", by=org.alice)
    inbox.send_due()
    out = OutboundMessage.objects.get(event=event)
    now = int(time.time())

    def status(state: str) -> dict:
        return {"id": out.external_id, "status": state, "timestamp": str(now),
                "recipient_id": "6281234567890"}

    for state in ("delivered", "sent", "read", "read"):  # out of order and replayed
        assert post(client, notification(statuses=[status(state)])).status_code == 200
    out.refresh_from_db()
    assert out.delivery == "read"
    updates = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.UPDATE)
    assert sorted(e.data["whatsapp_status"] for e in updates) == ["delivered", "read", "sent"]
    assert Case.objects.count() == 1


def test_status_for_an_unknown_message_is_ignored_or_retried(client, wa_account):
    old = {"id": "wamid.NOT-OURS", "status": "delivered",
           "timestamp": str(int(time.time()) - 3600)}
    assert post(client, notification(statuses=[old])).status_code == 200
    from satupintu.inbox.models import InboundMessage, InboundStatus

    assert InboundMessage.objects.get().status == InboundStatus.IGNORED
    fresh = {"id": "wamid.RACING", "status": "sent", "timestamp": str(int(time.time()))}
    assert post(client, notification(statuses=[fresh])).status_code == 200
    assert InboundMessage.objects.get(external_id="status:wamid.RACING:sent").status == \
        InboundStatus.FAILED
    assert Case.objects.count() == 0


def test_customer_reply_reopens_the_window(client, wa_account, org, graph):
    case = _case(client, hours_ago=30)
    assert not services.window_open(case)
    post(client, notification(messages=[text("wamid.IN2", "Masih ada?")]))
    assert services.window_open(case)
    cases.reply(case, "Ada, Pak.", by=org.alice)
    assert OutboundMessage.objects.count() == 1


def test_account_page_is_admin_only_and_never_shows_secrets(client, org, login, wa_account):
    login(client, org.alice)
    assert client.get("/whatsapp/accounts/").status_code == 403
    login(client, org.root)
    page = client.get("/whatsapp/accounts/")
    assert page.status_code == 200 and b"1098765432" in page.content
    edit = client.get(f"/whatsapp/accounts/{wa_account.pk}/")
    assert b"test-app-secret" not in edit.content and b"test-access-token" not in edit.content
    response = client.post(f"/whatsapp/accounts/{wa_account.pk}/", {
        "client": org.alpha.pk, "phone_number_id": "1098765432",
        "display_number": "+62 21 999", "app_secret": "", "verify_token": "",
        "access_token": "new-token", "api_base": wa_account.api_base, "is_active": "on"})
    assert response.status_code == 302
    wa_account.refresh_from_db()
    assert wa_account.display_number == "+62 21 999"
    assert wa_account.app_secret == "test-app-secret" and wa_account.access_token == "new-token"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM whatsapp_whatsappaccount")
        assert "new-token" not in cursor.fetchone()[0]
    from satupintu.audit.models import AuditEntry

    entry = AuditEntry.objects.get(action="whatsapp.account_updated")
    assert "new-token" not in str(entry.data)
    bad = client.post("/whatsapp/accounts/new/", {
        "client": org.alpha.pk, "phone_number_id": "abc", "display_number": "+62",
        "app_secret": "", "verify_token": "", "access_token": ""})
    assert bad.status_code == 200 and b"form-error" in bad.content


def test_sandbox_round_trip(client, org, login, graph):
    """The demo sandbox: a simulated customer message goes through the real webhook; the
    agent's reply lands in the sandbox's fake Graph API and is listed."""
    from satupintu.whatsapp.models import SandboxMessage, WhatsAppAccount

    account = WhatsAppAccount.objects.create(
        client=org.alpha, phone_number_id="555", display_number="+62 21 555",
        app_secret="s", verify_token="v", access_token="tok",
        api_base="http://testserver/whatsapp/sandbox")
    login(client, org.root)
    response = client.post("/whatsapp/sandbox/", {"account": account.pk,
                                                  "number": "081234567890", "name": "Sari",
                                                  "text": "Paket saya belum sampai"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.customer.name == "Sari"
    # The fake Graph API endpoint answers like Meta's.
    reply = client.post("/whatsapp/sandbox/555/messages",
                        data=b'{"to": "6281234567890", "type": "text", "text": {"body": "Ok"}}',
                        content_type="application/json", HTTP_AUTHORIZATION="Bearer tok")
    assert reply.status_code == 200 and reply.json()["messages"][0]["id"].startswith("wamid.")
    assert client.post("/whatsapp/sandbox/555/messages", data=b"{}",
                       content_type="application/json",
                       HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert SandboxMessage.objects.count() == 1
    page = client.get("/whatsapp/sandbox/")
    assert b"+6281234567890" in page.content and b"Ok" in page.content
    login(client, org.alice)
    assert client.get("/whatsapp/sandbox/").status_code == 403


def test_case_page_panel_and_template_picker(client, wa_account, org, login, graph):
    case = _case(client, hours_ago=26)
    template = _template(org)
    login(client, org.alice)
    page = client.get(f"/cases/{case.reference}/")
    assert f"/whatsapp/cases/{case.reference}/panel/".encode() in page.content
    panel = client.get(f"/whatsapp/cases/{case.reference}/panel/")
    assert b"case_update" in panel.content and b"24" in panel.content
    response = client.post(f"/whatsapp/cases/{case.reference}/template/",
                           {"template": template.pk, "params": "Budi\nSP-1"}, follow=True)
    assert response.status_code == 200
    out = OutboundMessage.objects.get()
    assert out.payload["type"] == "template" and out.payload["params"] == ["Budi", "SP-1"]
    bad = client.post(f"/whatsapp/cases/{case.reference}/template/",
                      {"template": template.pk, "params": "only one"}, follow=True)
    assert bad.status_code == 200 and OutboundMessage.objects.count() == 1
    login(client, org.bob)
    assert client.get(f"/whatsapp/cases/{case.reference}/panel/").status_code == 404
