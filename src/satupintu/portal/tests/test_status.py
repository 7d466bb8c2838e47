"""Public case status: the signed link, the one-time code, and what the customer never sees
(internal notes, other customers' cases, unmasked personal data)."""

from __future__ import annotations

import re
import time

import pytest
from django.utils import translation

from satupintu.audit.models import AuditEntry
from satupintu.cases import services as cases
from satupintu.cases.models import CaseEvent, ClientStatus
from satupintu.customers import services as customers
from satupintu.inbox.models import InboundMessage, OutboundMessage
from satupintu.portal import links
from satupintu.portal.models import StatusCode
from satupintu.portal.services import issue_form_token

pytestmark = pytest.mark.django_db

NOTE = "Catatan rahasia: nasabah VIP, jangan beri kompensasi"


def _t(text: str, language: str = "id") -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def world(org):
    dewi = customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                     identities=[("email", "dewi@example.co.id"),
                                                 ("whatsapp", "081234567890")])
    budi = customers.create_customer(org.alpha, "Budi Santoso", by=org.alice,
                                     identities=[("email", "budi@example.com")])
    case = cases.create_case(org.alpha, dewi, "Kartu terblokir", by=None,
                             body="Kartu saya terblokir, NIK 3171015708850003", channel="web")
    cases.add_note(case, NOTE, by=org.alice)
    cases.reply(case, "Kami sedang memeriksa kartu Anda.", by=org.alice)
    ClientStatus.objects.create(client=org.alpha, code="checking", name_id="Sedang diperiksa",
                                name_en="Being checked", category="pending_internal")
    cases.change_status(case, "checking", by=org.alice)
    other = cases.create_case(org.alpha, budi, "Tagihan ganda", by=None,
                              body="Tagihan saya dobel, rahasia Budi", channel="web")
    return case, other


