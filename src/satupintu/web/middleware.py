"""Request-wide rules: a size limit with a clear answer, and no caching of signed-in pages."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

Handler = Callable[[HttpRequest], HttpResponse]

# The attachment upload endpoints (web form, API, chat upload) take up to ATTACHMENT_MAX_BYTES.
ATTACHMENT_UPLOAD_PATH = re.compile(
    r"^/(?:(?:api/v1/)?cases/[^/]+/attachments|api/v1/chat/upload)/?$")
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, headers and the small form fields


class RequestSizeLimitMiddleware:
    """Refuse oversized bodies up front with 413, before anything reads them."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.method == "POST" and ATTACHMENT_UPLOAD_PATH.match(request.path):
            limit = max(limit, settings.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD)
        if length > limit:
            message = _("The request is too large (at most %(limit)d KB).") % {
                "limit": limit // 1024}
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "request_too_large", "message": message},
                                    status=413)
            return render(request, "web/error.html", {"message": message}, status=413)
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages for a signed-in user hold personal data: browsers and proxies must not keep them."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/api/"):
            response["Cache-Control"] = "no-store"
        return response
