"""Every demo persona logs in and lands on a home page made for its role."""

from __future__ import annotations

import pytest

from satupintu.accounts.models import User
from satupintu.demo import DEMO_PASSWORD, build, demo_logins

pytestmark = pytest.mark.django_db

EXPECTED = {
    "agent": ("web/home/agent.html", "My skills"),
    "agent.telko": ("web/home/agent.html", "Telko Merah Putih"),
    "leader": ("web/home/team_leader.html", "My team today"),
    "supervisor": ("web/home/supervisor.html", "The floor"),
    "qa": ("web/home/qa_analyst.html", "Quality assurance"),
    "planner": ("web/home/wfm_planner.html", "Skill coverage"),
    "manager": ("web/home/manager.html", "People by role"),
    "viewer.bank": ("web/home/client_viewer.html", "Bank Nusantara"),
    "viewer.telko": ("web/home/client_viewer.html", "Telko Merah Putih"),
    "admin": ("web/home/admin.html", "Latest audit entries"),
}


@pytest.fixture
def demo(db):
    build()


def test_demo_has_the_promised_shape(demo):
    from satupintu.accounts.models import Client, Site, Team

    assert Client.objects.count() == 3 and Site.objects.count() == 2
    assert Team.objects.count() == 6
    agents = User.objects.filter(role="agent").count()
    assert 55 <= agents <= 65
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {"agent", "team_leader", "supervisor", "qa_analyst", "wfm_planner",
                     "manager", "client_viewer", "admin"}
    assert {username for _role, username, _note in demo_logins()} == set(EXPECTED)


@pytest.mark.django_db(transaction=True)
def test_demo_is_deterministic():
    build()
    first = list(User.objects.order_by("username").values_list("username", "full_name"))
    from satupintu.accounts.models import AgentSkill

    skills = sorted(AgentSkill.objects.values_list("user__username", "skill__code",
                                                   "proficiency"))
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    build()
    assert list(User.objects.order_by("username").values_list("username", "full_name")) == first
    assert sorted(AgentSkill.objects.values_list("user__username", "skill__code",
                                                 "proficiency")) == skills


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_persona_lands_on_its_home(client, demo, login, username):
    user = User.objects.get(username=username)
    login(client, user)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    template, text = EXPECTED[username]
    assert template in [t.name for t in response.templates]
    user.language = "en"
    user.save()
    assert text in client.get("/").content.decode()


def test_viewer_of_the_bank_sees_nothing_of_the_telco(client, demo, login):
    login(client, User.objects.get(username="viewer.bank"))
    for path in ("/", "/clients/"):
        assert "Telko" not in client.get(path).content.decode()


def test_password_from_the_demo_banner_logs_in(client, demo):
    response = client.post("/accounts/login/", {"username": "agent", "password": DEMO_PASSWORD})
    assert response.status_code == 302
