"""Inbox operations: what came in and could not be handled, what could not be sent.

Administrators see every client (and messages no client could be found for); supervisors
see their own clients. Personal data is masked in the lists; the raw message is for
administrators only and every look at it is audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from satupintu.accounts.permissions import (
    get_visible_or_404,
    has_perm,
    request_client_ids,
    require_perm,
    scoped,
)
from satupintu.accounts.roles import ALL_CLIENT_ROLES, Perm
from satupintu.customers.masking import mask_identity
from satupintu.inbox import services
from satupintu.inbox.models import (
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
)
from satupintu.portal.services import mask_text

PAGE_SIZE = 50
PROBLEM_IN = [InboundStatus.QUARANTINED, InboundStatus.FAILED]
PROBLEM_OUT = [OutboundStatus.FAILED, OutboundStatus.DEAD]
_SENDER_KEYS = ("from", "sender", "email", "phone", "wa_id", "visitor")


def visible_inbound(request: HttpRequest) -> QuerySet[InboundMessage]:
    """The request's clients; messages of no known client only for all-client roles."""
    where = Q(client_id__in=request_client_ids(request))
    if getattr(request.user, "role", None) in ALL_CLIENT_ROLES:
        where |= Q(client__isnull=True)
    return InboundMessage.objects.filter(where)


def visible_outbound(request: HttpRequest) -> QuerySet[OutboundMessage]:
    return scoped(OutboundMessage.objects.all(), request, "case__client")


def _masked_sender(meta: dict[str, Any]) -> str:
    for key in _SENDER_KEYS:
        value = meta.get(key) if isinstance(meta, dict) else None
        if value:
            text = str(value)
            return mask_identity("email" if "@" in text else "phone", text)
    return ""


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_INBOX)
    inbound_all = visible_inbound(request)
    counts = dict(inbound_all.values_list("status").annotate(n=Count("id")).order_by())
    inbound = (inbound_all.filter(status__in=PROBLEM_IN).select_related("client")
               .order_by("-received_at", "-id"))
    page = Paginator(inbound, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"m": m, "sender": _masked_sender(m.meta), "reason": mask_text(m.reason),
             "error": mask_text(m.last_error.splitlines()[-1] if m.last_error else "")[:200]}
            for m in page]
    outbound = list(visible_outbound(request).filter(status__in=PROBLEM_OUT)
                    .select_related("case", "case__client").order_by("-created_at", "-id")[:200])
    out_rows = [{"m": m, "recipient": mask_identity(
        "email" if "@" in m.recipient else "phone", m.recipient),
        "error": mask_text(m.last_error.splitlines()[-1] if m.last_error else "")[:200]}
        for m in outbound]
    return render(request, "inbox/overview.html", {
        "page": page, "rows": rows, "out_rows": out_rows,
        "counts": [(label, counts.get(value, 0)) for value, label in InboundStatus.choices],
        "can_raw": has_perm(request.user, Perm.VIEW_RAW_MESSAGES),
    })


@login_required
@require_POST
def retry_inbound(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_INBOX)
    message = get_visible_or_404(visible_inbound(request), pk=pk)
    try:
        if message.status == InboundStatus.QUARANTINED:
            message = services.retry_quarantined(message, by=request.user)
        elif message.status == InboundStatus.FAILED:
            message = services.process(message)
        else:
            messages.info(request, _("This message needs no retry."))
            return redirect("inbox:overview")
    except LookupError:
        messages.error(request, _("No channel adapter is installed for this message."))
        return redirect("inbox:overview")
    if message.status == InboundStatus.PROCESSED:
        messages.success(request, _("The message was processed."))
    else:
        messages.warning(request, _("The message is still not processed: %(reason)s") % {
            "reason": mask_text(message.reason or message.get_status_display())})
    return redirect("inbox:overview")


@login_required
def raw_inbound(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_INBOX)
    require_perm(request.user, Perm.VIEW_RAW_MESSAGES)
    message = get_visible_or_404(visible_inbound(request).select_related("client"), pk=pk)
    text, truncated = services.reveal_raw(message, by=request.user, request=request)
    response = render(request, "inbox/raw.html",
                      {"m": message, "text": text, "truncated": truncated})
    response["Content-Security-Policy"] = "default-src 'self'; script-src 'none'"
    return response


@login_required
@require_POST
def retry_outbound(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_INBOX)
    message = get_visible_or_404(visible_outbound(request), pk=pk)
    services.retry_outbound(message, by=request.user, request=request)
    messages.success(request, _("The message is queued to be sent again."))
    return redirect("inbox:overview")
