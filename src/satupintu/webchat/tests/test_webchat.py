"""Web chat over HTTP: the pre-chat form, the framed page's headers, uploads, the transcript,
the agents' Chats page and its client scope."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.translation import gettext

from satupintu.cases import services as cases
from satupintu.cases.models import Attachment, CaseEvent
from satupintu.customers import services as customers
from satupintu.inbox.models import InboundMessage, OutboundMessage
from satupintu.webchat import services
from satupintu.webchat.models import ChatMessage, ChatSession, SessionStatus

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _fresh_limits():
    services.reset_rates()
    from django.core.cache import cache

    cache.clear()
    yield
    services.reset_rates()


def _start(http, **kw):
    data = {"client": "alpha", "name": "Dewi Lestari", "contact": "dewi@example.co.id",
            "topic": "Kartu kredit", "message": "Kartu saya terblokir.", "language": "id"}
    data.update(kw)
    return http.post("/api/v1/chat/sessions", data, content_type="application/json")


def test_prechat_finds_existing_customer_and_opens_a_chat_case(client, org):
    dewi = customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                     identities=[("email", "dewi@example.co.id")])
    response = _start(client, contact="  DEWI@Example.co.id ")
    assert response.status_code == 201, response.content
    data = response.json()
    session = ChatSession.objects.get(pk=data["session"])
    assert session.customer == dewi
    assert session.case.reference == data["case"] and session.case.channel == "chat"
    assert session.case.subject == "Kartu kredit"
    assert session.token_hash == services.hash_token(data["token"])
    assert data["token"] not in session.token_hash
    raw = InboundMessage.objects.get(channel="chat", external_id=f"{session.pk}:start")
    assert raw.status == "processed" and raw.event.body == "Kartu saya terblokir."
    assert session.visitor and "dewi" not in ChatSession.objects.filter(
        pk=session.pk).values_list("visitor", flat=True)[0]  # encrypted at rest
    first = ChatMessage.objects.get(session=session)
    assert first.seq == 1 and first.sender == "visitor"


def test_prechat_without_contact_makes_an_anonymous_visitor(client, org):
    response = _start(client, contact="", message="")
    assert response.status_code == 201
    session = ChatSession.objects.get(pk=response.json()["session"])
    identity = session.customer.identities.get()
    assert identity.kind == "chat_visitor"
    assert CaseEvent.objects.get(case=session.case, kind="inbound").body == "Kartu kredit"


@pytest.mark.parametrize(("changes", "code"), [
    ({"contact": "not a phone"}, "bad_contact"),
    ({"name": "  "}, "name_required"),
    ({"topic": ""}, "topic_required"),
])
def test_prechat_bad_input_is_a_clear_400(client, org, changes, code):
    response = _start(client, **changes)
    assert response.status_code == 400
    assert response.json()["code"] == code and response.json()["message"]
    assert not ChatSession.objects.exists()


def test_prechat_unknown_client_and_malformed_body(client, org):
    assert _start(client, client="nobody").status_code == 404
    response = client.post("/api/v1/chat/sessions", "{not json",
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "malformed_json"
    response = _start(client, message="x" * (services.MAX_TEXT + 1))
    assert response.status_code == 422


def test_prechat_is_rate_limited_per_address(client, org):
    for _ in range(10):
        assert _start(client).status_code == 201
    response = _start(client)
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"


def test_prechat_speaks_english(client, org):
    response = _start(client, name="", language="en")
    assert response.json()["message"] == "Please give your name."
    response = _start(client, name="", language="id")
    with translation.override("id"):
        assert response.json()["message"] == gettext("Please give your name.")


def test_widget_page_may_be_framed_only_by_allowed_origins(client, org):
    services.configure_widget(org.alpha, by=org.root,
                              allowed_origins=["https://www.alpha-bank.co.id/"])
    response = client.get("/chat/w/alpha/?lang=en")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"] == (
        "frame-ancestors 'self' https://www.alpha-bank.co.id")
    page = response.content.decode()
    assert "Start chat" in page and 'id="chat-config"' in page
    indonesian = client.get("/chat/w/alpha/").content.decode()
    assert '<html lang="id">' in indonesian
    with translation.override("id"):
        assert gettext("Start chat") in indonesian
    assert client.get("/chat/w/bravo/")["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert client.get("/chat/w/nobody/").status_code == 404
    # every other page still refuses to be framed
    assert client.get("/accounts/login/")["X-Frame-Options"] == "DENY"


def test_configure_widget_checks_role_and_origin(org):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(PermissionDenied):
        services.configure_widget(org.alpha, by=org.alice, allowed_origins=[])
    with pytest.raises(ValidationError):
        services.configure_widget(org.alpha, by=org.root,
                                  allowed_origins=["javascript:alert(1)"])


def test_disabled_widget_is_not_served(client, org):
    services.configure_widget(org.alpha, by=org.root, allowed_origins=[], enabled=False)
    assert client.get("/chat/w/alpha/").status_code == 404
    assert _start(client).status_code == 400


def test_widget_script_is_plain_javascript_with_both_languages(client, org):
    response = client.get("/chat/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert '"en": {"open": "Chat with us"' in body
    assert "/chat/w/" in body and "data-client" in body
    assert "http://" not in body.split(";\n", 1)[1].split("*/", 1)[1]  # no third-party URLs


def _session(client) -> tuple[ChatSession, str]:
    data = _start(client).json()
    return ChatSession.objects.get(pk=data["session"]), data["token"]


def test_upload_goes_to_the_case_once(client, org):
    session, token = _session(client)
    upload = SimpleUploadedFile("foto.png", PNG, content_type="image/png")
    response = client.post("/api/v1/chat/upload", {"cid": "f-1", "file": upload},
                           HTTP_X_CHAT_TOKEN=token)
    assert response.status_code == 200, response.content
    assert response.json() == {"type": "ack", "cid": "f-1", "seq": 2}
    again = client.post("/api/v1/chat/upload",
                        {"cid": "f-1", "file": SimpleUploadedFile("foto.png", PNG)},
                        HTTP_X_CHAT_TOKEN=token)
    assert again.json()["seq"] == 2
    attachment = Attachment.objects.get(case=session.case)
    assert attachment.original_name == "foto.png" and attachment.event.body == "📎 foto.png"
    assert ChatMessage.objects.get(session=session, cid="f-1").file_name == "foto.png"


def test_upload_may_be_larger_than_an_ordinary_request(client, org, settings):
    """The request size limit (1 MB) lets chat uploads through up to the attachment limit."""
    session, token = _session(client)
    big = PNG + b"\x00" * (2 * 1024 * 1024)
    response = client.post("/api/v1/chat/upload",
                           {"cid": "big-1", "file": SimpleUploadedFile("scan.png", big)},
                           HTTP_X_CHAT_TOKEN=token)
    assert response.status_code == 200, response.content
    assert Attachment.objects.get(case=session.case).size == len(big)
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    response = client.post("/api/v1/chat/upload",
                           {"cid": "big-2", "file": SimpleUploadedFile("scan.png", big)},
                           HTTP_X_CHAT_TOKEN=token)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_upload_refusals_are_clear(client, org, settings):
    session, token = _session(client)
    bad = SimpleUploadedFile("run.exe", b"MZ\x90\x00" * 10)
    response = client.post("/api/v1/chat/upload", {"cid": "f-2", "file": bad},
                           HTTP_X_CHAT_TOKEN=token)
    assert response.status_code == 400 and response.json()["code"] == "forbidden_type"
    response = client.post("/api/v1/chat/upload",
                           {"cid": "f-3", "file": SimpleUploadedFile("a.png", PNG)},
                           HTTP_X_CHAT_TOKEN="x" * 43)
    assert response.status_code == 401 and response.json()["code"] == "bad_token"
    settings.ATTACHMENT_MAX_BYTES = 50
    response = client.post("/api/v1/chat/upload",
                           {"cid": "f-4", "file": SimpleUploadedFile("a.png", PNG)},
                           HTTP_X_CHAT_TOKEN=token)
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert not Attachment.objects.filter(case=session.case).exists()


def test_transcript_is_queued_as_email(client, org):
    session, _token = _session(client)
    cases.reply(session.case, "Kartu Anda sudah dibuka.", by=org.alice, channel="chat")
    session.refresh_from_db()
    row = services.send_transcript(session)
    assert row.channel == "email" and row.recipient == "dewi@example.co.id"
    assert row.payload["kind"] == "transcript" and session.case.reference in row.payload["subject"]
    assert "Kartu saya terblokir." in row.payload["text"]
    assert "Alice: Kartu Anda sudah dibuka." in row.payload["text"]
    assert "<b>Alice</b>" in row.payload["html"]
    other = services.send_transcript(session, "lain@example.com")
    assert other.recipient == "lain@example.com"
    with pytest.raises(services.ChatError) as exc:
        services.send_transcript(session, "not an address")
    assert exc.value.code == "bad_address"
    services.send_transcript(session)
    with pytest.raises(services.ChatError) as exc:
        services.send_transcript(session)
    assert exc.value.code == "rate_limited"
    assert OutboundMessage.objects.filter(case=session.case).count() == 3


def test_transcript_needs_an_address(client, org):
    data = _start(client, contact="081234567890").json()
    session = ChatSession.objects.get(pk=data["session"])
    with pytest.raises(services.ChatError) as exc:
        services.send_transcript(session)
    assert exc.value.code == "no_address"


def test_chats_page_is_client_scoped(client, org, login):
    session, _token = _session(client)
    login(client, org.alice)
    page = client.get("/chat/").content.decode()
    assert "Dewi Lestari" in page and session.case.reference in page
    assert 'href="/chat/"' in page  # in the navigation
    login(client, org.bob)
    page = client.get("/chat/").content.decode()
    assert "Dewi Lestari" not in page
    response = client.post(f"/chat/s/{session.pk}/reply/", {"body": "Halo"})
    assert response.status_code == 404
    assert client.post(f"/chat/s/{session.pk}/end/").status_code == 404
    assert client.get("/api/v1/chat/sessions").json() == []
    login(client, org.charlie)  # a client viewer does not work chats
    assert client.get("/chat/").status_code == 403


def test_agent_reply_from_the_chats_page(client, org, login):
    session, _token = _session(client)
    login(client, org.alice)
    response = client.post(f"/chat/s/{session.pk}/reply/", {"body": "Baik, saya cek."})
    assert response.status_code == 201
    message = ChatMessage.objects.get(session=session, sender="agent")
    assert message.seq == 2 and message.event.body == "Baik, saya cek."
    assert message.event.kind == "outbound" and message.event.channel == "chat"
    assert message.event.case.assignee == org.alice  # the first agent to answer takes it
    assert response.json()["seq"] == 2
    assert client.post(f"/chat/s/{session.pk}/reply/", {"body": " "}).status_code == 400
    too_long = client.post(f"/chat/s/{session.pk}/reply/", {"body": "x" * 5001})
    assert too_long.status_code == 400 and too_long.json()["code"] == "too_long"
    api = client.get("/api/v1/chat/sessions").json()
    assert api[0]["id"] == session.pk and api[0]["last_seq"] == 2
    assert client.post(f"/chat/s/{session.pk}/end/").status_code == 200
    session.refresh_from_db()
    assert session.status == SessionStatus.ENDED
    assert "Dewi Lestari" not in client.get("/chat/").content.decode()


def test_processing_failure_is_recovered_without_duplicates(client, org, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from satupintu.inbox import services as inbox

    session, _token = _session(client)
    original = services.process_chat

    def broken(message):
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(inbox._PROCESSORS, "chat", broken)
    ack = services.receive(session, "c-1", "Halo?")
    assert ack == {"type": "ack", "cid": "c-1", "seq": None}  # stored, not yet processed
    assert services.receive(session, "c-1", "Halo?")["seq"] is None
    monkeypatch.setitem(inbox._PROCESSORS, "chat", original)
    inbox.recover(now=timezone.now() + timedelta(hours=1))
    assert services.receive(session, "c-1", "Halo?") == {"type": "ack", "cid": "c-1", "seq": 2}
    assert CaseEvent.objects.filter(case=session.case, kind="inbound").count() == 2


def test_customer_message_after_case_closed_follows_the_new_case(client, org):
    session, _token = _session(client)
    cases.change_status(session.case, "closed", by=org.alice)
    old = session.case
    services.receive(session, "c-9", "Masih ada pertanyaan")
    session.refresh_from_db()
    assert session.case != old and session.case.channel == "chat"
    cases.reply(session.case, "Silakan", by=org.alice)
    assert ChatMessage.objects.filter(session=session, sender="agent").count() == 1


def test_widget_settings_api(client, org, login):
    login(client, org.alice)
    data = client.get("/api/v1/chat/widgets/alpha").json()
    assert data["allowed_origins"] == [] and 'data-client="alpha"' in data["script"]
    assert client.get("/api/v1/chat/widgets/bravo").status_code == 404
    response = client.put("/api/v1/chat/widgets/alpha", {"allowed_origins": []},
                          content_type="application/json")
    assert response.status_code == 403
    login(client, org.root)
    response = client.put("/api/v1/chat/widgets/alpha",
                          {"allowed_origins": ["https://www.alpha.co.id"]},
                          content_type="application/json")
    assert response.status_code == 200
    assert response.json()["allowed_origins"] == ["https://www.alpha.co.id"]
    response = client.put("/api/v1/chat/widgets/alpha", {"allowed_origins": ["ftp://x"]},
                          content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "rejected"


def test_crash_while_opening_the_case_loses_nothing(client, org, monkeypatch):
    """The worker dies between storing the first message and processing it: the visitor
    keeps chatting (acknowledged, stored), and the periodic recovery opens the case and
    files every message once, in order."""
    from datetime import timedelta

    from django.utils import timezone

    from satupintu.inbox import services as inbox

    def killed(message):
        raise RuntimeError("worker killed")

    monkeypatch.setitem(inbox._PROCESSORS, "chat", killed)
    response = _start(client)
    assert response.status_code == 201 and response.json()["case"] == ""
    session = ChatSession.objects.get(pk=response.json()["session"])
    monkeypatch.setitem(inbox._PROCESSORS, "chat", services.process_chat)
    # the start is still pending, so this message cannot be filed yet: stored, retried
    assert services.receive(session, "c-1", "Halo?")["seq"] is None
    assert InboundMessage.objects.filter(channel="chat").count() == 2
    later = timezone.now() + timedelta(hours=1)
    inbox.recover(now=later)
    inbox.recover(now=later + timedelta(hours=1))
    session.refresh_from_db()
    assert session.case is not None and session.customer is not None
    bodies = list(ChatMessage.objects.filter(session=session).order_by("seq")
                  .values_list("event__body", flat=True))
    assert bodies == ["Kartu saya terblokir.", "Halo?"]
    assert CaseEvent.objects.filter(case=session.case, kind="inbound").count() == 2
    assert services.receive(session, "c-1", "Halo?")["seq"] == 2
