"""The e-mail set-up page: receiving addresses and polled IMAP mailboxes (administrators)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from satupintu.accounts.models import Team
from satupintu.accounts.permissions import get_visible_or_404, require_perm, scoped, visible_clients
from satupintu.accounts.roles import Perm
from satupintu.mail import services
from satupintu.mail.forms import AddressForm, MailboxForm
from satupintu.mail.models import MailAddress, Mailbox
from satupintu.web.client_forms import client_choices, client_form_page


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    return render(request, "mail/setup.html", {
        "addresses": scoped(MailAddress.objects.select_related("client", "default_team"),
                            request),
        "mailboxes": scoped(Mailbox.objects.select_related("client", "address"), request),
        "max_mb": settings.MAIL_MAX_MESSAGE_BYTES // (1024 * 1024),
        "unknown": settings.MAIL_UNKNOWN_RECIPIENT,
    })


def _form_page(request: HttpRequest, form: Any, save: Any, title: str) -> HttpResponse:
    return client_form_page(request, form, save, title=title, template="mail/form.html",
                            done="mail:setup")


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    row = get_visible_or_404(scoped(MailAddress.objects.all(), request), pk=pk) if pk else None
    initial = {} if row is None else {
        "client": row.client_id, "address": row.address, "display_name": row.display_name,
        "default_team": row.default_team_id, "default_priority": row.default_priority,
        "default_language": row.default_language, "is_active": row.is_active}
    form = AddressForm(request.POST if request.method == "POST" else None, initial=initial)
    form.fields["client"].choices = client_choices(request)
    teams = Team.objects.filter(clients__in=visible_clients(request)).distinct().order_by("name")
    form.fields["default_team"].choices = [("", "—")] + [(t.pk, t.name) for t in teams]

    def save(client: Any, data: dict[str, Any]) -> None:
        team = None
        if data["default_team"] is not None:
            team = get_visible_or_404(Team.objects.filter(clients=client).distinct(),
                                      pk=data["default_team"])
        if row is not None and row.address != data["address"].strip().lower():
            raise ValidationError(_("An address cannot be renamed; add the new one and "
                                    "deactivate this one."))
        services.save_address(client, data["address"], by=request.user,  # type: ignore[arg-type]
                              display_name=data["display_name"], default_team=team,
                              default_priority=data["default_priority"],
                              default_language=data["default_language"],
                              is_active=data["is_active"], request=request)

    title = _("New receiving address") if row is None else _("Edit receiving address")
    return _form_page(request, form, save, title)


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    row = get_visible_or_404(scoped(Mailbox.objects.all(), request), pk=pk) if pk else None
    initial = {} if row is None else {
        "client": row.client_id, "host": row.host, "port": row.port, "use_tls": row.use_tls,
        "username": row.username, "folder": row.folder, "address": row.address_id,
        "is_active": row.is_active}
    form = MailboxForm(request.POST if request.method == "POST" else None, initial=initial)
    form.fields["client"].choices = client_choices(request)
    addresses = scoped(MailAddress.objects.all(), request).order_by("address")
    form.fields["address"].choices = [("", "—")] + [(a.pk, a.address) for a in addresses]

    def save(client: Any, data: dict[str, Any]) -> None:
        address = None
        if data["address"] is not None:
            address = get_visible_or_404(MailAddress.objects.filter(client=client),
                                         pk=data["address"])
        if row is None and not data["password"]:
            raise ValidationError(_("Give the mailbox's password."))
        services.save_mailbox(client, by=request.user,  # type: ignore[arg-type]
                              host=data["host"], port=data["port"], use_tls=data["use_tls"],
                              username=data["username"], password=data["password"],
                              folder=data["folder"], address=address,
                              is_active=data["is_active"], mailbox=row, request=request)

    title = _("New IMAP mailbox") if row is None else _("Edit IMAP mailbox")
    return _form_page(request, form, save, title)
