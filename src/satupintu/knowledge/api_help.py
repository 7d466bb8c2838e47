"""The public help endpoint: the FAQ assistant's answer, without authentication.

``GET /api/v1/knowledge/help/{client_code}?q=…&lang=id`` answers from the client's (and
shared) published public FAQs only, exactly as the help page does; rate-limited per IP.
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
from satupintu.knowledge.views_help import help_client

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
    articles: list[FaqArticleOut]


class ErrorOut(Schema):
    code: str
    message: str


@router.get("/help/{client_code}", auth=None,
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
    return answer.as_dict()
