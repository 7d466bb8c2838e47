"""The webhook Meta calls, the administrators' account page and the demo sandbox."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from satupintu.accounts.permissions import (
    get_visible_or_404,
    require_perm,
    scoped,
)
from satupintu.accounts.roles import Perm
from satupintu.cases.models import Case
from satupintu.web.client_forms import client_choices, client_form_page
from satupintu.whatsapp import services
from satupintu.whatsapp.forms import AccountForm, SandboxForm, TemplateForm
from satupintu.whatsapp.models import SandboxMessage, WhatsAppAccount, WhatsAppTemplate


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest) -> HttpResponse:
    """No login: Meta authenticates with the verify token (GET) and the body signature."""
    if request.method == "GET":
        challenge = services.handshake(request.GET.get("hub.mode", ""),
                                       request.GET.get("hub.verify_token", ""),
                                       request.GET.get("hub.challenge", ""))
        if challenge is None:
            return JsonResponse({"code": "verify_token_invalid",
                                 "message": _("The verify token does not match.")}, status=403)
        return HttpResponse(challenge, content_type="text/plain")
    result = services.receive_webhook(request.body,
                                      request.headers.get("X-Hub-Signature-256", ""),
                                      request=request)
    return JsonResponse(result.body, status=result.status)


def _accounts(request: HttpRequest) -> Any:
    return scoped(WhatsAppAccount.objects.select_related("client"), request)


def _templates(request: HttpRequest) -> Any:
    return scoped(WhatsAppTemplate.objects.select_related("client"), request)


@login_required
def accounts(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    return render(request, "whatsapp/accounts.html", {
        "accounts": _accounts(request), "templates": _templates(request),
        "webhook": request.build_absolute_uri(reverse("whatsapp:webhook"))})


def _form_page(request: HttpRequest, form: Any, save: Any, title: str) -> HttpResponse:
    form.fields["client"].choices = client_choices(request)
    return client_form_page(request, form, save, title=title, template="whatsapp/form.html",
                            done="whatsapp:accounts")


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    account = get_visible_or_404(_accounts(request), pk=pk) if pk else None
    initial = {} if account is None else {
        "client": account.client_id, "phone_number_id": account.phone_number_id,
        "display_number": account.display_number, "api_base": account.api_base,
        "is_active": account.is_active}
    form = AccountForm(request.POST if request.method == "POST" else None, initial=initial)

    def save(client: Any, data: dict[str, Any]) -> None:
        services.save_account(request.user, client, data, account=account,  # type: ignore[arg-type]
                              request=request)

    title = _("New WhatsApp account") if account is None else _("Edit WhatsApp account")
    return _form_page(request, form, save, title)


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    template = get_visible_or_404(_templates(request), pk=pk) if pk else None
    initial = {} if template is None else {
        "client": template.client_id, "name": template.name, "language": template.language,
        "body": template.body, "approved": template.approved}
    form = TemplateForm(request.POST if request.method == "POST" else None, initial=initial)

    def save(client: Any, data: dict[str, Any]) -> None:
        services.save_template(request.user, client, name=data["name"],  # type: ignore[arg-type]
                               language=data["language"], body=data["body"],
                               approved=data["approved"], template=template, request=request)

    title = _("New WhatsApp template") if template is None else _("Edit WhatsApp template")
    return _form_page(request, form, save, title)


# --- demo sandbox -----------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def sandbox(request: HttpRequest) -> HttpResponse:
    """Play the customer's phone: send a WhatsApp message in, read what the agents sent."""
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    accounts_qs = _accounts(request).filter(is_active=True)
    form = SandboxForm(request.POST if request.method == "POST" else None)
    form.fields["account"].choices = [(a.pk, f"{a.client.name} — {a.display_number}")
                                      for a in accounts_qs]
    if request.method == "POST" and form.is_valid():
        account = get_visible_or_404(accounts_qs, pk=form.cleaned_data["account"])
        try:
            result = services.sandbox_customer_message(
                account, form.cleaned_data["number"], form.cleaned_data["name"],
                form.cleaned_data["text"], by=request.user,  # type: ignore[arg-type]
                request=request)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            if result.status == 200:
                messages.success(request, _("The message went through the webhook."))
                return redirect("whatsapp:sandbox")
            form.add_error(None, str(result.body.get("message", result.status)))
    sent = []
    for row in SandboxMessage.objects.filter(account__in=accounts_qs).select_related(
            "account__client")[:50]:
        payload = json.loads(row.payload_encrypted)
        if payload.get("type") == "text":
            text = (payload.get("text") or {}).get("body", "")
        else:
            template = payload.get("template") or {}
            params = [p.get("text", "") for c in template.get("components") or []
                      for p in c.get("parameters") or []]
            text = f"[{template.get('name', '')}] " + " | ".join(params)
        sent.append({"row": row, "to": "+" + str(payload.get("to", "")), "text": text})
    return render(request, "whatsapp/sandbox.html", {"form": form, "sent": sent})


@csrf_exempt
@require_POST
def sandbox_messages(request: HttpRequest, phone_number_id: str) -> HttpResponse:
    """The demo's fake Cloud API ``POST /{phone_number_id}/messages`` (bearer token)."""
    status, body = services.sandbox_record(phone_number_id,
                                           request.headers.get("Authorization", ""),
                                           request.body)
    return JsonResponse(body, status=status)


# --- the case page's WhatsApp panel -----------------------------------------------------------

def _case_for_work(request: HttpRequest, reference: str) -> Case:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    return get_visible_or_404(scoped(Case.objects.all(), request), reference=reference)


@login_required
def case_panel(request: HttpRequest, reference: str) -> HttpResponse:
    """The 24-hour window of a WhatsApp case and the template picker (loaded by htmx)."""
    case = _case_for_work(request, reference)
    closes = services.window_closes_at(case)
    return render(request, "whatsapp/_case_panel.html", {
        "case": case, "open": services.window_open(case), "closes_at": closes,
        "templates": WhatsAppTemplate.objects.filter(client_id=case.client_id, approved=True)})


@login_required
@require_POST
def case_template(request: HttpRequest, reference: str) -> HttpResponse:
    case = _case_for_work(request, reference)
    raw = request.POST.get("template", "")
    template = get_visible_or_404(WhatsAppTemplate.objects.filter(client_id=case.client_id),
                                  pk=int(raw) if raw.isdigit() else 0)
    params = [line.strip() for line in request.POST.get("params", "").splitlines()
              if line.strip()]
    try:
        services.send_template(case, template, params, by=request.user,  # type: ignore[arg-type]
                               request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Template sent."))
    return redirect("cases:detail", reference=case.reference)
