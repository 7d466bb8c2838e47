"""Customer endpoints: find by identity, read the 360, create, add an identity."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from satupintu.accounts.permissions import (
    get_visible_or_404,
    has_perm,
    require_perm,
    scoped,
    visible_clients,
)
from satupintu.accounts.roles import Perm
from satupintu.config.schemas import Strict
from satupintu.customers import services
from satupintu.customers.masking import mask_identity, mask_nik
from satupintu.customers.models import Customer

router = Router(tags=["customers"])




class IdentityIn(Strict):
    kind: str = Field(max_length=20)
    value: str = Field(max_length=254)


class CustomerIn(Strict):
    client_id: int
    name: str = Field(min_length=1, max_length=200)
    kind: str = Customer.Kind.PERSON
    organisation_id: int | None = None
    nik: str = Field(default="", max_length=24)
    address: str = Field(default="", max_length=500)
    language: str = "id"
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)


class IdentityOut(Schema):
    kind: str
    value: str
    verified: bool


class CustomerOut(Schema):
    id: int
    client_id: int
    kind: str
    name: str
    organisation_id: int | None
    merged_into_id: int | None
    language: str
    nik: str
    identities: list[IdentityOut]
    created_at: datetime


def customer_out(request: HttpRequest, customer: Customer) -> CustomerOut:
    """Workers see contact details; client viewers see them masked. The NIK is always masked
    here: revealing it is an audited action in the UI."""
    worker = has_perm(request.user, Perm.VIEW_OWN_WORK)
    return CustomerOut(
        id=customer.pk, client_id=customer.client_id, kind=customer.kind, name=customer.name,
        organisation_id=customer.organisation_id, merged_into_id=customer.merged_into_id,
        language=customer.language, nik=mask_nik(customer.nik), created_at=customer.created_at,
        identities=[IdentityOut(kind=i.kind, verified=i.verified,
                                value=i.value if worker else mask_identity(i.kind, i.value))
                    for i in customer.identities.all()],
    )


@router.get("", response=list[CustomerOut], summary="Recent customers, or find by identity")
def list_customers(request: HttpRequest, kind: str = "", value: str = "",
                   client_id: int | None = None, limit: int = 50,
                   offset: int = 0) -> list[CustomerOut]:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    clients = visible_clients(request)
    if client_id is not None:
        clients = clients.filter(pk=client_id)
    if kind and value:
        found = [services.find_by_identity(c, kind, value) for c in clients]
        return [customer_out(request, c) for c in found if c is not None]
    rows = scoped(Customer.objects.filter(client__in=clients, merged_into__isnull=True),
                  request).prefetch_related("identities")
    limit = max(1, min(limit, 200))
    return [customer_out(request, c) for c in rows[max(offset, 0):max(offset, 0) + limit]]


@router.get("/{customer_id}", response=CustomerOut, summary="One customer")
def get_customer(request: HttpRequest, customer_id: int) -> CustomerOut:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    customer = get_visible_or_404(scoped(Customer.objects.all(), request), pk=customer_id)
    return customer_out(request, customer)


@router.post("", response={201: CustomerOut}, summary="Create a customer")
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    client = get_visible_or_404(visible_clients(request), pk=payload.client_id)
    organisation = None
    if payload.organisation_id is not None:
        organisation = get_visible_or_404(scoped(Customer.objects.all(), request),
                                          pk=payload.organisation_id)
    customer = services.create_customer(
        client, payload.name, by=request.user, kind=payload.kind,  # type: ignore[arg-type]
        organisation=organisation, nik=payload.nik, address=payload.address,
        language=payload.language, identities=[(i.kind, i.value) for i in payload.identities],
        request=request)
    return Status(201, customer_out(request, customer))


@router.post("/{customer_id}/identities", response={201: CustomerOut},
             summary="Add an e-mail, phone, WhatsApp or chat identity")
def add_identity(request: HttpRequest, customer_id: int, payload: IdentityIn) -> Status:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    customer = get_visible_or_404(scoped(Customer.objects.all(), request), pk=customer_id)
    services.add_identity(customer, payload.kind, payload.value,
                          by=request.user, request=request)  # type: ignore[arg-type]
    return Status(201, customer_out(request, customer))
