"""Log-ins and log-outs land in the audit trail, successes and failures alike (ASVS 7.2)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from satupintu.audit import services as audit


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    from satupintu.accounts.services import sessions

    sessions.start(request, user)
    audit.record("auth.login", actor=user, obj=user, request=request)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    from satupintu.accounts.services import sessions

    sessions.mark_ended(request.session.session_key, reason="logout")
    audit.record("auth.logout", actor=user, obj=user, request=request)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
                  **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit.record("auth.login_failed", actor=None, actor_label=username, request=request,
                 data={"username": username})