def test_the_signed_link_shows_status_and_public_conversation_only(client, world):
    case, other = world
    page = client.get(f"/public/status/{links.status_token(case.reference)}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert case.reference in html
    assert "Sedang diperiksa" in html
    assert "Kartu saya terblokir" in html and "Kami sedang memeriksa" in html
    assert NOTE not in html and "rahasia" not in html.lower().replace("kartu", "")
    assert "Alice" not in html  # no agent names, no assignment internals
    assert other.reference not in html and "Budi" not in html
    assert "3171015708850003" not in html and "0003" in html  # NIK masked
    assert page["Cache-Control"] == "no-store"
    english = client.get(f"/public/status/{links.status_token(case.reference)}/",
                         HTTP_ACCEPT_LANGUAGE="en")
    assert "Being checked" in english.content.decode()


def test_forged_altered_or_unknown_token_is_a_404_page(client, world):
    case, other = world
    token = links.status_token(case.reference)
    altered = token.replace(case.reference, other.reference)
    for bad in (altered, token[:-2] + "xx", "SP-2026-000001", "nothing"):
        response = client.get(f"/public/status/{bad}/")
        assert response.status_code == 404
        assert "Tagihan ganda" not in response.content.decode()
        assert "Kartu terblokir" not in response.content.decode()
    gone = links.status_token("SP-1999-000001")
    assert client.get(f"/public/status/{gone}/").status_code == 404


def test_guessing_links_is_rate_limited_per_ip(client, world, settings):
    settings.PORTAL_RATE_LIMITS = {"status_ip": (3, 600)}
    case, _other = world
    for _ in range(3):
        assert client.get("/public/status/guess/").status_code == 404
    assert client.get("/public/status/guess/").status_code == 429
    good = client.get(f"/public/status/{links.status_token(case.reference)}/")
    assert good.status_code == 429


def _request_code(client, reference, identity, **extra):
    response = client.post("/public/status/", {"reference": reference, "identity": identity},
                           **extra)
    match = re.search(r'name="challenge" value="([^"]+)"', response.content.decode())
    return response, match.group(1) if match else None


def _code_from_outbox() -> str:
    message = OutboundMessage.objects.filter(kind="code").order_by("-id").first()
    text = message.payload["text"].replace(message.case.reference, "") if message else ""
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_code_by_email_grants_that_one_case(client, world):
    case, other = world
    response, challenge = _request_code(client, case.reference.lower(), " Dewi@Example.co.id ")
    assert response.status_code == 200 and challenge
    row = StatusCode.objects.get()
    code = _code_from_outbox()
    assert code not in row.code_hash and len(row.code_hash) == 64  # kept hashed
    sent = OutboundMessage.objects.get(kind="code")
    assert sent.channel == "email" and sent.recipient == "dewi@example.co.id"
    entered = client.post("/public/status/code/", {"challenge": challenge, "code": code})
    assert entered.status_code == 302 and entered["Location"] == "/public/status/case/"
    page = client.get("/public/status/case/")
    assert page.status_code == 200
    html = page.content.decode()
    assert case.reference in html and NOTE not in html and other.reference not in html
    assert AuditEntry.objects.filter(action="portal.code_accepted").exists()
    # used once: the same code again is refused
    again = client.post("/public/status/code/", {"challenge": challenge, "code": code})
    assert again.status_code == 400


def test_code_by_whatsapp_number_is_sent_over_whatsapp(client, world):
    case, _other = world
    _request_code(client, case.reference, "+62 812-3456-7890")
    sent = OutboundMessage.objects.get(event__isnull=True)
    assert sent.channel == "whatsapp" and sent.recipient == "+6281234567890"
    assert sent.payload["type"] == "text" and re.search(r"\d{6}", sent.payload["text"])


def test_same_neutral_answer_whether_or_not_anything_matched(client, world):
    case, other = world
    answers = []
    for reference, identity in ((case.reference, "dewi@example.co.id"),
                                (case.reference, "budi@example.com"),     # another customer
                                (other.reference, "dewi@example.co.id"),
                                ("SP-2026-999999", "dewi@example.co.id"),
                                (case.reference, "not an address")):
        response, challenge = _request_code(client, reference, identity)
        assert response.status_code == 200 and challenge
        html = response.content.decode().replace(challenge, "")
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        answers.append(html)
    assert len(set(answers)) == 1
    assert OutboundMessage.objects.filter(event__isnull=True).count() == 1
    assert StatusCode.objects.count() == 1


def test_wrong_code_then_attempts_exhausted(client, world):
    case, _other = world
    _response, challenge = _request_code(client, case.reference, "dewi@example.co.id")
    code = _code_from_outbox()
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _ in range(4):
        response = client.post("/public/status/code/", {"challenge": challenge, "code": wrong},
                               HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400 and "not right" in response.content.decode()
    fifth = client.post("/public/status/code/", {"challenge": challenge, "code": wrong},
                        HTTP_ACCEPT_LANGUAGE="en")
    assert "no longer be used" in fifth.content.decode()
    # the right code after five misses is refused too
    late = client.post("/public/status/code/", {"challenge": challenge, "code": code})
    assert late.status_code == 400
    assert client.get("/public/status/case/").status_code == 404


def test_an_unknown_challenge_runs_out_like_a_real_one(client, world):
    for _ in range(5):
        response = client.post("/public/status/code/", {"challenge": "made-up", "code": "123456"},
                               HTTP_ACCEPT_LANGUAGE="en")
        assert "not right" in response.content.decode()
    sixth = client.post("/public/status/code/", {"challenge": "made-up", "code": "123456"},
                        HTTP_ACCEPT_LANGUAGE="en")
    assert "no longer be used" in sixth.content.decode()


def test_expired_code_is_refused(client, world):
    case, _other = world
    _response, challenge = _request_code(client, case.reference, "dewi@example.co.id")
    code = _code_from_outbox()
    StatusCode.objects.update(expires_at=StatusCode.objects.get().created_at)
    assert client.post("/public/status/code/",
                       {"challenge": challenge, "code": code}).status_code == 400


def test_code_requests_are_rate_limited_per_reference(client, world, settings):
    settings.PORTAL_RATE_LIMITS = {"lookup_ref": (2, 600)}
    case, _other = world
    for _ in range(2):
        assert _request_code(client, case.reference, "x@example.com")[0].status_code == 200
    refused, _challenge = _request_code(client, case.reference, "dewi@example.co.id")
    assert refused.status_code == 429
    assert _t("Too many attempts. Please wait a few minutes and try again.") in \
        refused.content.decode()
    assert not StatusCode.objects.exists()


def test_code_entries_are_rate_limited_per_ip(client, world, settings):
    settings.PORTAL_RATE_LIMITS = {"code_ip": (3, 600)}
    for _ in range(3):
        client.post("/public/status/code/", {"challenge": "c", "code": "000000"})
    assert client.post("/public/status/code/",
                       {"challenge": "c", "code": "000000"}).status_code == 429


def test_a_forged_grant_cookie_shows_nothing(client, world):
    case, _other = world
    client.cookies["satupintu_case"] = case.reference
    assert client.get("/public/status/case/").status_code == 404


def test_customer_reply_from_the_status_page_goes_through_the_inbox(client, world):
    case, _other = world
    token = links.status_token(case.reference)
    nonce_token = issue_form_token(f"reply:{case.reference}", issued_at=time.time() - 10)
    data = {"message": "Sudah saya coba lagi, masih terblokir.", "token": nonce_token}
    first = client.post(f"/public/status/{token}/reply/", data)
    second = client.post(f"/public/status/{token}/reply/", data)  # double submit
    assert first.status_code == second.status_code == 302
    inbound = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.INBOUND,
                                       body__startswith="Sudah saya coba")
    assert inbound.count() == 1 and inbound.get().channel == "web"
    assert InboundMessage.objects.filter(channel="web", case=case).count() == 1
    page = client.get(first["Location"])
    assert "Sudah saya coba lagi" in page.content.decode()


def test_a_reply_with_a_token_of_another_case_is_refused(client, world):
    case, other = world
    token = links.status_token(case.reference)
    foreign = issue_form_token(f"reply:{other.reference}", issued_at=time.time() - 10)
    response = client.post(f"/public/status/{token}/reply/", {"message": "hi", "token": foreign})
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_empty_reply_is_a_form_error(client, world):
    case, _other = world
    token = links.status_token(case.reference)
    nonce_token = issue_form_token(f"reply:{case.reference}", issued_at=time.time() - 10)
    response = client.post(f"/public/status/{token}/reply/", {"message": " ", "token": nonce_token})
    assert response.status_code == 400 and not InboundMessage.objects.exists()


def test_reply_after_the_code_flow_goes_onto_the_granted_case(client, world):
    case, _other = world
    _response, challenge = _request_code(client, case.reference, "dewi@example.co.id")
    client.post("/public/status/code/", {"challenge": challenge, "code": _code_from_outbox()})
    nonce_token = issue_form_token(f"reply:{case.reference}", issued_at=time.time() - 10)
    response = client.post("/public/status/case/reply/",
                           {"message": "Terima kasih, sudah beres.", "token": nonce_token})
    assert response.status_code == 302 and response["Location"] == "/public/status/case/?sent=1"
    assert CaseEvent.objects.filter(case=case, body="Terima kasih, sudah beres.").count() == 1
    client.cookies.pop("satupintu_case")
    assert client.post("/public/status/case/reply/",
                       {"message": "x", "token": nonce_token}).status_code == 404


def test_status_api_by_token_shows_the_public_view_only(client, world):
    case, other = world
    response = client.get(f"/api/v1/public/status/{links.status_token(case.reference)}?lang=en")
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == case.reference and body["status"] == "Being checked"
    texts = [m["text"] for m in body["messages"]]
    assert any("Kami sedang memeriksa" in t for t in texts)
    assert NOTE not in response.content.decode() and other.reference not in str(body)
    assert all("3171015708850003" not in t for t in texts)
    forged = client.get(f"/api/v1/public/status/{links.status_token(case.reference)}x")
    assert forged.status_code == 404 and forged.json()["code"] == "not_found"
