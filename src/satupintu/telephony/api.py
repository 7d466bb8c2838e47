"""The CTI event API a PBX bridge (Asterisk ARI, FreeSWITCH ESL, a cloud PBX) posts to.

See docs/cti.md for the event format and the bridges.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from satupintu.accounts.permissions import request_client_ids, require_perm
from satupintu.accounts.roles import Perm
from satupintu.config.schemas import Strict
from satupintu.telephony import services

router = Router(tags=["telephony"])

EventType = Literal["ringing", "answered", "held", "resumed", "transferred", "ended",
                    "wrapup_done"]


class CtiEventIn(Strict):
    event_id: str = Field(min_length=1, max_length=200)
    call_id: str = Field(min_length=1, max_length=200)
    type: EventType
    at: datetime
    direction: Literal["inbound", "outbound"] = "inbound"
    caller: str = Field(default="", max_length=40)
    dialled: str = Field(default="", max_length=40)
    agent: str = Field(default="", max_length=150)
    queue: str = Field(default="", max_length=100)
    transfer_to: str = Field(default="", max_length=150)


class CallStateOut(Schema):
    event_status: str
    duplicate: bool
    call_id: str | None = None
    state: str | None = None
    talk_s: int | None = None
    hold_s: int | None = None
    acw_s: int | None = None
    case: str | None = None


class ErrorOut(Schema):
    code: str
    message: str


@router.post("/events", response={200: CallStateOut, 202: CallStateOut, 404: ErrorOut,
                                  409: ErrorOut, 422: ErrorOut},
             summary="One CTI event: ringing, answered, held, resumed, transferred, ended, "
                     "wrapup_done (idempotent on event_id)")
def post_event(request: HttpRequest, data: CtiEventIn) -> Status:
    require_perm(request.user, Perm.INTEGRATE_TELEPHONY)
    outcome = services.receive_event(data.model_dump(), scope=request_client_ids(request))
    return Status(outcome.status, outcome.body)
