"""The wallboard's figures as JSON: what the page polls when its WebSocket is down."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from satupintu.accounts.permissions import request_client_ids
from satupintu.wallboard import board, kpis
from satupintu.wallboard.views import _client

router = Router(tags=["wallboard"])


@router.get("/{code}/", response=dict[str, Any])
def figures(request: HttpRequest, code: str) -> dict[str, Any]:
    """Today's figures of one client, cut to what the caller may see (queues only for
    client viewers; agents of their own teams for team leaders)."""
    viewer = board.viewer_for(request.user, request_client_ids(request))
    if viewer is None:
        raise PermissionDenied(_("Your role does not allow this."))
    return board.payload(kpis.day_figures(_client(viewer, code)), viewer)
