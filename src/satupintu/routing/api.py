"""Routing endpoints: an agent's presence, heartbeat and offers; supervisors' actions.

Agents act on their own presence and offers; a supervisor sets another agent's state or
re-assigns a contact only within the clients they see (others are 404), audited.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from satupintu.accounts.models import User
from satupintu.accounts.permissions import (
    get_visible_or_404,
    request_client_ids,
    require_perm,
    scoped,
)
from satupintu.accounts.roles import Perm
from satupintu.config.schemas import Strict
from satupintu.routing.models import AgentPresence, WorkItem, WorkStatus
from satupintu.routing.services import presence, work

router = Router(tags=["routing"])


class StateIn(Strict):
    state: str = Field(min_length=1, max_length=12)
    reason: str = Field(default="", max_length=40)
    connection: str = Field(default="", max_length=64)


class AgentStateIn(Strict):
    state: str = Field(min_length=1, max_length=12)
    reason: str = Field(default="", max_length=40)


class HeartbeatIn(Strict):
    connection: str = Field(min_length=1, max_length=64)


class CompleteIn(Strict):
    wrap_up: bool = True


class ReassignIn(Strict):
    to_user: int


class PresenceOut(Schema):
    user: str
    state: str
    reason: str
    since: datetime
    connection: str
    holds_presence: bool
    load: dict[str, int]
    capacity: dict[str, int]
    missed_offers: int


class ItemOut(Schema):
    id: int
    case: str
    subject: str
    channel: str
    queue: str
    status: str
    offered_at: datetime | None
    expires: datetime | None
    accepted_at: datetime | None


class ReasonOut(Schema):
    code: str
    name: str
    paid: bool


def _presence_out(p: AgentPresence, user: User, connection: str = "") -> PresenceOut:
    return PresenceOut(
        user=user.username, state=p.state, reason=p.reason.code if p.reason_id else "",
        since=p.since, connection=p.connection,
        holds_presence=not connection or not p.connection or p.connection == connection,
        load={c: p.load(c) for c in ("call", "chat", "email")},
        capacity={c: p.capacity(c) for c in ("call", "chat", "email")},
        missed_offers=p.missed_offers)


def _item_out(item: WorkItem) -> ItemOut:
    return ItemOut(id=item.pk, case=item.case.reference, subject=item.case.subject,
                   channel=item.channel, queue=item.queue.code, status=item.status,
                   offered_at=item.offered_at, expires=item.offer_expires_at,
                   accepted_at=item.accepted_at)


def _me(request: HttpRequest) -> User:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    return request.user  # type: ignore[return-value]


def _item(request: HttpRequest, item_id: int) -> WorkItem:
    qs = scoped(WorkItem.objects.select_related("case", "queue"), request)
    return get_visible_or_404(qs, pk=item_id)


@router.get("/presence", response=PresenceOut)
def my_presence(request: HttpRequest) -> PresenceOut:
    user = _me(request)
    return _presence_out(presence.presence_of(user), user)


@router.put("/presence", response=PresenceOut)
def set_my_presence(request: HttpRequest, payload: StateIn) -> PresenceOut:
    user = _me(request)
    presence.set_state(user, payload.state, reason_code=payload.reason,
                       connection=payload.connection, request=request)
    return _presence_out(presence.presence_of(user), user, payload.connection)


@router.post("/presence/heartbeat", response=PresenceOut)
def heartbeat(request: HttpRequest, payload: HeartbeatIn) -> PresenceOut:
    user = _me(request)
    return _presence_out(presence.heartbeat(user, payload.connection), user,
                         payload.connection)


@router.get("/reason-codes", response=list[ReasonOut])
def reason_codes(request: HttpRequest) -> list[ReasonOut]:
    user = _me(request)
    lang = getattr(request, "LANGUAGE_CODE", "id")
    return [ReasonOut(code=r.code, name=r.label(lang), paid=r.paid)
            for r in presence.reasons_for(user)]


@router.get("/offers", response=list[ItemOut])
def my_offers(request: HttpRequest) -> list[ItemOut]:
    """Offers open to me, contacts I handle and contacts I wrap up."""
    user = _me(request)
    items = scoped(WorkItem.objects.select_related("case", "queue"), request).filter(
        agent=user, status__in=[WorkStatus.OFFERED, WorkStatus.ASSIGNED, WorkStatus.WRAP_UP]
    ).order_by("offered_at", "id")
    return [_item_out(i) for i in items]


@router.post("/items/{item_id}/accept", response=ItemOut)
def accept(request: HttpRequest, item_id: int) -> ItemOut:
    user = _me(request)
    work.accept(_item(request, item_id), by=user)
    return _item_out(_item(request, item_id))


@router.post("/items/{item_id}/decline", response=ItemOut)
def decline(request: HttpRequest, item_id: int) -> ItemOut:
    user = _me(request)
    work.decline(_item(request, item_id), by=user)
    return _item_out(_item(request, item_id))


@router.post("/items/{item_id}/complete", response=ItemOut)
def complete(request: HttpRequest, item_id: int, payload: CompleteIn) -> ItemOut:
    user = _me(request)
    work.complete(_item(request, item_id), by=user, wrap_up=payload.wrap_up)
    return _item_out(_item(request, item_id))


@router.post("/wrap-up/end", response=PresenceOut)
def end_wrap_up(request: HttpRequest) -> PresenceOut:
    user = _me(request)
    work.end_wrap_up(user, by=user)
    return _presence_out(presence.presence_of(user), user)


def _agent(request: HttpRequest, user_id: int) -> User:
    qs = User.objects.filter(clients__in=request_client_ids(request)).distinct()
    return get_visible_or_404(qs, pk=user_id)


@router.put("/agents/{user_id}/presence", response=PresenceOut)
def set_agent_presence(request: HttpRequest, user_id: int, payload: AgentStateIn) -> PresenceOut:
    """A supervisor changes an agent's state (audited)."""
    require_perm(request.user, Perm.SUPERVISE)
    agent = _agent(request, user_id)
    presence.set_state(agent, payload.state, reason_code=payload.reason,
                       by=request.user, request=request)  # type: ignore[arg-type]
    return _presence_out(presence.presence_of(agent), agent)


@router.post("/items/{item_id}/reassign", response=ItemOut)
def reassign(request: HttpRequest, item_id: int, payload: ReassignIn) -> ItemOut:
    """A supervisor hands a live contact to another agent of its client (audited)."""
    require_perm(request.user, Perm.SUPERVISE)
    item = _item(request, item_id)
    to_user = _agent(request, payload.to_user)
    work.reassign(item, to_user, by=request.user, request=request)  # type: ignore[arg-type]
    return _item_out(_item(request, item_id))
