"""Changes to people: role, client assignment, language. Permission changes are audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client
from satupintu.accounts.permissions import require_perm
from satupintu.accounts.roles import Perm, Role
from satupintu.audit import services as audit

if TYPE_CHECKING:
    from satupintu.accounts.models import User


@transaction.atomic
def change_role(user: User, role: str, *, by: User, request: HttpRequest | None = None) -> None:
    require_perm(by, Perm.MANAGE_USERS)
    if role not in Role.values:
        raise ValidationError(_("Unknown role: %(role)s") % {"role": role})
    if user.pk == by.pk:
        raise ValidationError(_("You cannot change your own role."))
    old = user.role
    user.role = role
    user.save(update_fields=["role"])
    audit.record("accounts.role_changed", actor=by, obj=user, request=request,
                 data={"from": old, "to": role})


@transaction.atomic
def assign_clients(user: User, clients: Iterable[Client], *, by: User,
                   request: HttpRequest | None = None) -> None:
    require_perm(by, Perm.MANAGE_USERS)
    new_ids = sorted({c.pk for c in clients})
    old_ids = sorted(user.clients.values_list("id", flat=True))
    user.clients.set(new_ids)
    audit.record("accounts.clients_changed", actor=by, obj=user, request=request,
                 data={"from": old_ids, "to": new_ids})


@transaction.atomic
def set_language(user: User, language: str, request: HttpRequest | None = None) -> None:
    if language not in {"id", "en"}:
        raise ValidationError(_("Unknown language."))
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
