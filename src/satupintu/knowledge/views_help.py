"""The public help page (no log-in): ask, "did this help?", hand-off to a person; and the
deflection report for knowledge owners.

Question rows travel between requests as signed tokens, so one visitor cannot answer for
another's question by guessing a number. Spam resistance: a honeypot field and a per-IP rate
limit on Django's cache, both refused politely.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from satupintu.accounts.models import Client
from satupintu.accounts.permissions import request_client_ids, require_perm
from satupintu.accounts.roles import Perm
from satupintu.knowledge.models import FaqQuestion
from satupintu.knowledge.ratelimit import allow
from satupintu.knowledge.services import faq

_SALT = "satupintu.knowledge.faq"
HONEYPOT = "website"


def help_client(code: str) -> Client:
    return get_object_or_404(Client, code=code, is_active=True)


def _language(request: HttpRequest) -> str:
    chosen = request.POST.get("lang") or request.GET.get("lang")
    if chosen in faq.LANGUAGES:
        return chosen
    return faq.clean_language(translation.get_language_from_request(request))


def question_token(record: FaqQuestion) -> str:
    """The signed form of a question that travels between requests (24 hours)."""
    return signing.dumps(record.pk, salt=_SALT)


def question_for(client: Client, token: str) -> FaqQuestion:
    """The client's question a token names; 404 for a bad, old or other client's token."""
    try:
        pk = signing.loads(token or "", salt=_SALT, max_age=86400)
    except signing.BadSignature as exc:
        raise Http404(_("Not found.")) from exc
    return get_object_or_404(FaqQuestion, pk=pk, client=client)


def _render(request: HttpRequest, client: Client, lang: str, context: dict[str, object],
            status: int = 200) -> HttpResponse:
    with translation.override(lang):
        return render(request, "knowledge/help/page.html",
                      {"client": client, "lang": lang, "honeypot": HONEYPOT, **context},
                      status=status)


def help_page(request: HttpRequest, code: str) -> HttpResponse:
    client = help_client(code)
    lang = _language(request)
    question = (request.GET.get("q") or "").strip()
    if not question:
        return _render(request, client, lang, {"state": "ask"})
    if not allow(request, "ask"):
        with translation.override(lang):
            refusal = _("Too many questions from your connection; please wait a minute.")
        return _render(request, client, lang, {"state": "ask", "error": refusal}, status=429)
    with translation.override(lang):
        try:
            answer = faq.ask(client, question, lang)
        except ValidationError as exc:
            return _render(request, client, lang, {"state": "ask", "error": exc.messages[0]})
    assert answer.record is not None
    return _render(request, client, lang, {"state": "answer", "answer": answer,
                                           "token": question_token(answer.record),
                                           "q": answer.question})


@require_POST
def help_feedback(request: HttpRequest, code: str) -> HttpResponse:
    client = help_client(code)
    lang = _language(request)
    record = question_for(client, request.POST.get("token", ""))
    helped = request.POST.get("helped") == "yes"
    with translation.override(lang):
        try:
            faq.feedback(record, helped)
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            error = ""
    return _render(request, client, lang, {"state": "helped" if helped else "handoff",
                                           "token": question_token(record), "q": record.question,
                                           "error": error})


def help_handoff(request: HttpRequest, code: str) -> HttpResponse:
    client = help_client(code)
    lang = _language(request)
    token = request.POST.get("token") or request.GET.get("token", "")
    record = question_for(client, token)
    context: dict[str, object] = {"state": "handoff", "token": token, "q": record.question,
                                  "posted": request.POST}
    if request.method != "POST":
        return _render(request, client, lang, context)
    with translation.override(lang):
        if request.POST.get(HONEYPOT):
            context["error"] = _("We could not accept this form. Please try again.")
            return _render(request, client, lang, context, status=400)
        if not allow(request, "handoff"):
            context["error"] = _("Too many requests from your connection; please try again "
                                 "later.")
            return _render(request, client, lang, context, status=429)
        try:
            case = faq.hand_off(record, name=request.POST.get("name", ""),
                                contact=request.POST.get("contact", ""), request=request)
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
            return _render(request, client, lang, context, status=400)
    return _render(request, client, lang, {"state": "done", "reference": case.reference})


@login_required
def help_report(request: HttpRequest) -> HttpResponse:
    """Deflection per client, and each client's confidence threshold (set here)."""
    require_perm(request.user, Perm.MANAGE_KNOWLEDGE)
    ids = request_client_ids(request)
    if request.method == "POST":
        client = get_object_or_404(Client, pk=request.POST.get("client") or 0, pk__in=ids)
        try:
            threshold = float(request.POST.get("threshold", ""))
            max_answers = int(request.POST.get("max_answers", "3"))
        except ValueError:
            messages.error(request, _("The threshold is between 0 and 100 and 1 to 10 articles "
                                      "are shown."))
        else:
            try:
                faq.set_threshold(client, threshold, max_answers=max_answers,
                                  by=request.user, request=request)  # type: ignore[arg-type]
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(request, _("Saved."))
        return redirect("knowledge:help_report")
    clients = Client.objects.filter(pk__in=ids, is_active=True).order_by("code")
    return render(request, "knowledge/help/report.html", {
        "rows": faq.deflection(ids),
        "settings": [(c, faq.settings_for(c)) for c in clients]})
