"""Customer pages: search by identity, the customer 360 (every case, newest first), create,
add an identity, reveal a masked field (audited) and merge."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from satupintu.accounts.permissions import (
    get_visible_or_404,
    has_perm,
    require_perm,
    scoped,
    visible_clients,
)
from satupintu.accounts.roles import Perm
from satupintu.cases.models import Channel, Priority
from satupintu.customers import services
from satupintu.customers.identity import IdentityKind
from satupintu.customers.masking import mask_identity, mask_nik
from satupintu.customers.models import Customer


def _customers(request: HttpRequest):  # type: ignore[no-untyped-def]
    return scoped(Customer.objects.all(), request)


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    kind = request.GET.get("kind", "phone")
    q = request.GET.get("q", "").strip()
    found: list[Customer] = []
    if q:
        for client in visible_clients(request):
            match = (services.find_by_nik(client, q) if kind == "nik"
                     else services.find_by_identity(client, kind, q))
            if match is not None:
                found.append(match)
        page = None
    else:
        rows = _customers(request).filter(merged_into__isnull=True).select_related("client")
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "customers/customer_list.html", {
        "q": q, "kind": kind, "found": found, "page": page,
        "kinds": [*IdentityKind.choices, ("nik", _("NIK"))],
    })


@login_required
def customer_new(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    clients = visible_clients(request)
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        client = get_visible_or_404(clients, pk=_pk(request.POST.get("client")))
        identities = [(k, request.POST.get(k, "")) for k in IdentityKind.values
                      if request.POST.get(k, "").strip()]
        try:
            customer = services.create_customer(
                client, request.POST.get("name", ""), by=request.user,  # type: ignore[arg-type]
                kind=request.POST.get("kind", Customer.Kind.PERSON),
                nik=request.POST.get("nik", ""), address=request.POST.get("address", ""),
                language=request.POST.get("language", "id"), identities=identities,
                request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Customer created."))
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/customer_new.html", {
        "clients": clients, "kinds": Customer.Kind.choices, "values": values,
        "identity_kinds": IdentityKind.choices})


def _pk(value: str | None) -> int:
    """A posted id; anything that is not a whole number finds nothing (404), not a 500."""
    return int(value) if value and value.isdigit() else 0


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    customer = get_visible_or_404(_customers(request).select_related("client", "organisation",
                                                                     "merged_into"), pk=pk)
    return _render_detail(request, customer)


def _render_detail(request: HttpRequest, customer: Customer,
                   revealed: dict[str, str] | None = None) -> HttpResponse:
    worker = has_perm(request.user, Perm.VIEW_OWN_WORK)
    identities = [{"kind": i.get_kind_display(), "value": i.value if worker else
                   mask_identity(i.kind, i.value), "verified": i.verified}
                  for i in customer.identities.all()]
    cases = customer.cases.select_related("assignee", "reason", "client_status").order_by(
        "-created_at", "-id")
    others = []
    if has_perm(request.user, Perm.SUPERVISE):
        others = [c for c in _customers(request).filter(client=customer.client,
                                                        merged_into__isnull=True)
                  .exclude(pk=customer.pk)[:200]]
    return render(request, "customers/customer_detail.html", {
        "customer": customer, "identities": identities, "cases": cases, "worker": worker,
        "nik": mask_nik(customer.nik), "address": customer.address if worker else "",
        "people": customer.people.filter(merged_into__isnull=True) if customer.kind ==
        Customer.Kind.ORGANISATION else [],
        "identity_kinds": IdentityKind.choices, "merge_candidates": others,
        "channels": Channel.choices, "priorities": Priority.choices,
        "revealed": revealed,
    })


@login_required
@require_POST
def add_identity(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    customer = get_visible_or_404(_customers(request), pk=pk)
    try:
        services.add_identity(customer, request.POST.get("kind", ""),
                              request.POST.get("value", ""), by=request.user,  # type: ignore[arg-type]
                              request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Identity added."))
    return redirect("customers:detail", pk=customer.pk)


@login_required
@require_POST
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    customer = get_visible_or_404(_customers(request), pk=pk)
    field = request.POST.get("field", "nik")
    try:
        value = services.reveal(customer, field, by=request.user,  # type: ignore[arg-type]
                                request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:detail", pk=customer.pk)
    # Rendered in this response only: never stored (sessions live in the database) and the
    # page is not cached (NoStoreMiddleware).
    return _render_detail(request, customer, {"field": field, "value": value})


@login_required
@require_POST
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.SUPERVISE)
    source = get_visible_or_404(_customers(request), pk=pk)
    target = get_visible_or_404(_customers(request), pk=_pk(request.POST.get("into")))
    try:
        services.merge(source, target, by=request.user, request=request)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:detail", pk=source.pk)
    messages.success(request, _("Customers merged."))
    return redirect("customers:detail", pk=target.pk)
