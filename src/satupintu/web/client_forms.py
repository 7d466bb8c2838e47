"""The save-or-show loop of the set-up forms that belong to one client (mail addresses,
mailboxes, WhatsApp accounts and templates): the chosen client must be one the user may
see, and a service's ValidationError becomes a form error instead of a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from satupintu.accounts.permissions import get_visible_or_404, visible_clients


def client_choices(request: HttpRequest) -> list[tuple[int, str]]:
    return [(c.pk, c.name) for c in visible_clients(request).order_by("name")]


def client_form_page(request: HttpRequest, form: Any, save: Callable[[Any, dict[str, Any]], Any],
                     *, title: str, template: str, done: str) -> HttpResponse:
    """Call ``save(client, cleaned_data)`` on a valid POST and go to ``done``; else show
    ``template`` with the form."""
    if request.method == "POST" and form.is_valid():
        client = get_visible_or_404(visible_clients(request), pk=form.cleaned_data["client"])
        try:
            save(client, form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(request, _("Saved."))
            return redirect(done)
    return render(request, template, {"form": form, "title": title})
