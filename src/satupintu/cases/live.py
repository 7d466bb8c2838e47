"""Real-time case notices over the channel layer, sent only once the writing transaction commits.

Payloads carry codes and references, never text: the page that receives them words the notice
in its reader's language. Group names come from ``satupintu.web.consumers``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from satupintu.web.consumers import team_group, user_group

if TYPE_CHECKING:
    from satupintu.cases.models import Case

log = logging.getLogger(__name__)


def send_now(groups: Iterable[str], payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in dict.fromkeys(groups):
        try:
            async_to_sync(layer.group_send)(group, {"type": "notify", "payload": payload})
        except Exception:  # a notice must never break the write that caused it
            log.exception("could not publish to %s", group)


def publish_on_commit(groups: Iterable[str], payload: dict[str, Any]) -> None:
    groups = list(groups)
    if groups:
        transaction.on_commit(lambda: send_now(groups, payload))


def case_groups(case: Case, *, extra_users: Iterable[int | None] = ()) -> list[str]:
    """The assignee's group, else the team's; plus any extra users (e.g. the team leader)."""
    groups = []
    if case.assignee_id:
        groups.append(user_group(case.assignee_id))
    elif case.team_id:
        groups.append(team_group(case.team_id))
    groups.extend(user_group(u) for u in extra_users if u)
    return groups


def publish_case(case: Case, kind: str, *, extra_users: Iterable[int | None] = (),
                 **data: Any) -> None:
    """``kind``: customer_message, assigned, sla_warning, sla_breach, sla_escalated."""
    publish_on_commit(case_groups(case, extra_users=extra_users),
                      {"kind": kind, "case": case.reference, "subject": case.subject, **data})
