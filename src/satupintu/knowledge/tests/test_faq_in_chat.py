"""The FAQ assistant inside the chat widget: answers before the chat, "this answered my
question" (deflected, no case), "I still need a person" (one chat case that shows what the
customer read)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from satupintu.cases.models import Case, CaseEvent
from satupintu.knowledge import ratelimit
from satupintu.knowledge.models import FaqQuestion, Helped
from satupintu.knowledge.services import faq

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def ask(http: Any, code: str = "alpha", q: str = "kartu kredit hilang blokir",
        lang: str = "id") -> Any:
    return http.get(f"/api/v1/knowledge/help/{code}", {"q": q, "lang": lang})


def start(http: Any, **extra: Any) -> Any:
    body = {"client": "alpha", "name": "Dewi", "contact": "dewi@example.com",
            "topic": "kartu kredit hilang", "message": "tolong blokir", "language": "id",
            **extra}
    return http.post("/api/v1/chat/sessions", json.dumps(body), content_type="application/json")


def feedback(http: Any, token: str, helped: bool, code: str = "alpha") -> Any:
    return http.post(f"/api/v1/knowledge/help/{code}/feedback",
                     json.dumps({"token": token, "helped": helped, "lang": "en"}),
                     content_type="application/json")


def test_the_answer_carries_a_token_and_answered_means_deflected(faqs: SimpleNamespace,
                                                                 client: Any) -> None:
    answer = ask(client).json()
    assert answer["articles"][0]["slug"] == "faq-blokir" and answer["token"]
    response = feedback(client, answer["token"], True)
    assert response.status_code == 200 and response.json()["helped"] is True
    assert "Glad we could help" in response.json()["message"]
    record = FaqQuestion.objects.get(pk=answer["question_id"])
    assert record.helped == Helped.YES and not record.handed_off
    assert not Case.objects.exists()  # nobody needed: no case
    [report] = faq.deflection([faqs.alpha.pk])
    assert (report["helped"], report["handed_off"], report["deflection_rate"]) == (1, 0, 100.0)
    # the first answer counts; a second one is refused clearly
    again = feedback(client, answer["token"], False)
    assert again.status_code == 409 and again.json()["code"] == "done"


def test_feedback_needs_a_valid_token_of_that_client(faqs: SimpleNamespace, client: Any) -> None:
    answer = ask(client).json()
    assert feedback(client, "forged", True).status_code == 404
    assert feedback(client, answer["token"], True, code="bravo").status_code == 404
    assert FaqQuestion.objects.get(pk=answer["question_id"]).helped == Helped.UNANSWERED


def test_feedback_is_rate_limited(faqs: SimpleNamespace, client: Any,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ratelimit.LIMITS, "feedback", (1, 60))
    first, second = ask(client).json(), ask(client, q="jam layanan").json()
    assert feedback(client, first["token"], True).status_code == 200
    refused = feedback(client, second["token"], True)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"


def test_still_need_a_person_opens_one_chat_case_that_shows_what_was_read(
        faqs: SimpleNamespace, client: Any) -> None:
    answer = ask(client).json()
    response = start(client, faq_token=answer["token"])
    assert response.status_code == 201
    case = Case.objects.get()
    assert case.reference == response.json()["case"] and case.channel == "chat"
    record = FaqQuestion.objects.get(pk=answer["question_id"])
    assert record.handed_off and record.case_reference == case.reference
    assert record.helped == Helped.NO
    note = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.NOTE)
    assert "Cara blokir kartu kredit hilang" in note.body  # the agent sees what was shown
    # the same token again (a second tab) opens a chat but links nothing twice
    assert start(client, faq_token=answer["token"]).status_code == 201
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.NOTE).count() == 1


@pytest.mark.parametrize("token", ["forged", "x" * 300, "eyJ0eXAi.old.token"])
def test_a_bad_token_never_stops_the_chat(faqs: SimpleNamespace, client: Any,
                                          token: str) -> None:
    response = start(client, faq_token=token)
    assert response.status_code == 201
    assert Case.objects.count() == 1
    assert not FaqQuestion.objects.filter(handed_off=True).exists()


def test_a_too_long_token_is_a_clear_400(faqs: SimpleNamespace, client: Any) -> None:
    response = start(client, faq_token="x" * 301)
    assert response.status_code in (400, 422)
    assert Case.objects.count() == 0


def test_another_clients_question_is_not_linked(faqs: SimpleNamespace, client: Any) -> None:
    bravo = ask(client, code="bravo").json()
    assert start(client, faq_token=bravo["token"]).status_code == 201
    assert not FaqQuestion.objects.get(pk=bravo["question_id"]).handed_off


def test_the_chat_page_asks_the_assistant_only_when_there_are_public_faqs(
        faqs: SimpleNamespace, client: Any) -> None:
    def config(code: str, lang: str) -> dict[str, Any]:
        page = client.get(f"/chat/w/{code}/", {"lang": lang}).content.decode()
        raw = page.split('id="chat-config" type="application/json">', 1)[1].split("</script>")[0]
        return dict(json.loads(raw))

    assert config("alpha", "id")["faq_url"] == "/api/v1/knowledge/help/alpha"
    assert config("alpha", "en")["faq_url"] == "/api/v1/knowledge/help/alpha"
    # bravo has an Indonesian FAQ (and the shared one) but nothing in English
    assert config("bravo", "id")["faq_url"]
    assert config("bravo", "en")["faq_url"] == ""
