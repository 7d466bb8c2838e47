"""Login sessions: start, touch, expire and end them, for the user and for an administrator."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from satupintu.accounts.models import UserSession
from satupintu.audit import services as audit

if TYPE_CHECKING:
    from satupintu.accounts.models import User

_TOUCH_EVERY = timedelta(seconds=60)


def _store(session_key: str):  # type: ignore[no-untyped-def]
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key=session_key)


def start(request: HttpRequest, user: User) -> UserSession:
    if not request.session.session_key:
        request.session.save()
    key = request.session.session_key
    assert key is not None
    now = timezone.now()
    row, _created = UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "last_seen_at": now,
            "ip_address": audit.client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "ended_at": None,
            "end_reason": "",
        },
    )
    return row


def touch(row: UserSession, request: HttpRequest) -> None:
    now = timezone.now()
    if now - row.last_seen_at >= _TOUCH_EVERY:
        UserSession.objects.filter(pk=row.pk).update(last_seen_at=now)
        row.last_seen_at = now


def mark_verified(request: HttpRequest) -> None:
    key = request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key).update(mfa_verified=True)


def mark_ended(session_key: str | None, reason: str) -> None:
    if not session_key:
        return
    UserSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason
    )


def expiry_reason(row: UserSession) -> str | None:
    now = timezone.now()
    if now - row.created_at > settings.SESSION_ABSOLUTE_TIMEOUT:
        return UserSession.EndReason.ABSOLUTE
    if now - row.last_seen_at > settings.SESSION_IDLE_TIMEOUT:
        return UserSession.EndReason.IDLE
    return None


@transaction.atomic
def end(row: UserSession, *, by: User, request: HttpRequest | None = None) -> None:
    """End a session from elsewhere: the next request made with it is logged out."""
    reason = (UserSession.EndReason.ENDED_BY_USER if by.pk == row.user_id
              else UserSession.EndReason.ENDED_BY_ADMIN)
    _store(row.session_key).delete()
    mark_ended(row.session_key, reason)
    audit.record("auth.session_ended", actor=by, obj=row.user, request=request,
                 data={"session": row.pk, "reason": str(reason)})


def sweep_expired() -> int:
    """End the sessions whose idle or absolute time is up, though no request came to notice.

    Without the sweep an agent who closed the browser would look logged in until the
    next request, which never comes.
    """
    now = timezone.now()
    ended = 0
    stale = UserSession.objects.filter(ended_at__isnull=True).filter(
        models.Q(last_seen_at__lt=now - settings.SESSION_IDLE_TIMEOUT)
        | models.Q(created_at__lt=now - settings.SESSION_ABSOLUTE_TIMEOUT))
    for row in stale.iterator():
        reason = expiry_reason(row) or UserSession.EndReason.IDLE
        with transaction.atomic():
            _store(row.session_key).delete()
            mark_ended(row.session_key, reason)
        ended += 1
    if ended:
        audit.record("auth.sessions_swept", actor_label="satupintu worker",
                     data={"ended": ended})
    return ended


def active_for(user: User) -> list[UserSession]:
    return list(UserSession.objects.filter(user=user, ended_at__isnull=True))
