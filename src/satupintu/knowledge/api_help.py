"""The public help endpoint: the FAQ assistant's answer, without authentication.

``GET /api/v1/knowledge/help/{client_code}?q=…&lang=id`` answers from the client's (and
shared) published public FAQs only, exactly as the help page does; rate-limited per IP. The
answer carries a signed ``token`` for its question: ``POST …/help/{client_code}/feedback``
records "did this help?" with it, and the web chat's pre-chat form passes it on when the
customer still wants a person (the chat's case then shows what they read).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from satupintu.knowledge.ratelimit import allow
from satupintu.knowledge.services import faq
from satupintu.knowledge.views_help import help_client, question_for, question_token

router = Router(tags=["knowledge"])


class FaqArticleOut(Schema):
    article_id: int
    slug: str
    language: str
    title: str
    summary: str
    body: str
    score: float


class FaqAnswerOut(Schema):
    client: str
    language: str
    question: str
    confident: bool
    handoff_offered: bool
    question_id: int | None
    token: str
    articles: list[FaqArticleOut]


class FeedbackIn(Schema):
    token: str
    helped: bool
    lang: str = "id"


class FeedbackOut(Schema):
    helped: bool
    message: str


class ErrorOut(Schema):
    code: str
    message: str


@router.get("/help/{client_code}", auth=None, url_name="help_answer",
            response={200: FaqAnswerOut, 422: ErrorOut, 429: ErrorOut},
            summary="Public: answer a customer's question from public FAQs")
def help_answer(request: HttpRequest, client_code: str, q: str, lang: str = "id") -> Any:
    client = help_client(client_code)
    lang = faq.clean_language(lang)
    with translation.override(lang):
        if not allow(request, "ask"):
            return Status(429, {"code": "rate_limited", "message": _(
                "Too many questions from your connection; please wait a minute.")})
        try:
            answer = faq.ask(client, q, lang)
        except ValidationError as exc:
            return Status(422, {"code": "invalid_input", "message": exc.messages[0]})
    assert answer.record is not None
    return {**answer.as_dict(), "token": question_token(answer.record)}


@router.post("/help/{client_code}/feedback", auth=None, url_name="help_feedback",
             response={200: FeedbackOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut},
             summary="Public: did the FAQ answer help? (the answer's token)")
def help_feedback(request: HttpRequest, client_code: str, payload: FeedbackIn) -> Any:
    client = help_client(client_code)
    lang = faq.clean_language(payload.lang)
    with translation.override(lang):
        if not allow(request, "feedback"):
            return Status(429, {"code": "rate_limited", "message": _(
                "Too many requests from your connection; please try again later.")})
        record = question_for(client, payload.token)
        try:
            faq.feedback(record, payload.helped)
        except ValidationError as exc:
            return Status(409, {"code": exc.code or "done", "message": exc.messages[0]})
        message = (_("Glad we could help. You can close this window.") if payload.helped
                   else _("Sorry it did not help. A person will answer you."))
    return {"helped": payload.helped, "message": message}
