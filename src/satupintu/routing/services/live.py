"""After-commit routing notices: offers and presence to the agent, "something moved" to the
wallboard. Payloads carry ids and codes, never personal data; a failing channel layer
(Redis down) is logged and never breaks the write (``cases.live.send_now``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from satupintu.cases.live import publish_on_commit
from satupintu.web.consumers import user_group

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from satupintu.routing.models import AgentPresence, WorkItem


def wallboard_group(client_id: int) -> str:
    return f"wallboard.{client_id}"


def offer_payload(item: WorkItem, *, reference: str, subject: str, queue: str) -> dict[str, Any]:
    return {
        "kind": "offer", "item": item.pk, "case": reference, "subject": subject,
        "channel": item.channel, "queue": queue,
        "expires": item.offer_expires_at.isoformat() if item.offer_expires_at else None,
    }


def offer(item: WorkItem, *, reference: str, subject: str, queue: str) -> None:
    if item.agent_id:
        publish_on_commit([user_group(item.agent_id)],
                          offer_payload(item, reference=reference, subject=subject, queue=queue))


def offers(rows: list[tuple[WorkItem, str, str, str]]) -> None:
    """Many offers of one pass: sent together after commit (one hop to the channel layer,
    not one per offer); each failure is logged and skipped."""
    messages = [(user_group(item.agent_id),
                 offer_payload(item, reference=ref, subject=subject, queue=queue))
                for item, ref, subject, queue in rows if item.agent_id]
    if messages:
        transaction.on_commit(lambda: send_many(messages))


def send_many(messages: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def _send() -> None:
        for group, payload in messages:
            try:
                await layer.group_send(group, {"type": "notify", "payload": payload})
            except Exception:  # Redis down: routing goes on, the page re-reads later
                log.warning("could not publish to %s", group, exc_info=True)

    try:
        async_to_sync(_send)()
    except Exception:
        log.exception("could not publish routing notices")


def withdrawn(item_id: int, agent_id: int) -> None:
    publish_on_commit([user_group(agent_id)], {"kind": "offer_withdrawn", "item": item_id})


def presence(p: AgentPresence, client_ids: Iterable[int] = ()) -> None:
    publish_on_commit([user_group(p.user_id)],
                      {"kind": "presence", "state": p.state,
                       "reason": p.reason.code if p.reason_id and p.reason else ""})
    publish_on_commit([wallboard_group(c) for c in client_ids], {"kind": "presence"})


def routing(client_ids: Iterable[int]) -> None:
    publish_on_commit([wallboard_group(c) for c in client_ids], {"kind": "routing"})
