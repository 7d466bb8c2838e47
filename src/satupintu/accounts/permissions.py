"""Every permission and client-scope check in one place.

Views, API endpoints and the CLI call these; none of them filters by client on its own. An
object of a client the user may not see is reported as missing (404), never as forbidden, so
its existence is not revealed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client, Team
from satupintu.accounts.roles import ALL_CLIENT_ROLES

if TYPE_CHECKING:
    from satupintu.accounts.models import User

M = TypeVar("M", bound=Model)

_SCOPE_ATTR = "_satupintu_client_ids"


def has_perm(user: Any, perm: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and perm in user.permissions


def require_perm(user: Any, perm: str) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied(_("Your role does not allow this."))


def client_ids(user: User, token_client_ids: set[int] | None = None) -> set[int]:
    """The ids of the clients this user may see, narrowed by a token's clients if given."""
    if not user.is_active:
        return set()
    if user.role in ALL_CLIENT_ROLES:
        ids = set(Client.objects.values_list("id", flat=True))
    else:
        ids = set(user.clients.values_list("id", flat=True))
    if token_client_ids:
        ids &= token_client_ids
    return ids


def request_client_ids(request: HttpRequest) -> set[int]:
    """Client scope of the current request (the user's, narrowed by an API token)."""
    cached = getattr(request, _SCOPE_ATTR, None)
    if cached is None:
        token = getattr(request, "api_token", None)
        narrowed = set(token.clients.values_list("id", flat=True)) if token is not None else None
        cached = client_ids(request.user, narrowed)  # type: ignore[arg-type]
        setattr(request, _SCOPE_ATTR, cached)
    return cached


def visible_clients(request: HttpRequest) -> QuerySet[Client]:
    return Client.objects.filter(id__in=request_client_ids(request))


def visible_teams(request: HttpRequest) -> QuerySet[Team]:
    return Team.objects.filter(clients__in=request_client_ids(request)).distinct()


def scoped(queryset: QuerySet[M], request: HttpRequest, field: str = "client") -> QuerySet[M]:
    """Filter any client-owned queryset down to the request's clients."""
    return queryset.filter(**{f"{field}__in": request_client_ids(request)})


def scoped_or_shared(queryset: QuerySet[M], request: HttpRequest,
                     field: str = "client") -> QuerySet[M]:
    """Like ``scoped``, plus rows shared by every client (``client`` empty)."""
    return queryset.filter(Q(**{f"{field}__isnull": True})
                           | Q(**{f"{field}__in": request_client_ids(request)}))


def user_may_see_client(user: User, client_id: int | None) -> bool:
    """For services, which have a user but no request: shared (None) or one of theirs."""
    return client_id is None or client_id in client_ids(user)


def get_visible_or_404(queryset: QuerySet[M], **lookup: Any) -> M:
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404(_("Not found.")) from exc
