"""Accounts endpoints: who am I, the clients and teams I may see, my API tokens."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from satupintu.accounts.models import PersonalAccessToken
from satupintu.accounts.permissions import (
    get_visible_or_404,
    request_client_ids,
    require_perm,
    visible_clients,
    visible_teams,
)
from satupintu.accounts.roles import Perm
from satupintu.accounts.services import tokens
from satupintu.config.schemas import Strict

router = Router(tags=["accounts"])




class ClientOut(Schema):
    id: int
    code: str
    name: str
    industry: str


class TeamOut(Schema):
    id: int
    name: str
    site: str
    client_ids: list[int]
    leader: str | None


class MeOut(Schema):
    username: str
    full_name: str
    role: str
    language: str
    team: str | None
    clients: list[ClientOut]
    permissions: list[str]


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    client_ids: list[int] = Field(default_factory=list, max_length=100)
    expires_at: datetime | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    client_ids: list[int]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool


class TokenCreatedOut(TokenOut):
    secret: str


def _team_out(team, client_ids: set[int]) -> TeamOut:  # type: ignore[no-untyped-def]
    return TeamOut(
        id=team.pk, name=team.name, site=team.site.name,
        client_ids=sorted(c.pk for c in team.clients.all() if c.pk in client_ids),
        leader=str(team.leader) if team.leader else None,
    )


def _token_out(token: PersonalAccessToken) -> dict[str, object]:
    return {
        "id": token.pk, "name": token.name, "prefix": token.prefix,
        "client_ids": sorted(c.pk for c in token.clients.all()),
        "created_at": token.created_at, "expires_at": token.expires_at,
        "last_used_at": token.last_used_at, "revoked": token.revoked_at is not None,
    }


@router.get("/me", response=MeOut, summary="The signed-in user")
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        username=user.get_username(), full_name=user.display_name,  # type: ignore[union-attr]
        role=user.role, language=user.language,  # type: ignore[union-attr]
        team=str(user.team) if user.team else None,  # type: ignore[union-attr]
        clients=[ClientOut.from_orm(c) for c in visible_clients(request)],
        permissions=sorted(user.permissions),  # type: ignore[union-attr]
    )


@router.get("/clients", response=list[ClientOut], summary="Clients you may see")
def list_clients(request: HttpRequest) -> list[ClientOut]:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    return [ClientOut.from_orm(c) for c in visible_clients(request)]


@router.get("/clients/{client_id}", response=ClientOut, summary="One client")
def get_client(request: HttpRequest, client_id: int) -> ClientOut:
    require_perm(request.user, Perm.VIEW_CLIENTS)
    return ClientOut.from_orm(get_visible_or_404(visible_clients(request), pk=client_id))


@router.get("/teams", response=list[TeamOut], summary="Teams serving your clients")
def list_teams(request: HttpRequest) -> list[TeamOut]:
    require_perm(request.user, Perm.VIEW_TEAMS)
    ids = request_client_ids(request)
    rows = visible_teams(request).select_related("site", "leader").prefetch_related("clients")
    return [_team_out(t, ids) for t in rows]


@router.get("/teams/{team_id}", response=TeamOut, summary="One team")
def get_team(request: HttpRequest, team_id: int) -> TeamOut:
    require_perm(request.user, Perm.VIEW_TEAMS)
    team = get_visible_or_404(visible_teams(request).select_related("site", "leader"),
                              pk=team_id)
    return _team_out(team, request_client_ids(request))


@router.get("/tokens", response=list[TokenOut], summary="Your API tokens")
def list_tokens(request: HttpRequest) -> list[dict[str, object]]:
    rows = PersonalAccessToken.objects.filter(user=request.user).prefetch_related("clients")
    return [_token_out(t) for t in rows]


@router.post("/tokens", response={201: TokenCreatedOut}, summary="Create an API token")
def create_token(request: HttpRequest, payload: TokenIn) -> Status:
    if getattr(request, "api_token", None) is not None:
        raise HttpError(403, "A token cannot create tokens; use a signed-in session.")
    token, secret = tokens.create(
        request.user, payload.name, client_ids_wanted=payload.client_ids,  # type: ignore[arg-type]
        expires_at=payload.expires_at, request=request,
    )
    return Status(201, {**_token_out(token), "secret": secret})


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: int) -> Status:
    token = get_visible_or_404(PersonalAccessToken.objects.filter(user=request.user),
                               pk=token_id)
    tokens.revoke(token, by=request.user, request=request)  # type: ignore[arg-type]
    return Status(204, None)
