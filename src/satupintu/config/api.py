"""The REST API at /api/v1: one NinjaAPI, one auth rule set, one error format.

Every error body is ``{"code": <stable machine code>, "message": <translated text>}``, plus
``errors`` for invalid input. Clients switch language with ``Accept-Language``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from satupintu.accounts.services import mfa, tokens
from satupintu.audit import services as audit


class TokenAuth(HttpBearer):
    """``Authorization: Bearer sp_…`` with a personal access token."""

    openapi_description = "Personal access token (create one under Account → API tokens)."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        pat = tokens.authenticate(token)
        if pat is None:
            audit.record("api.auth_failed", request=request, data={"prefix": token[:10]})
            return None
        request.user = pat.user
        request.api_token = pat  # type: ignore[attr-defined]
        return pat.user


class VerifiedSessionAuth(NinjaSessionAuth):
    """The browser's session, but only once its second factor is passed where one applies."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None:
            return None
        if not user.is_verified() and (user.mfa_required or mfa.has_mfa(user)):
            return None
        return user


api = NinjaAPI(
    title="SatuPintu API",
    version="1",
    description="One door for every customer on every channel. Errors: {code, message}.",
    auth=[TokenAuth(), VerifiedSessionAuth()],
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, code: str, message: str,
           **extra: Any) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra},
                               status=status)


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [{"loc": list(e.get("loc", [])), "type": e.get("type", ""), "msg": e.get("msg", "")}
              for e in exc.errors]
    if any(e["type"] == "json_invalid" for e in errors) or not errors:
        return _error(request, 400, "malformed_json", _("The request body is not valid JSON."))
    if any(e["type"] == "extra_forbidden" for e in errors):
        return _error(request, 422, "unknown_field",
                      _("The request has fields this endpoint does not know."), errors=errors)
    return _error(request, 422, "invalid_input", _("The request has invalid values."),
                  errors=errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated",
                  _("Log in or send a valid API token (Authorization: Bearer …)."))


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    audit.record("authz.denied", request=request, data={"path": request.path})
    return _error(request, 403, "forbidden", _("Your role does not allow this."))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(DjangoValidationError)
def _rejected(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return _error(request, 400, "rejected", " ".join(str(m) for m in exc.messages))


def _body_is_broken_json(request: HttpRequest) -> bool:
    if "json" not in (request.content_type or ""):
        return False
    try:
        json.loads(request.body or b"null")
    except ValueError:
        return True
    return False


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and _body_is_broken_json(request):
        return _error(request, 400, "malformed_json", _("The request body is not valid JSON."))
    codes = {400: "bad_request", 405: "method_not_allowed", 413: "request_too_large",
             429: "rate_limited"}
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


def _register_routers() -> None:
    from satupintu.accounts.api import router as accounts_router
    from satupintu.audit.api import router as audit_router
    from satupintu.cases.api import router as cases_router
    from satupintu.customers.api import router as customers_router
    from satupintu.inbox.api import router as inbox_router
    from satupintu.knowledge.api import router as knowledge_router
    from satupintu.mail.api import router as mail_router
    from satupintu.portal.api import router as portal_router
    from satupintu.routing.api import router as routing_router
    from satupintu.telephony.api import router as telephony_router
    from satupintu.wallboard.api import router as wallboard_router
    from satupintu.webchat.api import router as webchat_router
    from satupintu.whatsapp.api import router as whatsapp_router

    api.add_router("/", accounts_router)
    api.add_router("/audit", audit_router)
    api.add_router("/customers", customers_router)
    api.add_router("/cases", cases_router)
    api.add_router("/knowledge", knowledge_router)
    api.add_router("/inbox", inbox_router)
    api.add_router("/mail", mail_router)
    api.add_router("/whatsapp", whatsapp_router)
    api.add_router("/chat", webchat_router)
    api.add_router("/public", portal_router)
    api.add_router("/cti", telephony_router)
    api.add_router("/routing", routing_router)
    api.add_router("/wallboard", wallboard_router)


_register_routers()
