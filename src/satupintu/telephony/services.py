"""CTI events in: raw first (inbox channel ``phone``), then applied to the call, idempotently.

``receive_event`` is what the API calls: it finds the client from our dialled number (or the
known call), refuses what cannot be placed (unknown number, unknown call), stores the event
raw with the PBX's event id and processes it. ``process_event`` (the registered processor)
records the step's time on the call, recomputes the durations from all the times it has,
writes the call entry on the case timeline when the call ends and when wrap-up is done, and
sends the screen pop to the agent whose phone rings.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client, User
from satupintu.accounts.permissions import client_ids
from satupintu.cases import live
from satupintu.cases import services as cases
from satupintu.cases.models import ACTIVE_STATUSES, Case, CaseEvent, Channel
from satupintu.customers.identity import IdentityKind, normalise_phone
from satupintu.customers.models import Customer
from satupintu.customers.services import find_by_identity, find_or_create_contact
from satupintu.inbox import services as inbox
from satupintu.inbox.models import InboundMessage, InboundStatus
from satupintu.telephony.models import AgentExtension, Call, CallState, CtiNumber
from satupintu.web.consumers import user_group

log = logging.getLogger(__name__)

CHANNEL = Channel.PHONE
EVENT_TYPES = ("ringing", "answered", "held", "resumed", "transferred", "ended", "wrapup_done")


@dataclass
class Outcome:
    """What the API answers: an HTTP status and its JSON body."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


def _number(raw: str) -> str:
    try:
        return normalise_phone(raw) if raw else ""
    except ValidationError:
        return ""


def _line_and_party(event: dict[str, Any]) -> tuple[str, str]:
    """(our number, the customer's number) by direction."""
    if event.get("direction") == Call.Direction.OUTBOUND:
        return event.get("caller", ""), event.get("dialled", "")
    return event.get("dialled", ""), event.get("caller", "")


def _error(status: int, code: str, message: str) -> Outcome:
    return Outcome(status, {"code": code, "message": message})


def receive_event(event: dict[str, Any], *, scope: set[int]) -> Outcome:
    """Store and apply one CTI event for a caller that may see the clients in ``scope``.
    ``event`` is validated input (the API schema): ``at`` is a datetime."""
    line, _party = _line_and_party(event)
    client: Client | None = None
    if line:
        row = CtiNumber.objects.select_related("client").filter(number=_number(line)).first()
        if row is not None:
            client = row.client
    if client is None:
        calls = list(Call.objects.filter(call_id=event["call_id"], client_id__in=scope)
                     .select_related("client")[:2])
        if len(calls) == 1:
            client = calls[0].client
    if client is None:
        if event["type"] == "ringing":
            return _error(422, "unknown_number",
                          _("The dialled number is not one of a client's numbers."))
        return _error(409, "unknown_call",
                      _("No call with this call id has rung yet; send its ringing event "
                        "first."))
    if client.pk not in scope:
        return _error(404, "not_found", _("Not found."))
    if event["type"] != "ringing" and not Call.objects.filter(
            client=client, call_id=event["call_id"]).exists():
        return _error(409, "unknown_call",
                      _("No call with this call id has rung yet; send its ringing event "
                        "first."))
    at = event["at"]
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    raw = {**event, "at": at.astimezone(UTC).isoformat()}
    message, created = inbox.store_raw(
        CHANNEL, f"{client.pk}:{event['event_id']}", json.dumps(raw).encode(), client=client,
        meta={"type": event["type"], "call_id": event["call_id"][:200]})
    if created:
        message = inbox.process(message)
    return _answer(message, client, event["call_id"], duplicate=not created)


def _answer(message: InboundMessage, client: Client, call_id: str, *,
            duplicate: bool) -> Outcome:
    call = Call.objects.select_related("case").filter(client=client, call_id=call_id).first()
    body: dict[str, Any] = {"event_status": message.status, "duplicate": duplicate}
    if call is not None:
        body.update(call_id=call.call_id, state=call.state, talk_s=call.talk_seconds,
                    hold_s=call.hold_seconds, acw_s=call.acw_seconds,
                    case=call.case.reference if call.case else None)
    if message.status == InboundStatus.QUARANTINED:
        return _error(422, "rejected", message.reason)
    return Outcome(202 if message.status == InboundStatus.FAILED else 200, body)


