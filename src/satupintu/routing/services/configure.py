"""Writes behind the routing set-up pages: queues, routing settings and reason codes.

Rules, presence and work have their own modules; this one only keeps a client's routing
configuration, each change audited with what it was and what it became.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client, Skill, User
from satupintu.audit import services as audit
from satupintu.routing.models import Queue, ReasonCode, RoutingSettings

QUEUE_FIELDS = ("code", "name_id", "name_en", "channel", "team", "min_proficiency", "language",
                "is_default", "is_active", "order")
SETTINGS_FIELDS = ("acw_max_seconds", "after_acw", "heartbeat_timeout_seconds",
                   "sl_threshold_seconds", "sl_target_percent", "sl_formula")
REASON_FIELDS = ("code", "name_id", "name_en", "paid", "adherent_when_scheduled", "max_minutes",
                 "is_active", "order")


def _plain(value: Any) -> Any:
    """A JSON-safe form of a field value for the audit trail."""
    if hasattr(value, "pk"):
        return value.pk
    return value


def _changes(obj: Any, fields: tuple[str, ...], values: dict[str, Any]) -> dict[str, Any]:
    changed = {}
    for name in fields:
        if name not in values:
            continue
        old, new = _plain(getattr(obj, name)), _plain(values[name])
        if old != new:
            changed[name] = [old, new]
    return changed


@transaction.atomic
def save_queue(client: Client, values: dict[str, Any], *, by: User,
               queue: Queue | None = None, skills: list[Skill] | None = None,
               request: HttpRequest | None = None) -> Queue:
    """Create or change a queue; a queue marked default for its channel takes that role from
    the client's other queues of the channel (one default per channel)."""
    if queue is not None and queue.client_id != client.pk:
        raise ValidationError(_("This queue belongs to another client."))
    team = values.get("team")
    if team is not None and not team.clients.filter(pk=client.pk).exists():
        raise ValidationError(_("The team does not serve this client."))
    for skill in skills or []:
        if skill.client_id not in (None, client.pk):
            raise ValidationError(_("A skill of another client cannot be required."))
    code = values.get("code", queue.code if queue else "")
    clash = Queue.objects.filter(client=client, code=code)
    if queue is not None:
        clash = clash.exclude(pk=queue.pk)
    if clash.exists():
        raise ValidationError(_("This client already has a queue with this code."))
    created = queue is None
    obj = queue or Queue(client=client)
    changed = _changes(obj, QUEUE_FIELDS, values) if not created else {}
    for name in QUEUE_FIELDS:
        if name in values:
            setattr(obj, name, values[name])
    obj.full_clean()
    obj.save()
    if skills is not None:
        before = sorted(obj.skills.values_list("pk", flat=True)) if not created else []
        obj.skills.set(skills)
        after = sorted(s.pk for s in skills)
        if before != after and not created:
            changed["skills"] = [before, after]
    if obj.is_default:
        Queue.objects.filter(client=client, channel=obj.channel, is_default=True).exclude(
            pk=obj.pk).update(is_default=False)
    audit.record("routing.queue_created" if created else "routing.queue_changed", actor=by,
                 obj=obj, client=client, request=request,
                 data={"code": obj.code, "channel": obj.channel} if created else changed)
    return obj


@transaction.atomic
def save_settings(client: Client, values: dict[str, Any], *, by: User,
                  request: HttpRequest | None = None) -> RoutingSettings:
    obj, created = RoutingSettings.objects.select_for_update().get_or_create(client=client)
    changed = _changes(obj, SETTINGS_FIELDS, values)
    for name in SETTINGS_FIELDS:
        if name in values:
            setattr(obj, name, values[name])
    obj.full_clean()
    obj.save()
    if changed or created:
        audit.record("routing.settings_changed", actor=by, obj=obj, client=client,
                     request=request, data=changed)
    return obj


@transaction.atomic
def save_reason_code(client: Client, values: dict[str, Any], *, by: User,
                     reason: ReasonCode | None = None,
                     request: HttpRequest | None = None) -> ReasonCode:
    """Create or change one of the client's reason codes; platform (system) codes and codes
    shared by every client are not edited here."""
    if reason is not None and (reason.client_id != client.pk or reason.system):
        raise ValidationError(_("This reason code cannot be changed here."))
    code = values.get("code", reason.code if reason else "")
    clash = ReasonCode.objects.filter(client=client, code=code)
    if reason is not None:
        clash = clash.exclude(pk=reason.pk)
    if clash.exists():
        raise ValidationError(_("This client already has a reason code with this code."))
    created = reason is None
    obj = reason or ReasonCode(client=client)
    changed = _changes(obj, REASON_FIELDS, values) if not created else {}
    for name in REASON_FIELDS:
        if name in values:
            setattr(obj, name, values[name])
    obj.full_clean()
    obj.save()
    audit.record("routing.reason_created" if created else "routing.reason_changed", actor=by,
                 obj=obj, client=client, request=request,
                 data={"code": obj.code} if created else changed)
    return obj


def ensure_shared_reasons() -> int:
    """Put back the shared reason codes the migration seeds, if a database was emptied
    (``flush``) after migrating; returns how many were created."""
    from importlib import import_module

    reasons = import_module("satupintu.routing.migrations.0002_reason_codes").REASONS
    created = 0
    for order, (code, name_id, name_en, paid, adherent, max_min, system) in enumerate(reasons):
        _row, made = ReasonCode.objects.get_or_create(
            client=None, code=code,
            defaults={"name_id": name_id, "name_en": name_en, "paid": paid,
                      "adherent_when_scheduled": adherent, "max_minutes": max_min,
                      "system": system, "order": order * 10})
        created += made
    return created
