"""The calls page: recent calls of the clients one may see, with their durations."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from satupintu.accounts.permissions import require_perm, scoped
from satupintu.accounts.roles import Perm
from satupintu.telephony.models import Call

PAGE = 100


@login_required
def call_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    calls = scoped(Call.objects.select_related("client", "case", "agent", "customer"),
                   request)
    if request.GET.get("mine") == "1":
        calls = calls.filter(agent=request.user)
    return render(request, "telephony/calls.html", {"calls": calls[:PAGE],
                                                    "mine": request.GET.get("mine") == "1"})
