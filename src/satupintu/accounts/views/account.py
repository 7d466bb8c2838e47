"""The user's own account: security (MFA, sessions), API tokens and language."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from satupintu.accounts.forms import TokenForm
from satupintu.accounts.models import PersonalAccessToken, UserSession
from satupintu.accounts.permissions import require_perm, visible_clients
from satupintu.accounts.roles import Perm
from satupintu.accounts.services import mfa, sessions, tokens, users


@login_required
def security(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "accounts/security.html", {
        "has_mfa": mfa.has_mfa(user),  # type: ignore[arg-type]
        "sessions": sessions.active_for(user),  # type: ignore[arg-type]
        "current_key": request.session.session_key,
    })


@login_required
@require_POST
def end_session(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(UserSession, pk=pk, user=request.user, ended_at__isnull=True)
    sessions.end(row, by=request.user, request=request)  # type: ignore[arg-type]
    messages.success(request, _("The session has been ended."))
    if row.session_key == request.session.session_key:
        return HttpResponseRedirect(reverse("accounts:login"))
    return HttpResponseRedirect(reverse("accounts:security"))


@login_required
@require_POST
def regenerate_codes(request: HttpRequest) -> HttpResponse:
    if not mfa.has_mfa(request.user):  # type: ignore[arg-type]
        return HttpResponseRedirect(reverse("accounts:security"))
    codes = mfa.regenerate_recovery_codes(request, request.user)  # type: ignore[arg-type]
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@login_required
def all_sessions(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_SESSIONS)
    rows = UserSession.objects.filter(ended_at__isnull=True).select_related("user")[:500]
    return render(request, "accounts/all_sessions.html", {"sessions": rows})


@login_required
@require_POST
def admin_end_session(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_SESSIONS)
    row = get_object_or_404(UserSession, pk=pk, ended_at__isnull=True)
    sessions.end(row, by=request.user, request=request)  # type: ignore[arg-type]
    messages.success(request, _("The session has been ended."))
    return HttpResponseRedirect(reverse("accounts:all_sessions"))


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.USE_API)
    form = TokenForm(request.POST or None)
    client_choices = [(str(c.pk), c.name) for c in visible_clients(request)]
    form.fields["clients"].choices = client_choices  # type: ignore[attr-defined]
    new_secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, new_secret = tokens.create(
                    request.user,  # type: ignore[arg-type]
                    form.cleaned_data["name"],
                    client_ids_wanted=[int(x) for x in form.cleaned_data["clients"]],
                    expires_at=form.cleaned_data["expires_at"],
                    request=request,
                )
                form = TokenForm()
                form.fields["clients"].choices = client_choices  # type: ignore[attr-defined]
            except ValidationError as exc:
                form.add_error(None, exc)
        if new_secret is None:
            status = 400
    rows = PersonalAccessToken.objects.filter(user=request.user).prefetch_related("clients")
    return render(request, "accounts/tokens.html",
                  {"form": form, "tokens": rows, "new_secret": new_secret}, status=status)


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(PersonalAccessToken, pk=pk, user=request.user)
    tokens.revoke(token, by=request.user, request=request)  # type: ignore[arg-type]
    messages.success(request, _("The token has been revoked."))
    return HttpResponseRedirect(reverse("accounts:tokens"))


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch language; stored on the user when logged in, in a cookie otherwise."""
    from django.conf import settings

    language = request.POST.get("language", "")
    target = request.POST.get("next") or reverse("web:home")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = reverse("web:home")
    response = HttpResponseRedirect(target)
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("Unknown language."))
        return response
    if request.user.is_authenticated:
        users.set_language(request.user, language, request)  # type: ignore[arg-type]
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600,
                        samesite="Lax", httponly=True)
    return response