# --- processing -----------------------------------------------------------------------------

def _agent(client: Client, value: str) -> User | None:
    """A user by username or extension, and only one who works for this client."""
    value = (value or "").strip()
    if not value:
        return None
    user = User.objects.filter(username=value, is_active=True).first()
    if user is None:
        ext = AgentExtension.objects.select_related("user").filter(extension=value).first()
        user = ext.user if ext is not None and ext.user.is_active else None
    if user is None or client.pk not in client_ids(user):
        return None
    return user


def _customer(client: Client, number: str) -> Customer | None:
    if not number:
        return None
    # The same number on WhatsApp is the same person: do not open a second customer.
    known = find_by_identity(client, IdentityKind.WHATSAPP, number)
    if known is not None and find_by_identity(client, IdentityKind.PHONE, number) is None:
        return known
    try:
        return find_or_create_contact(client, IdentityKind.PHONE, number)
    except ValidationError:
        return None


def _case_for(client: Client, customer: Customer, at: datetime) -> Case:
    case = (Case.objects.filter(customer=customer, status__in=ACTIVE_STATUSES)
            .order_by("-updated_at", "-id").first())
    if case is not None:
        return case
    return cases.create_case(client, customer, _("Phone call"), by=None, channel=CHANNEL,
                             now=min(at, timezone.now()))


def _pop(call: Call, agent: User | None) -> None:
    if agent is None or agent.pk in call.popped_to:
        return
    call.popped_to = [*call.popped_to, agent.pk]
    payload = {"kind": "screen_pop", "call": call.call_id,
               "customer_url": reverse("customers:detail", args=[call.customer_id])
               if call.customer_id else "",
               "case": call.case.reference if call.case else "",
               "case_url": reverse("cases:detail", args=[call.case.reference])
               if call.case else ""}
    group = user_group(agent.pk)
    transaction.on_commit(lambda: live.send_now([group], payload))


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds()))


def hold_seconds(holds: list[dict[str, str]], answered: datetime, ended: datetime) -> int:
    total, start = 0, None
    for step in sorted(holds, key=lambda h: (h["at"], h["kind"] == "resumed")):
        at = datetime.fromisoformat(step["at"])
        if step["kind"] == "held" and start is None:
            start = at
        elif step["kind"] == "resumed" and start is not None:
            total += _seconds(max(start, answered), min(at, ended))
            start = None
    if start is not None and start < ended:
        total += _seconds(max(start, answered), ended)
    return total


def recompute(call: Call) -> None:
    """Durations and state from the step times only (order of arrival does not matter)."""
    talk = hold = acw = 0
    if call.answered_at and call.ended_at:
        span = _seconds(call.answered_at, call.ended_at)
        hold = min(span, hold_seconds(call.holds, call.answered_at, call.ended_at))
        talk = span - hold
    if call.ended_at and call.wrapup_done_at:
        acw = _seconds(call.ended_at, call.wrapup_done_at)
    call.talk_seconds, call.hold_seconds, call.acw_seconds = talk, hold, acw
    on_hold = False
    for step in sorted(call.holds, key=lambda h: (h["at"], h["kind"] == "resumed")):
        on_hold = step["kind"] == "held"
    if call.wrapup_done_at:
        call.state = CallState.DONE
    elif call.ended_at:
        call.state = CallState.ENDED
    elif on_hold:
        call.state = CallState.HELD
    elif call.answered_at:
        call.state = CallState.ANSWERED
    else:
        call.state = CallState.RINGING


def _clock(seconds: int) -> str:
    return f"{seconds // 60:d}:{seconds % 60:02d}"


