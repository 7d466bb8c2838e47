"""Public pages (no login): a client's contact form and the customer's case status.

Nothing here writes: submissions go through ``portal.services`` into the inbox core. Every
page that could be used to guess is rate-limited per IP address (and per reference or
e-mail address), and answers a refusal with a translated 429 page.
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from satupintu.accounts.models import Client
from satupintu.audit.services import client_ip
from satupintu.cases.models import Case
from satupintu.inbox.models import InboundMessage, InboundStatus
from satupintu.portal import links, ratelimit, services
from satupintu.portal.forms import CodeForm, ContactForm, LookupForm, ReplyForm

log = logging.getLogger(__name__)

TOKEN_ERRORS = {
    "forged": _("This form could not be checked. Please send it again."),
    "too_fast": _("That was very fast. Please check your message and send it again."),
    "expired": _("This form has expired. Please send it again."),
}


def _language() -> str:
    return "en" if (get_language() or "id").startswith("en") else "id"


def _ip(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "web/error.html", {
        "status": 429,
        "message": _("Too many attempts. Please wait a few minutes and try again.")},
        status=429)
    response["Retry-After"] = "600"
    return response


def _public(response: HttpResponse) -> HttpResponse:
    # Pages with a customer's case must not be kept by shared caches or the browser. (The
    # site's Referrer-Policy, same-origin, keeps the link's token from other sites; a
    # stricter no-referrer would make browsers send "Origin: null" and fail the CSRF check.)
    response["Cache-Control"] = "no-store"
    return response


# --- contact form ------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest, code: str) -> HttpResponse:
    client = get_object_or_404(Client, code=code, is_active=True)
    language = _language()
    if request.method == "GET":
        form = ContactForm(client=client, language=language,
                           initial={"token": services.issue_form_token(client.code)})
        return _public(render(request, "portal/contact.html", {"client": client, "form": form}))
    form = ContactForm(request.POST, client=client, language=language)
    if request.POST.get("website"):
        log.info("web form of %s: honeypot filled, refused", client.code)
        return render(request, "web/error.html", {
            "status": 400, "message": _("Your message could not be accepted.")}, status=400)
    error = ""
    nonce = ""
    try:
        nonce = services.read_form_token(request.POST.get("token", ""), client.code)
    except services.FormTokenError as exc:
        log.info("web form of %s refused: %s", client.code, exc.code)
        error = str(TOKEN_ERRORS[exc.code])
    if error or not form.is_valid():
        data = request.POST.copy()
        if error or not nonce:
            # A fresh token; a form that was only incomplete keeps its nonce (one case).
            data["token"] = services.issue_form_token(client.code)
        form = ContactForm(data, client=client, language=language)
        form.is_valid()
        if error:
            form.add_error(None, error)
        return _public(render(request, "portal/contact.html",
                              {"client": client, "form": form}, status=400))
    previous = services.already_submitted(nonce)
    if previous is None:
        limits = (("form_ip", _ip(request)), ("form_email", form.cleaned_data["email"]))
        if not ratelimit.hit_all(limits):
            log.info("web form of %s: rate limit", client.code)
            return _too_many(request)
        previous, _created = services.submit_contact(services.Submission(
            client=client, nonce=nonce, name=form.cleaned_data["name"],
            email=form.cleaned_data["email"], phone=form.cleaned_data["phone"],
            reason_id=form.cleaned_data["reason"], message=form.cleaned_data["message"],
            language=language))
    return redirect("portal:thanks", code=client.code,
                    token=services.thanks_token(previous.external_id))


def thanks(request: HttpRequest, code: str, token: str) -> HttpResponse:
    client = get_object_or_404(Client, code=code)
    external_id = services.external_id_from_thanks(token)
    message = (InboundMessage.objects.filter(channel=services.CHANNEL, external_id=external_id,
                                             client=client).select_related("case").first()
               if external_id else None)
    if message is None:
        raise Http404(_("Not found."))
    case = message.case if message.status == InboundStatus.PROCESSED else None
    return _public(render(request, "portal/thanks.html", {
        "client": client, "case": case,
        "status_url": reverse("portal:status", args=[links.status_token(case.reference)])
        if case else "",
    }))


# --- case status --------------------------------------------------------------------------------

def _render_status(request: HttpRequest, case: Case, reply_url: str,
                   form: ReplyForm | None = None, status: int = 200) -> HttpResponse:
    language = _language()
    if form is None:
        form = ReplyForm(initial={"token": services.issue_form_token(f"reply:{case.reference}")})
    context = {"view": services.public_view(case, language), "form": form,
               "reply_url": reply_url, "sent": request.GET.get("sent") == "1"}
    return _public(render(request, "portal/status.html", context, status=status))


def _case_from_link(request: HttpRequest, token: str) -> Case | HttpResponse:
    if ratelimit.exceeded("status_ip", _ip(request)):
        return _too_many(request)
    reference = links.reference_from_token(token)
    case = (Case.objects.select_related("client", "client_status")
            .filter(reference=reference).first() if reference else None)
    if case is None:
        ratelimit.hit("status_ip", _ip(request))  # only failures count: guessing is what we stop
        raise Http404(_("Not found."))
    return case


def status_link(request: HttpRequest, token: str) -> HttpResponse:
    found = _case_from_link(request, token)
    if isinstance(found, HttpResponse):
        return found
    return _render_status(request, found, reverse("portal:status_reply", args=[token]))


def _case_from_grant(request: HttpRequest) -> Case:
    reference = services.reference_from_grant(request.COOKIES.get(services.GRANT_COOKIE, ""))
    case = (Case.objects.select_related("client", "client_status")
            .filter(reference=reference).first() if reference else None)
    if case is None:
        raise Http404(_("Not found."))
    return case


def status_granted(request: HttpRequest) -> HttpResponse:
    case = _case_from_grant(request)
    return _render_status(request, case, reverse("portal:granted_reply"))


@require_POST
def status_reply(request: HttpRequest, token: str) -> HttpResponse:
    found = _case_from_link(request, token)
    if isinstance(found, HttpResponse):
        return found
    return _reply(request, found, reverse("portal:status", args=[token]),
                  reverse("portal:status_reply", args=[token]))


@require_POST
def granted_reply(request: HttpRequest) -> HttpResponse:
    case = _case_from_grant(request)
    return _reply(request, case, reverse("portal:granted"), reverse("portal:granted_reply"))


def _reply(request: HttpRequest, case: Case, back: str, reply_url: str) -> HttpResponse:
    form = ReplyForm(request.POST)
    scope = f"reply:{case.reference}"
    error = ""
    nonce = ""
    try:
        nonce = services.read_form_token(request.POST.get("token", ""), scope)
    except services.FormTokenError as exc:
        error = str(TOKEN_ERRORS[exc.code])
    if error or not form.is_valid():
        data = request.POST.copy()
        if error:
            data["token"] = services.issue_form_token(scope)
        form = ReplyForm(data)
        form.is_valid()
        if error:
            form.add_error(None, error)
        return _render_status(request, case, reply_url, form=form, status=400)
    if not ratelimit.hit("reply_case", case.reference):
        return _too_many(request)
    services.submit_reply(case, nonce, form.cleaned_data["message"], language=_language())
    return redirect(f"{back}?sent=1")


@require_http_methods(["GET", "POST"])
def status_lookup(request: HttpRequest) -> HttpResponse:
    """Reference + a known identity → a one-time code; the same answer whether or not they
    matched."""
    if request.method == "GET":
        return _public(render(request, "portal/status_lookup.html", {"form": LookupForm()}))
    form = LookupForm(request.POST)
    if not form.is_valid():
        return _public(render(request, "portal/status_lookup.html", {"form": form}, status=400))
    reference = form.cleaned_data["reference"].strip().upper()
    if not ratelimit.hit_all((("lookup_ip", _ip(request)), ("lookup_ref", reference))):
        return _too_many(request)
    challenge = services.request_code(reference, form.cleaned_data["identity"],
                                      language=_language())
    return _public(render(request, "portal/status_code.html",
                          {"form": CodeForm(initial={"challenge": challenge})}))


@require_POST
def status_code(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _public(render(request, "portal/status_code.html", {"form": form}, status=400))
    if not ratelimit.hit("code_ip", _ip(request)):
        return _too_many(request)
    outcome, case = services.verify_code(form.cleaned_data["challenge"],
                                         form.cleaned_data["code"])
    if outcome == "ok" and case is not None:
        response = redirect("portal:granted")
        response.set_cookie(services.GRANT_COOKIE, services.grant_value(case.reference),
                            max_age=services.GRANT_SECONDS, httponly=True, samesite="Lax",
                            secure=request.is_secure())
        return response
    if outcome == "exhausted":
        return _public(render(request, "portal/status_lookup.html", {
            "form": LookupForm(),
            "error": _("This code can no longer be used. Ask for a new one.")}, status=400))
    return _public(render(request, "portal/status_code.html", {
        "form": CodeForm(initial={"challenge": form.cleaned_data["challenge"]}),
        "error": _("That code is not right. Check it and try again.")}, status=400))
