"""Public JSON: a case's status for a client's own site or app, by the signed link's token.

No login: the signed token is the credential (the same one the status page takes), and
bad tokens count against the same per-IP limit.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from satupintu.cases.models import Case
from satupintu.portal import links, ratelimit, services

router = Router(tags=["portal"])


class ErrorOut(Schema):
    code: str
    message: str


class MessageOut(Schema):
    from_customer: bool
    at: datetime
    text: str


class StatusOut(Schema):
    reference: str
    client: str
    subject: str
    status: str
    opened: datetime
    updated: datetime
    closed: bool
    messages: list[MessageOut]


@router.get("/status/{token}", auth=None, url_name="public_status",
            response={200: StatusOut, 404: ErrorOut, 429: ErrorOut},
            summary="A case's public status and conversation (token of the signed link); "
                    "?lang=en for English status names")
def case_status(request: HttpRequest, token: str, lang: str = "id") -> Status:
    language = "en" if lang == "en" else "id"
    ip = request.META.get("REMOTE_ADDR") or "unknown"
    with translation.override(language):
        if ratelimit.exceeded("status_ip", ip):
            return Status(429, ErrorOut(code="rate_limited", message=_(
                "Too many attempts. Please wait a few minutes and try again.")))
        reference = links.reference_from_token(token)
        case = (Case.objects.select_related("client", "client_status")
                .filter(reference=reference).first() if reference else None)
        if case is None:
            ratelimit.hit("status_ip", ip)
            return Status(404, ErrorOut(code="not_found", message=_("Not found.")))
        view = services.public_view(case, language)
    return Status(200, StatusOut(
        reference=view["reference"], client=view["client_name"], subject=view["subject"],
        status=view["status_label"], opened=view["opened"], updated=view["updated"],
        closed=view["closed"],
        messages=[MessageOut(from_customer=m["mine"], at=m["when"], text=m["body"])
                  for m in view["messages"]]))
