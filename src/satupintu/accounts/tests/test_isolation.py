"""Client isolation, persona by persona: another client's objects are 404, in UI and API."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_agent_sees_own_client_but_not_the_other(client, org, login):
    login(client, org.alice)
    assert client.get(f"/clients/{org.alpha.pk}/").status_code == 200
    assert client.get(f"/clients/{org.bravo.pk}/").status_code == 404
    assert client.get(f"/teams/{org.team_a.pk}/").status_code == 200
    assert client.get(f"/teams/{org.team_b.pk}/").status_code == 404
    listing = client.get("/clients/").content.decode()
    assert "Alpha Bank" in listing and "Bravo Telco" not in listing


def test_agent_api_gets_404_for_other_client(client, org, login):
    login(client, org.alice)
    assert client.get(f"/api/v1/clients/{org.alpha.pk}").status_code == 200
    response = client.get(f"/api/v1/clients/{org.bravo.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get(f"/api/v1/teams/{org.team_b.pk}").status_code == 404
    names = [c["name"] for c in client.get("/api/v1/clients").json()]
    assert names == ["Alpha Bank"]
    teams = [t["name"] for t in client.get("/api/v1/teams").json()]
    assert teams == ["Team Alpha"]


@pytest.mark.parametrize("viewer,own,other", [("charlie", "alpha", "bravo"),
                                              ("dave", "bravo", "alpha")])
def test_client_viewer_never_sees_another_client(client, org, login, viewer, own, other):
    login(client, getattr(org, viewer))
    own_client, other_client = getattr(org, own), getattr(org, other)
    assert client.get(f"/clients/{own_client.pk}/").status_code == 200
    assert client.get(f"/clients/{other_client.pk}/").status_code == 404
    assert client.get(f"/api/v1/clients/{other_client.pk}").status_code == 404
    home = client.get("/").content.decode()
    assert own_client.name in home and other_client.name not in home
    me = client.get("/api/v1/me").json()
    assert [c["code"] for c in me["clients"]] == [own_client.code]


def test_client_viewer_cannot_open_teams_or_audit(client, org, login):
    login(client, org.charlie)
    assert client.get("/teams/").status_code == 403
    assert client.get("/audit/").status_code == 403
    response = client.get("/api/v1/audit/entries")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_administrator_sees_every_client(client, org, login):
    login(client, org.root)
    codes = sorted(c["code"] for c in client.get("/api/v1/clients").json())
    assert codes == ["alpha", "bravo"]


def test_token_narrowed_to_one_client_gets_404_for_the_other(client, org):
    from satupintu.accounts.services import tokens

    org.sam.clients.add(org.bravo)
    _token, secret = tokens.create(org.sam, "alpha only", client_ids_wanted=[org.alpha.pk])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get(f"/api/v1/clients/{org.alpha.pk}", **auth).status_code == 200
    assert client.get(f"/api/v1/clients/{org.bravo.pk}", **auth).status_code == 404


def test_token_cannot_be_narrowed_to_a_client_the_user_lacks(org):
    from django.core.exceptions import ValidationError

    from satupintu.accounts.services import tokens

    with pytest.raises(ValidationError):
        tokens.create(org.alice, "sneaky", client_ids_wanted=[org.bravo.pk])
