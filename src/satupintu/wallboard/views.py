"""The wallboard page (live, with a TV mode) and the historical report with its CSV export.

Both read ``kpis.day_figures``: the wallboard for today so far, the report for a whole day, so
a day's end-of-day wallboard and its report show the same numbers.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from satupintu.accounts.models import Client
from satupintu.accounts.permissions import has_perm, request_client_ids, require_perm
from satupintu.accounts.roles import Perm
from satupintu.routing.models import RoutingSettings
from satupintu.wallboard import board, kpis, services
from satupintu.wallboard.forms import ThresholdsForm
from satupintu.wallboard.models import Thresholds
from satupintu.web.client_forms import client_choices, client_form_page

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _viewer(request: HttpRequest) -> board.Viewer:
    viewer = board.viewer_for(request.user, request_client_ids(request))
    if viewer is None:
        raise PermissionDenied(_("Your role does not allow this."))
    return viewer


def _client(viewer: board.Viewer, code: str) -> Client:
    for client in board.visible_clients(viewer):
        if client.code == code:
            return client
    raise Http404(_("Not found."))


@login_required
def wallboard(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    code = request.GET.get("client", "").strip()
    clients = [_client(viewer, code)] if code else board.visible_clients(viewer)
    boards = [board.payload(kpis.day_figures(c), viewer) for c in clients]
    tv = request.GET.get("tv") == "1"
    context: dict[str, Any] = {"boards": boards, "tv": tv, "client_code": code,
                               "see_agents": viewer.see_agents,
                               "set_colours": has_perm(request.user, Perm.MANAGE_ROUTING)}
    if request.GET.get("partial") == "1":
        return render(request, "wallboard/_boards.html", context)
    return render(request, "wallboard/tv.html" if tv else "wallboard/wallboard.html", context)


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _report_rows(fig: kpis.DayFigures, payload: dict[str, Any]) -> list[list[Any]]:
    """The CSV: the day per queue, then every 30-minute interval with any traffic."""
    rows: list[list[Any]] = []
    for q in payload["queues"]:
        rows.append([_("whole day"), q["code"], q["name"],
                     *(q["cells"][k]["text"] for k in board.REPORT_KPIS)])
    for slot in payload["intervals"]:
        for q in slot["queues"]:
            rows.append([slot["start"], q["code"], q["name"],
                         *(q["cells"][k]["text"] for k in board.REPORT_KPIS)])
    return rows


@login_required
def report(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    clients = board.visible_clients(viewer)
    code = request.GET.get("client", "").strip()
    client = _client(viewer, code) if code else (clients[0] if clients else None)
    errors: list[str] = []
    day: date | None = None
    raw_day = request.GET.get("day", "").strip()
    if client is not None:
        today = kpis.local_today(client)
        try:
            day = date.fromisoformat(raw_day) if raw_day else today - timedelta(days=1)
        except ValueError:
            errors.append(_("Enter the day as YYYY-MM-DD."))
        else:
            if day > today:
                errors.append(_("The day cannot be in the future."))
                day = None
    fig = None
    data: dict[str, Any] | None = None
    if client is not None and day is not None and not errors:
        fig = kpis.day_figures(client, day, intervals=True, agents=viewer.see_agents)
        data = board.report_payload(fig, viewer)
    if data is not None and fig is not None and request.GET.get("format") == "csv":
        return _csv(request, client, fig, data)  # type: ignore[arg-type]
    context = {"clients": clients, "client": client, "day": day, "raw_day": raw_day,
               "errors": errors, "report": data, "kpis": board.REPORT_KPIS,
               "see_agents": viewer.see_agents}
    return render(request, "wallboard/report.html", context, status=400 if errors else 200)


def _csv(request: HttpRequest, client: Client, fig: kpis.DayFigures,
         data: dict[str, Any]) -> HttpResponse:
    services.record_export(request, client, fig.day)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="wallboard-{client.code}-{fig.day.isoformat()}.csv"')
    response.write("\ufeff")  # the byte-order mark Excel needs to read UTF-8
    writer = csv.writer(response)
    writer.writerow([_("Interval"), _("Queue code"), _("Queue"),
                     *(str(board.KPI_LABELS[k]) for k in board.REPORT_KPIS)])
    for row in _report_rows(fig, data):
        writer.writerow([_safe(v) for v in row])
    return response


@login_required
@require_http_methods(["GET", "POST"])
def thresholds(request: HttpRequest) -> HttpResponse:
    """A client's wallboard colours, for those who set up its routing (the same permission):
    ``?client=<id>`` picks the client; another client's id is a 403."""
    require_perm(request.user, Perm.MANAGE_ROUTING)
    choices = client_choices(request)
    raw = (request.POST if request.method == "POST" else request.GET).get("client", "")
    if raw:
        if not raw.isdigit() or int(raw) not in request_client_ids(request):
            raise PermissionDenied(_("You may not set up this client."))
        client_id: int | None = int(raw)
    else:
        client_id = choices[0][0] if choices else None
    initial: dict[str, Any] = {"client": client_id}
    row = Thresholds.objects.filter(client_id=client_id).first() or Thresholds()
    initial.update({name: getattr(row, name) for name in services.FIELDS})
    form = ThresholdsForm(request.POST if request.method == "POST" else None, initial=initial)
    form.fields["client"].choices = choices  # type: ignore[attr-defined]
    # The client is picked above the form (a GET), so one client's values never land on another.
    form.fields["client"].widget = forms.HiddenInput()
    routing = RoutingSettings.objects.filter(client_id=client_id).first() or RoutingSettings()
    form.show_built_in(kpis.Limits.of(row, routing))

    def save(client: Client, data: dict[str, Any]) -> None:
        services.save_thresholds(client, {name: data[name] for name in services.FIELDS},
                                 by=request.user,  # type: ignore[arg-type]
                                 request=request)

    done = f"{reverse('wallboard:thresholds')}?client={client_id or ''}"
    return client_form_page(request, form, save, title=_("Wallboard colours"),
                            template="wallboard/thresholds.html", done=done)
