"""The inbox operations page: quarantined and failed messages visible to the right people,
masked, retried; the raw message for administrators only, and audited."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from satupintu.audit.models import AuditEntry
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage, InboundStatus, OutboundStatus
from satupintu.inbox.tests.fake_channel import test_processor
from satupintu.inbox.tests.test_nothing_lost import _events_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    saved_p, saved_s = dict(inbox._PROCESSORS), dict(inbox._SENDERS)
    inbox.register_processor("test", test_processor)
    yield
    inbox._PROCESSORS.clear()
    inbox._PROCESSORS.update(saved_p)
    inbox._SENDERS.clear()
    inbox._SENDERS.update(saved_s)


def _quarantined(client=None, ext="q-1"):
    raw = json.dumps({"from": "dewi.lestari@example.co.id", "to": "unknown@nowhere",
                      "text": "Kartu saya terblokir"}).encode()
    message, _created = inbox.store_raw("test", ext, raw, client=client,
                                        meta={"from": "dewi.lestari@example.co.id"})
    return inbox.process(message)


def test_quarantine_is_audited_visible_masked_and_retry_works(client, org, login, registry):
    message = _quarantined()
    assert message.status == InboundStatus.QUARANTINED
    assert AuditEntry.objects.filter(action="inbox.quarantined",
                                     object_id=str(message.pk)).exists()
    login(client, org.root)
    page = client.get("/inbox/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="in-{message.pk}"' in html and "no client for u•" in html
    assert "unknown@nowhere" not in html
    assert "d•••" in html and "dewi.lestari@example.co.id" not in html
    assert "Kartu saya terblokir" not in html  # the body only in the audited raw view
    # the administrator fixes the cause (the client is known now) and retries
    InboundMessage.objects.filter(pk=message.pk).update(client=org.alpha)
    response = client.post(f"/inbox/in/{message.pk}/retry/")
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == InboundStatus.PROCESSED and _events_for("q-1") == 1
    assert AuditEntry.objects.filter(action="inbox.retried", actor=org.root).exists()
    assert f'id="in-{message.pk}"' not in client.get("/inbox/").content.decode()
    client.post(f"/inbox/in/{message.pk}/retry/")  # a second retry changes nothing
    assert _events_for("q-1") == 1


def test_a_retry_that_fails_again_stays_quarantined_with_a_clear_message(client, org, login,
                                                                        registry):
    message = _quarantined()
    login(client, org.root)
    response = client.post(f"/inbox/in/{message.pk}/retry/", follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == InboundStatus.QUARANTINED


def test_a_failed_message_can_be_processed_now(client, org, login, registry):
    raw = json.dumps({"from": "a@example.com", "to": "x", "text": "hi"}).encode()
    message, _created = inbox.store_raw("test", "f-1", raw, client=org.alpha)
    InboundMessage.objects.filter(pk=message.pk).update(
        status=InboundStatus.FAILED, attempts=1, next_attempt_at=timezone.now())
    login(client, org.sam)
    assert f'id="in-{message.pk}"' in client.get("/inbox/").content.decode()
    client.post(f"/inbox/in/{message.pk}/retry/")
    message.refresh_from_db()
    assert message.status == InboundStatus.PROCESSED and _events_for("f-1") == 1


def test_supervisors_see_their_clients_only_agents_not_at_all(client, org, login, registry):
    unknown = _quarantined(None, "q-none")
    alpha = _quarantined(org.alpha, "q-alpha")
    InboundMessage.objects.filter(pk=alpha.pk).update(status=InboundStatus.QUARANTINED)
    bravo = _quarantined(org.bravo, "q-bravo")
    InboundMessage.objects.filter(pk=bravo.pk).update(status=InboundStatus.QUARANTINED)
    login(client, org.sam)
    html = client.get("/inbox/").content.decode()
    assert f'id="in-{alpha.pk}"' in html
    assert f'id="in-{bravo.pk}"' not in html and f'id="in-{unknown.pk}"' not in html
    assert client.post(f"/inbox/in/{bravo.pk}/retry/").status_code == 404
    assert client.post(f"/inbox/in/{unknown.pk}/retry/").status_code == 404
    # the raw message is for administrators only
    assert client.get(f"/inbox/in/{alpha.pk}/raw/").status_code == 403
    assert "/raw/" not in html
    client.logout()
    login(client, org.alice)
    assert client.get("/inbox/").status_code == 403
    assert client.post(f"/inbox/in/{alpha.pk}/retry/").status_code == 403
    client.logout()
    login(client, org.charlie)
    assert client.get("/inbox/").status_code == 403
    assert "/inbox/" not in client.get("/cases/").content.decode()


def test_raw_view_is_escaped_and_audited(client, org, login):
    raw = b"From: <script>alert(1)</script>\r\nSubject: =?utf-8?q?x?=\r\n\r\n\xff\xfe body"
    message, _created = inbox.store_raw("test", "raw-1", raw, status=InboundStatus.QUARANTINED,
                                        reason="unknown address")
    login(client, org.root)
    page = client.get(f"/inbox/in/{message.pk}/raw/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "\ufffd" in html  # undecodable bytes shown, not a 500
    assert "script-src 'none'" in page["Content-Security-Policy"]
    entry = AuditEntry.objects.get(action="inbox.raw_viewed")
    assert entry.actor == org.root and entry.object_id == str(message.pk)
    assert client.get("/inbox/in/999999/raw/").status_code == 404


def test_dead_outbound_is_listed_masked_and_sent_again(client, org, login, registry,
                                                       django_capture_on_commit_callbacks):
    from satupintu.cases import services as cases
    from satupintu.customers.services import find_or_create_contact

    customer = find_or_create_contact(org.alpha, "email", "dewi@example.co.id")
    case = cases.create_case(org.alpha, customer, "Kartu", by=None, body="Tolong")

    def down(message):
        raise ConnectionRefusedError("smtp down")

    inbox.register_sender("test", down)
    queued = inbox.queue_outbound(case, "test", "dewi@example.co.id")
    queued.status, queued.attempts = OutboundStatus.DEAD, inbox.MAX_ATTEMPTS
    queued.last_error = "ConnectionRefusedError: smtp down"
    queued.save()
    login(client, org.sam)
    html = client.get("/inbox/").content.decode()
    assert f'id="out-{queued.pk}"' in html and case.reference in html
    assert "dewi@example.co.id" not in html and "d•••@example.co.id" in html
    sent: list[int] = []
    inbox.register_sender("test", lambda m: sent.append(m.pk) or "id-1")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/inbox/out/{queued.pk}/retry/").status_code == 302
    queued.refresh_from_db()
    assert queued.status == OutboundStatus.SENT and sent == [queued.pk]
    client.logout()
    login(client, org.bob)
    assert client.post(f"/inbox/out/{queued.pk}/retry/").status_code == 403


def test_nav_entry_for_supervisors_and_admins_only(client, org, login):
    login(client, org.root)
    assert 'href="/inbox/"' in client.get("/cases/").content.decode()
    client.logout()
    login(client, org.alice)
    assert 'href="/inbox/"' not in client.get("/cases/").content.decode()
