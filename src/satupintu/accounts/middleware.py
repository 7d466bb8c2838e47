"""Per-request account rules: the user's language, session time-outs, and the MFA gate."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from satupintu.accounts.models import UserSession
from satupintu.accounts.services import mfa, sessions
from satupintu.audit import services as audit

Handler = Callable[[HttpRequest], HttpResponse]

_MFA_OPEN_PREFIXES = ("/accounts/mfa/", "/accounts/logout/", "/static/", "/i18n/", "/api/",
                      "/healthz")


class UserLanguageMiddleware:
    """A logged-in user's own language beats the browser's."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """Idle and absolute time-outs, and sessions ended from elsewhere (ASVS 3.3)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        key = request.session.session_key if hasattr(request, "session") else None
        if user is not None and user.is_authenticated and key and not hasattr(request, "api_token"):
            row = UserSession.objects.filter(session_key=key).first()
            if row is None:
                row = sessions.start(request, user)  # type: ignore[arg-type]
            reason = UserSession.EndReason.ENDED_BY_ADMIN if row.ended_at else None
            reason = reason or sessions.expiry_reason(row)
            if reason is not None:
                sessions.mark_ended(key, reason)
                audit.record("auth.session_expired", actor=user, obj=user,  # type: ignore[arg-type]
                             request=request, data={"reason": str(reason)})
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                messages.warning(request, _("Your session has expired. Please log in again."))
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse('accounts:login')}?{query}")
            sessions.touch(row, request)
        return self.get_response(request)


class MFARequiredMiddleware:
    """Supervisor and above must pass a second factor; anyone who enabled one must use it."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_MFA_OPEN_PREFIXES)
            and not user.is_verified()
        ):
            if mfa.has_mfa(user):  # type: ignore[arg-type]
                return HttpResponseRedirect(reverse("accounts:mfa_verify"))
            if user.mfa_required:
                return HttpResponseRedirect(reverse("accounts:mfa_setup"))
        return self.get_response(request)