def _timeline(call: Call, phase: str, at: datetime) -> CaseEvent | None:
    if call.case_id is None:
        return None
    data = {"call_id": call.call_id, "phase": phase, "direction": call.direction,
            "answered": call.answered_at is not None, "talk_s": call.talk_seconds,
            "hold_s": call.hold_seconds, "acw_s": call.acw_seconds, "queue": call.queue,
            "agent": call.agent.get_username() if call.agent else "",
            "transfers": len(call.transfers)}
    if phase == "wrapup_done":
        body = _("Wrap-up done: after-call work %(acw)s.") % {"acw": _clock(call.acw_seconds)}
    elif call.answered_at is None:
        body = _("Missed call (not answered).")
    else:
        body = _("Call ended: talk %(talk)s, hold %(hold)s.") % {
            "talk": _clock(call.talk_seconds), "hold": _clock(call.hold_seconds)}
    return CaseEvent.objects.create(case_id=call.case_id, kind=CaseEvent.Kind.CALL,
                                    channel=CHANNEL, actor=call.agent, body=body, data=data,
                                    created_at=min(at, timezone.now()))


def _earliest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at < current else current


def process_event(message: InboundMessage) -> CaseEvent | None:
    """The registered processor for channel ``phone``."""
    event = json.loads(message.raw)
    client = message.client
    if client is None:
        raise inbox.Quarantine(_("A call event without a client."))
    at = datetime.fromisoformat(event["at"])
    kind = event["type"]
    call = (Call.objects.select_for_update(of=("self",)).select_related("case", "agent")
            .filter(client=client, call_id=event["call_id"]).first())
    if call is None and kind != "ringing":
        raise LookupError("call not found")  # cannot happen after the API's check: retry
    agent = _agent(client, event.get("agent", ""))
    if call is None:
        line, party = _line_and_party(event)
        number_row = CtiNumber.objects.filter(number=_number(line)).first()
        call = Call(client=client, call_id=event["call_id"][:200],
                    direction=event.get("direction") or Call.Direction.INBOUND,
                    from_number=_number(event.get("caller", "")) or event.get("caller", "")[:40],
                    to_number=_number(event.get("dialled", "")) or event.get("dialled", "")[:40],
                    queue=(event.get("queue") or (number_row.queue if number_row else ""))[:100])
        call.customer = _customer(client, _number(party))
        if call.customer is not None:
            call.case = _case_for(client, call.customer, at)
        call.save()
    was_ended, was_done = call.ended_at is not None, call.wrapup_done_at is not None
    if kind == "ringing":
        call.ringing_at = _earliest(call.ringing_at, at)
    elif kind == "answered":
        call.answered_at = _earliest(call.answered_at, at)
    elif kind in ("held", "resumed"):
        step = {"kind": kind, "at": at.isoformat()}
        if step not in call.holds:
            call.holds = sorted([*call.holds, step], key=lambda h: h["at"])
    elif kind == "transferred":
        target = _agent(client, event.get("transfer_to", ""))
        call.transfers = [*call.transfers, {
            "at": at.isoformat(), "from": call.agent.get_username() if call.agent else "",
            "to": target.get_username() if target else str(event.get("transfer_to", ""))[:100],
            "queue": str(event.get("queue", ""))[:100]}]
        if target is not None:
            call.agent = target
            agent = target
    elif kind == "ended":
        call.ended_at = _earliest(call.ended_at, at)
    elif kind == "wrapup_done":
        call.wrapup_done_at = _earliest(call.wrapup_done_at, at)
    if agent is not None and kind in ("ringing", "answered") and (
            call.agent is None or kind == "answered"):
        call.agent = agent
    if event.get("queue") and not call.queue:
        call.queue = str(event["queue"])[:100]
    recompute(call)
    if kind in ("ringing", "answered", "transferred"):
        _pop(call, agent)
    call.save()
    timeline = None
    if call.ended_at is not None and not was_ended:
        timeline = _timeline(call, "ended", call.ended_at)
    if call.wrapup_done_at is not None and call.ended_at is not None and not (
            was_done and was_ended):
        timeline = _timeline(call, "wrapup_done", call.wrapup_done_at) or timeline
    return timeline
