"""WhatsApp endpoints: the 24-hour window of a case and sending an approved template."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from satupintu.accounts.permissions import get_visible_or_404, require_perm, scoped
from satupintu.accounts.roles import Perm
from satupintu.cases.models import Case
from satupintu.config.schemas import Strict
from satupintu.whatsapp import services
from satupintu.whatsapp.models import WhatsAppTemplate

router = Router(tags=["whatsapp"])


class TemplateOut(Schema):
    id: int
    name: str
    language: str
    body: str
    params: int


class WindowOut(Schema):
    open: bool
    last_inbound_at: datetime | None
    closes_at: datetime | None
    templates: list[TemplateOut]


class TemplateIn(Strict):
    template_id: int
    params: list[str] = Field(default_factory=list, max_length=20)


class SentOut(Schema):
    event_id: int
    body: str


def _case(request: HttpRequest, reference: str) -> Case:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    return get_visible_or_404(scoped(Case.objects.all(), request), reference=reference)


@router.get("/cases/{reference}/window", response=WindowOut,
            summary="Whether free text may be sent (24-hour window) and the templates")
def window(request: HttpRequest, reference: str) -> WindowOut:
    case = _case(request, reference)
    last = services.last_inbound_at(case)
    templates = WhatsAppTemplate.objects.filter(client_id=case.client_id, approved=True)
    return WindowOut(open=services.window_open(case), last_inbound_at=last,
                     closes_at=last + services.WINDOW if last else None,
                     templates=[TemplateOut(id=t.pk, name=t.name, language=t.language,
                                            body=t.body, params=t.param_count)
                                for t in templates])


@router.post("/cases/{reference}/template", response={201: SentOut},
             summary="Reply with an approved WhatsApp template (also outside the window)")
def send_template(request: HttpRequest, reference: str, data: TemplateIn) -> Status:
    case = _case(request, reference)
    template = get_visible_or_404(WhatsAppTemplate.objects.filter(client_id=case.client_id),
                                  pk=data.template_id)
    event = services.send_template(case, template, data.params,
                                   by=request.user,  # type: ignore[arg-type]
                                   request=request)
    return Status(201, SentOut(event_id=event.pk, body=event.body))
