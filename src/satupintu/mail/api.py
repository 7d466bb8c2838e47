"""E-mail configuration endpoints: receiving addresses and IMAP mailboxes (administrators)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from satupintu.accounts.models import Team
from satupintu.accounts.permissions import get_visible_or_404, require_perm, scoped, visible_clients
from satupintu.accounts.roles import Perm
from satupintu.config.schemas import Strict
from satupintu.mail import services
from satupintu.mail.models import MailAddress, Mailbox

router = Router(tags=["mail"])


class AddressIn(Strict):
    client_id: int
    address: str = Field(max_length=254)
    display_name: str = Field(default="", max_length=100)
    default_team_id: int | None = None
    default_priority: str = "normal"
    default_language: str = Field(default="id", pattern="^(id|en)$")
    is_active: bool = True


class AddressOut(Schema):
    id: int
    client_id: int
    address: str
    display_name: str
    default_team_id: int | None
    default_priority: str
    default_language: str
    is_active: bool


class MailboxIn(Strict):
    client_id: int
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=993, ge=1, le=65535)
    use_tls: bool = True
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(max_length=500)
    folder: str = Field(default="INBOX", max_length=255)
    address_id: int | None = None


class MailboxOut(Schema):
    """The password is never returned."""

    id: int
    client_id: int
    host: str
    port: int
    use_tls: bool
    username: str
    folder: str
    address_id: int | None
    last_uid: int
    last_polled_at: datetime | None
    last_error: str
    is_active: bool


def _address_out(row: MailAddress) -> AddressOut:
    return AddressOut(id=row.pk, client_id=row.client_id, address=row.address,
                      display_name=row.display_name, default_team_id=row.default_team_id,
                      default_priority=row.default_priority,
                      default_language=row.default_language, is_active=row.is_active)


def _mailbox_out(row: Mailbox) -> MailboxOut:
    return MailboxOut(id=row.pk, client_id=row.client_id, host=row.host, port=row.port,
                      use_tls=row.use_tls, username=row.username, folder=row.folder,
                      address_id=row.address_id, last_uid=row.last_uid,
                      last_polled_at=row.last_polled_at, last_error=row.last_error,
                      is_active=row.is_active)


@router.get("/addresses", response=list[AddressOut], summary="Receiving addresses")
def list_addresses(request: HttpRequest) -> list[AddressOut]:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    return [_address_out(r) for r in scoped(MailAddress.objects.all(), request)]


@router.post("/addresses", response={201: AddressOut},
             summary="Create or update a receiving address")
def save_address(request: HttpRequest, payload: AddressIn) -> Status:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    client = get_visible_or_404(visible_clients(request), pk=payload.client_id)
    team = None
    if payload.default_team_id is not None:
        team = get_visible_or_404(Team.objects.filter(clients=client),
                                  pk=payload.default_team_id)
    row = services.save_address(
        client, payload.address, by=request.user,  # type: ignore[arg-type]
        display_name=payload.display_name, default_team=team,
        default_priority=payload.default_priority, default_language=payload.default_language,
        is_active=payload.is_active, request=request)
    return Status(201, _address_out(row))


@router.get("/mailboxes", response=list[MailboxOut], summary="Polled IMAP mailboxes")
def list_mailboxes(request: HttpRequest) -> list[MailboxOut]:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    return [_mailbox_out(r) for r in scoped(Mailbox.objects.all(), request)]


@router.post("/mailboxes", response={201: MailboxOut}, summary="Add an IMAP mailbox to poll")
def add_mailbox(request: HttpRequest, payload: MailboxIn) -> Status:
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    client = get_visible_or_404(visible_clients(request), pk=payload.client_id)
    address = None
    if payload.address_id is not None:
        address = get_visible_or_404(MailAddress.objects.filter(client=client),
                                     pk=payload.address_id)
    row = services.save_mailbox(
        client, by=request.user, host=payload.host, port=payload.port,  # type: ignore[arg-type]
        use_tls=payload.use_tls, username=payload.username, password=payload.password,
        folder=payload.folder, address=address, request=request)
    return Status(201, _mailbox_out(row))
