"""Shared fixtures. Nothing Django is imported at module level: engine tests run without it."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest

os.environ.setdefault("SATUPINTU_TESTING", "1")


def pytest_configure(config: Any) -> None:
    from satupintu.i18n import compile_messages

    compile_messages()


@pytest.fixture(autouse=True)
def _fresh_caches() -> Any:
    """Every test starts with no rate-limit counters in the cache and no compiled routing
    rules (cached by row id, which a real database never reuses but a rolled-back test
    database does; a forked live server inherits them too)."""
    import sys

    module = sys.modules.get("satupintu.routing.services.rules")
    if module is not None:
        module._cache.clear()
    if "django.core.cache" in sys.modules:
        from django.core.cache import cache

        cache.clear()
    yield
    if "django.utils.translation" in sys.modules:
        # No test leaves a language active for the next one (override() restores the
        # language it found, which may be one the previous test activated).
        from django.utils import translation

        translation.deactivate()


@pytest.fixture
def org(db: Any) -> SimpleNamespace:
    """Two clients and the Healthchecks-style personas: alice/bob agents of A/B, charlie a
    viewer of A, dave a viewer of B, sam a supervisor of A, root an administrator."""
    from satupintu.accounts.models import Client, ContactCenter, Site, Team, User

    center = ContactCenter.objects.create(name="Test Center")
    site = Site.objects.create(center=center, code="jkt", name="Jakarta")
    alpha = Client.objects.create(center=center, code="alpha", name="Alpha Bank")
    bravo = Client.objects.create(center=center, code="bravo", name="Bravo Telco")
    team_a = Team.objects.create(site=site, name="Team Alpha")
    team_a.clients.set([alpha])
    team_b = Team.objects.create(site=site, name="Team Bravo")
    team_b.clients.set([bravo])

    def user(username: str, role: str, clients: list[Client], team: Team | None = None,
             language: str = "en") -> User:
        u = User.objects.create_user(username=username, password="correct horse battery",
                                     role=role, full_name=username.title(), team=team,
                                     site=site, language=language)
        u.clients.set(clients)
        return u

    return SimpleNamespace(
        center=center, site=site, alpha=alpha, bravo=bravo, team_a=team_a, team_b=team_b,
        alice=user("alice", "agent", [alpha], team_a),
        bob=user("bob", "agent", [bravo], team_b),
        charlie=user("charlie", "client_viewer", [alpha]),
        dave=user("dave", "client_viewer", [bravo]),
        sam=user("sam", "supervisor", [alpha]),
        root=user("root", "admin", []),
        password="correct horse battery",
    )


def verified_login(client: Any, user: Any) -> Any:
    """Log a user in with a confirmed TOTP device, as if the second factor had been passed."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def login() -> Any:
    return verified_login
