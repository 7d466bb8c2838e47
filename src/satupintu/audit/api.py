"""Reading the audit trail over the API (administrators and managers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from satupintu.accounts.permissions import require_perm, scoped
from satupintu.accounts.roles import Perm, Role
from satupintu.audit.models import AuditEntry
from satupintu.audit.services import verify_chain

router = Router(tags=["audit"])


class AuditOut(Schema):
    id: int
    created_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    client_id: int | None
    ip_address: str | None
    data: dict[str, Any]


class VerifyOut(Schema):
    checked: int
    intact: bool
    broken_at: list[int]


@router.get("/entries", response=list[AuditOut], summary="Newest audit entries")
def entries(request: HttpRequest, action: str = "", limit: int = 100) -> list[dict[str, Any]]:
    require_perm(request.user, Perm.VIEW_AUDIT)
    rows = AuditEntry.objects.order_by("-id")
    if request.user.role != Role.ADMIN:  # type: ignore[union-attr]
        rows = scoped(rows, request)
    if action:
        rows = rows.filter(action__startswith=action)
    return [
        {"id": e.id, "created_at": e.created_at, "actor": e.actor_label, "action": e.action,
         "object_type": e.object_type, "object_id": e.object_id, "object_repr": e.object_repr,
         "client_id": e.client_id, "ip_address": e.ip_address, "data": e.data}
        for e in rows[: max(1, min(limit, 500))]
    ]


@router.get("/verify", response=VerifyOut, summary="Check the hash chain")
def verify(request: HttpRequest) -> VerifyOut:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    checked, problems = verify_chain()
    return VerifyOut(checked=checked, intact=not problems, broken_at=[p.entry_id for p in problems])
