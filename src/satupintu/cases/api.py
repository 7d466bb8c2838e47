"""Case endpoints: list, read with timeline, create, note, reply, change status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from satupintu.accounts.permissions import get_visible_or_404, has_perm, require_perm, scoped
from satupintu.accounts.roles import Perm
from satupintu.cases import services
from satupintu.cases.models import Attachment, Case, CaseEvent
from satupintu.cases.models import Status as CaseStatus
from satupintu.config.schemas import Strict
from satupintu.customers.models import Customer
from satupintu.sla import services as sla_services

router = Router(tags=["cases"])




class CaseIn(Strict):
    customer_id: int
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=services.MAX_BODY)
    channel: str = "email"
    priority: str = "normal"


class BodyIn(Strict):
    body: str = Field(min_length=1, max_length=services.MAX_BODY)
    version: int | None = None


class StatusIn(Strict):
    status: str = Field(min_length=1, max_length=40)
    version: int | None = None


class CaseOut(Schema):
    reference: str
    client_id: int
    customer_id: int
    subject: str
    status: str
    client_status: str | None
    priority: str
    channel: str
    reason_id: int | None
    team_id: int | None
    assignee: str | None
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class SlaClockOut(Schema):
    name: str
    state: str
    deadline: datetime
    warn_at: datetime
    met_at: datetime | None
    remaining_s: int


class CaseDetailOut(CaseOut):
    sla: list[SlaClockOut]


class EventOut(Schema):
    id: int
    kind: str
    channel: str
    actor: str | None
    body: str
    data: dict[str, Any]
    created_at: datetime


def _out(case: Case) -> CaseOut:
    return CaseOut(
        reference=case.reference, client_id=case.client_id, customer_id=case.customer_id,
        subject=case.subject, status=case.status,
        client_status=case.client_status.code if case.client_status else None,
        priority=case.priority, channel=case.channel, reason_id=case.reason_id,
        team_id=case.team_id, assignee=case.assignee.get_username() if case.assignee else None,
        tags=[t.name for t in case.tags.all()], version=case.version,
        created_at=case.created_at, updated_at=case.updated_at,
    )


def _cases(request: HttpRequest):  # type: ignore[no-untyped-def]
    return scoped(Case.objects.select_related("assignee", "client_status")
                  .prefetch_related("tags"), request)


def _case_for_work(request: HttpRequest, reference: str) -> Case:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    return get_visible_or_404(_cases(request), reference=reference)


@router.get("", response=list[CaseOut], summary="Cases you may see, newest first")
def list_cases(request: HttpRequest, status: str = "", assignee: str = "",
               customer_id: int | None = None, client_id: int | None = None,
               limit: int = 50, offset: int = 0) -> list[CaseOut]:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    rows = _cases(request)
    if status in CaseStatus.values:
        rows = rows.filter(status=status)
    if assignee == "me":
        rows = rows.filter(assignee=request.user)
    elif assignee == "none":
        rows = rows.filter(assignee__isnull=True)
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if client_id is not None:
        rows = rows.filter(client_id=client_id)
    limit, offset = max(1, min(limit, 200)), max(offset, 0)
    return [_out(c) for c in rows.order_by("-created_at", "-id")[offset:offset + limit]]


@router.get("/{reference}", response=CaseDetailOut, summary="One case, with its SLA clocks")
def get_case(request: HttpRequest, reference: str) -> CaseDetailOut:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    case = get_visible_or_404(_cases(request), reference=reference)
    clocks = sla_services.clocks_for_display(sla_services.evaluate_case(case))
    return CaseDetailOut(**_out(case).model_dump(), sla=[
        SlaClockOut(**{k: c[k] for k in SlaClockOut.model_fields}) for c in clocks])


@router.get("/{reference}/events", response=list[EventOut], summary="The case's timeline")
def list_events(request: HttpRequest, reference: str) -> list[EventOut]:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    case = get_visible_or_404(_cases(request), reference=reference)
    events = case.events.select_related("actor")
    if not has_perm(request.user, Perm.VIEW_OWN_WORK):
        events = events.exclude(kind=CaseEvent.Kind.NOTE)
    return [EventOut(id=e.pk, kind=e.kind, channel=e.channel, body=e.body, data=e.data,
                     actor=e.actor.get_username() if e.actor else None,
                     created_at=e.created_at) for e in events]


@router.post("", response={201: CaseOut}, summary="Open a case for a customer")
def create_case(request: HttpRequest, payload: CaseIn) -> Status:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    customer = get_visible_or_404(scoped(Customer.objects.all(), request),
                                  pk=payload.customer_id)
    case = services.create_case(customer.client, customer, payload.subject,
                                by=request.user, body=payload.body,  # type: ignore[arg-type]
                                channel=payload.channel, priority=payload.priority,
                                request=request)
    return Status(201, _out(case))


@router.post("/{reference}/notes", response={201: CaseOut}, summary="Add an internal note")
def add_note(request: HttpRequest, reference: str, payload: BodyIn) -> Status:
    case = _case_for_work(request, reference)
    services.add_note(case, payload.body, by=request.user, request=request)  # type: ignore[arg-type]
    return Status(201, _out(get_visible_or_404(_cases(request), pk=case.pk)))


@router.post("/{reference}/replies", response={201: CaseOut}, summary="Reply to the customer")
def add_reply(request: HttpRequest, reference: str, payload: BodyIn) -> Status:
    case = _case_for_work(request, reference)
    services.reply(case, payload.body, by=request.user,  # type: ignore[arg-type]
                   expected_version=payload.version, request=request)
    return Status(201, _out(get_visible_or_404(_cases(request), pk=case.pk)))


@router.post("/{reference}/status", response=CaseOut, summary="Change the status")
def change_status(request: HttpRequest, reference: str, payload: StatusIn) -> CaseOut:
    case = _case_for_work(request, reference)
    services.change_status(case, payload.status, by=request.user,  # type: ignore[arg-type]
                           expected_version=payload.version, request=request)
    return _out(get_visible_or_404(_cases(request), pk=case.pk))


class AttachmentOut(Schema):
    id: int
    event_id: int | None
    file_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str | None
    created_at: datetime
    download_url: str


class ErrorOut(Schema):
    code: str
    message: str


def _attachment_out(a: Attachment) -> AttachmentOut:
    from django.urls import reverse

    return AttachmentOut(
        id=a.pk, event_id=a.event_id, file_name=a.original_name, content_type=a.content_type,
        size=a.size, sha256=a.sha256,
        uploaded_by=a.uploaded_by.get_username() if a.uploaded_by else None,
        created_at=a.created_at, download_url=reverse("cases:attachment", args=[a.pk]))


@router.get("/{reference}/attachments", response=list[AttachmentOut],
            summary="The case's files")
def list_attachments(request: HttpRequest, reference: str) -> list[AttachmentOut]:
    from satupintu.cases.views import _attachments

    require_perm(request.user, Perm.VIEW_CLIENTS)
    case = get_visible_or_404(_cases(request), reference=reference)
    return [_attachment_out(a) for a in _attachments(request, case)]


@router.post("/{reference}/attachments", response={201: AttachmentOut, 413: ErrorOut},
             summary="Attach a file (multipart: file, optional note body)")
def add_attachment(request: HttpRequest, reference: str, file: File[UploadedFile],
                   body: Form[str] = "") -> Status:
    case = _case_for_work(request, reference)
    try:
        attachment = services.add_attachment(case, file, by=request.user,  # type: ignore[arg-type]
                                             note=body, request=request)
    except ValidationError as exc:
        if getattr(exc, "code", "") == "too_large":
            return Status(413, ErrorOut(code="file_too_large", message=" ".join(exc.messages)))
        raise
    return Status(201, _attachment_out(attachment))


@router.get("/attachments/{attachment_id}", summary="Download a file (always as attachment)")
def download_attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    from satupintu.cases.views import attachment_response, visible_attachments

    return attachment_response(get_visible_or_404(visible_attachments(request),
                                                  pk=attachment_id))
