"""Log-in, the second factor, log-out and the lock-out page."""

from __future__ import annotations

import base64
from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from satupintu.accounts.forms import CodeForm, LoginForm
from satupintu.accounts.services import mfa


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("web:home")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_verified():  # type: ignore[union-attr]
        return HttpResponseRedirect(_next_url(request))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, username=form.cleaned_data["username"],
                            password=form.cleaned_data["password"])
        if user is None:
            form.add_error(None, _("Wrong username or password."))
        else:
            login(request, user)
            if mfa.has_mfa(user):  # type: ignore[arg-type]
                return HttpResponseRedirect(
                    f"{reverse('accounts:mfa_verify')}?next={_next_url(request)}")
            if user.mfa_required:  # type: ignore[attr-defined]
                messages.info(request, _("Your role requires two-factor authentication. "
                                         "Set it up to continue."))
                return HttpResponseRedirect(reverse("accounts:mfa_setup"))
            return HttpResponseRedirect(_next_url(request))
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/login.html",
                  {"form": form, "next": request.GET.get("next", "")}, status=status)


def locked_out(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """django-axes calls this once a username+IP pair has failed too often."""
    return render(request, "accounts/locked_out.html", status=429)


@login_required
@never_cache
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():  # type: ignore[union-attr]
        return HttpResponseRedirect(_next_url(request))
    if not mfa.has_mfa(user):  # type: ignore[arg-type]
        return HttpResponseRedirect(reverse("accounts:mfa_setup"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.verify(request, user, form.cleaned_data["code"]):  # type: ignore[arg-type]
            return HttpResponseRedirect(_next_url(request))
        form.add_error("code", _("That code is not valid. Check your authenticator app's clock "
                                 "and try again."))
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/mfa_verify.html",
                  {"form": form, "next": request.GET.get("next", "")}, status=status)


@login_required
@never_cache
def mfa_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if mfa.has_mfa(user) and not user.is_verified():  # type: ignore[arg-type,union-attr]
        return HttpResponseRedirect(reverse("accounts:mfa_verify"))
    device = mfa.pending_totp(user)  # type: ignore[arg-type]
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.confirm_setup(request, user, form.cleaned_data["code"])  # type: ignore[arg-type]
        if codes is not None:
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
        form.add_error("code", _("That code is not valid. Check your authenticator app's clock "
                                 "and try again."))
    secret = base64.b32encode(device.bin_key).decode()
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/mfa_setup.html",
                  {"form": form, "qr_svg": mfa.qr_svg(device), "secret": secret},
                  status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You have logged out."))
    return HttpResponseRedirect(reverse("accounts:login"))
