"""Routing fixtures: agents of client alpha with presence, and a way to open inbound cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def dewi(org: Any) -> Any:
    from satupintu.customers import services as customers

    return customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                     identities=[("phone", "081234567890")])


@pytest.fixture
def inbound(org: Any, dewi: Any) -> Callable[..., Any]:
    """Open a case as an inbound channel does (``by=None``: the customer wrote)."""
    from satupintu.cases import services as cases

    def make(channel: str = "chat", subject: str = "Kartu terblokir", **kw: Any) -> Any:
        return cases.create_case(org.alpha, dewi, subject, by=None, body="Tolong dibantu",
                                 channel=channel, **kw)

    return make


@pytest.fixture
def agent(org: Any) -> Callable[..., Any]:
    """Another agent of client alpha."""
    from satupintu.accounts.models import User

    def make(username: str, **kw: Any) -> Any:
        u = User.objects.create_user(username=username, password="x", role="agent",
                                     team=org.team_a, site=org.site, **kw)
        u.clients.set([org.alpha])
        return u

    return make
