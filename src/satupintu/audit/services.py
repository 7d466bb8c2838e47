"""Writing and verifying the audit chain.

Each entry's hash is an HMAC over the previous hash and the entry's own fields, keyed with a
server secret (``AUDIT_HMAC_KEY``). Editing, inserting or deleting a row breaks the chain at
that row; recomputing the chain needs the key, which the database does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from satupintu.audit.models import AuditEntry, AuditHead

if TYPE_CHECKING:
    from django.http import HttpRequest

    from satupintu.accounts.models import Client, User

GENESIS = "0" * 64
# Any constant will do: it only names the advisory lock that serialises appends on PostgreSQL.
_PG_LOCK_ID = 7_210_001


def _canonical(entry: AuditEntry) -> bytes:
    created = entry.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = [
        entry.prev_hash, created, entry.actor_id, entry.actor_label, entry.action,
        entry.object_type, entry.object_id, entry.object_repr, entry.client_id,
        entry.ip_address, entry.data,
    ]
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def compute_hash(entry: AuditEntry) -> str:
    key = settings.AUDIT_HMAC_KEY.encode()
    return hmac.new(key, _canonical(entry), hashlib.sha256).hexdigest()


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _head_mac(count: int, last_hash: str) -> str:
    key = settings.AUDIT_HMAC_KEY.encode()
    return hmac.new(key, f"head:{count}:{last_hash}".encode(), hashlib.sha256).hexdigest()


def lock_chain() -> None:
    """Hold the chain's append lock until the current transaction ends. A service that will
    take other locks and then append (opening a case locks the reference counter) takes
    this first, so every writer locks in the same order and none deadlocks."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_ID])


def record(
    action: str,
    *,
    actor: User | None = None,
    obj: Any = None,
    client: Client | None = None,
    request: HttpRequest | None = None,
    data: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the service's transaction so both commit together."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        user = request.user
        actor = user if user.is_authenticated else None  # type: ignore[assignment]
    # No savepoint of its own (two statements fewer on every audited write): a failure here
    # fails the caller's transaction, so a change is never committed without its entry.
    with transaction.atomic(savepoint=False):
        lock_chain()
        # On SQLite the IMMEDIATE transaction already holds the single write lock. The head
        # holds the last entry's hash (both are written under this lock).
        head = AuditHead.objects.filter(id=1).first()
        if head is None:
            last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
            head = AuditHead(id=1, count=0, last_hash=last or GENESIS)
        entry = AuditEntry(
            created_at=timezone.now().replace(tzinfo=UTC),
            actor=actor,
            actor_label=actor_label if actor_label is not None else (
                actor.get_username() if actor is not None else ""),
            action=action,
            object_type=type(obj).__name__ if obj is not None else "",
            object_id=str(getattr(obj, "pk", "") or "") if obj is not None else "",
            object_repr=str(obj)[:300] if obj is not None else "",
            client=client,
            ip_address=client_ip(request),
            data=json.loads(json.dumps(data or {}, default=str)),
            prev_hash=head.last_hash or GENESIS,
        )
        entry.hash = compute_hash(entry)
        entry.save()
        head.count += 1
        head.last_hash = entry.hash
        head.mac = _head_mac(head.count, head.last_hash)
        head.save()
    return entry


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int
    reason: str


def _ordered(batch: int = 2000) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        rows = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def verify_chain() -> tuple[int, list[ChainProblem]]:
    """Walk the chain from the first entry; return how many were checked and what is broken."""
    problems: list[ChainProblem] = []
    previous = GENESIS
    count = 0
    for entry in _ordered():
        count += 1
        if entry.prev_hash != previous:
            problems.append(ChainProblem(entry.id, "link"))
        elif not hmac.compare_digest(entry.hash, compute_hash(entry)):
            problems.append(ChainProblem(entry.id, "content"))
        previous = entry.hash
    head = AuditHead.objects.filter(id=1).first()
    if head is None:
        if count:
            problems.append(ChainProblem(0, "head"))
    elif (
        head.count != count
        or head.last_hash != previous
        or not hmac.compare_digest(head.mac, _head_mac(head.count, head.last_hash))
    ):
        problems.append(ChainProblem(0, "head"))
    return count, problems
