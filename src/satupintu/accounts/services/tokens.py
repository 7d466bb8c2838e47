"""Personal access tokens: the secret is shown once and only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.accounts.models import PersonalAccessToken
from satupintu.accounts.permissions import client_ids, require_perm
from satupintu.accounts.roles import Perm
from satupintu.audit import services as audit

if TYPE_CHECKING:
    from satupintu.accounts.models import User

PREFIX = "sp_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create(
    user: User,
    name: str,
    *,
    client_ids_wanted: Iterable[int] = (),
    expires_at: datetime | None = None,
    request: HttpRequest | None = None,
) -> tuple[PersonalAccessToken, str]:
    require_perm(user, Perm.USE_API)
    name = name.strip()
    if not name:
        raise ValidationError(_("Give the token a name."))
    wanted = set(client_ids_wanted)
    allowed = client_ids(user)
    if not wanted <= allowed:
        raise ValidationError(_("A token can only be limited to clients you are assigned to."))
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(_("The expiry date must be in the future."))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = PersonalAccessToken.objects.create(
        user=user, name=name[:100], prefix=secret[:10], token_hash=_digest(secret),
        expires_at=expires_at,
    )
    if wanted:
        token.clients.set(wanted)
    audit.record("api.token_created", actor=user, obj=token, request=request,
                 data={"clients": sorted(wanted)})
    return token, secret


def authenticate(secret: str) -> PersonalAccessToken | None:
    if not secret.startswith(PREFIX):
        return None
    token = (PersonalAccessToken.objects.select_related("user")
             .filter(token_hash=_digest(secret)).first())
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def revoke(token: PersonalAccessToken, *, by: User, request: HttpRequest | None = None) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record("api.token_revoked", actor=by, obj=token, request=request)
