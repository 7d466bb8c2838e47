"""Cases and customers in the UI and the API: persona isolation and bad input.

Another client's case or customer is 404 in both; client viewers read but never write and
never see internal notes or unmasked contact details; every refused input leaves a clear
message and no change.
"""

from __future__ import annotations

import pytest

from satupintu.cases import services
from satupintu.cases.models import Case, CaseEvent
from satupintu.customers import services as customers
from satupintu.customers.models import Customer, CustomerIdentity

pytestmark = pytest.mark.django_db

NIK = "3171015708850003"


@pytest.fixture
def world(org):
    dewi = customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice, nik=NIK,
                                     identities=[("phone", "081234567890"),
                                                 ("email", "dewi@example.co.id")])
    budi = customers.create_customer(org.bravo, "Budi Santoso", by=org.bob,
                                     identities=[("phone", "081398765432")])
    a_case = services.create_case(org.alpha, dewi, "Kartu terblokir", by=org.alice,
                                  body="Tolong buka blokir", assignee=org.alice)
    services.add_note(a_case, "Catatan rahasia internal", by=org.alice)
    b_case = services.create_case(org.bravo, budi, "Internet mati", by=org.bob)
    return dewi, budi, a_case, b_case


def test_agent_sees_own_clients_cases_and_customers_only(client, org, login, world):
    dewi, budi, a_case, b_case = world
    login(client, org.alice)
    assert client.get(f"/cases/{a_case.reference}/").status_code == 200
    assert client.get(f"/cases/{b_case.reference}/").status_code == 404
    assert client.get(f"/customers/{dewi.pk}/").status_code == 200
    assert client.get(f"/customers/{budi.pk}/").status_code == 404
    mine = client.get("/cases/mine/").content.decode()
    assert a_case.reference in mine and b_case.reference not in mine
    queue = client.get("/cases/").content.decode()
    assert b_case.reference not in queue
    search = client.get("/customers/", {"kind": "phone", "q": "0813 9876 5432"})
    assert "Budi" not in search.content.decode()


def test_agent_api_gets_404_for_other_client(client, org, login, world):
    _dewi, budi, a_case, b_case = world
    login(client, org.alice)
    assert client.get(f"/api/v1/cases/{a_case.reference}").status_code == 200
    response = client.get(f"/api/v1/cases/{b_case.reference}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client.get(f"/api/v1/customers/{budi.pk}").status_code == 404
    refs = [c["reference"] for c in client.get("/api/v1/cases").json()]
    assert refs == [a_case.reference]
    found = client.get("/api/v1/customers", {"kind": "phone", "value": "081398765432"}).json()
    assert found == []
    note = client.post(f"/api/v1/cases/{b_case.reference}/notes", {"body": "x"},
                       content_type="application/json")
    assert note.status_code == 404
    created = client.post("/api/v1/cases", {"customer_id": budi.pk, "subject": "x"},
                          content_type="application/json")
    assert created.status_code == 404
    assert not CaseEvent.objects.filter(case=b_case, kind="note").exists()


@pytest.mark.parametrize("viewer,own,other", [("charlie", 0, 1), ("dave", 1, 0)])
def test_viewers_read_their_client_only_masked_and_without_notes(client, org, login, world,
                                                                 viewer, own, other):
    dewi, budi, a_case, b_case = world
    cases_, people = [a_case, b_case], [dewi, budi]
    login(client, getattr(org, viewer))
    assert client.get(f"/cases/{cases_[own].reference}/").status_code == 200
    assert client.get(f"/cases/{cases_[other].reference}/").status_code == 404
    assert client.get(f"/api/v1/cases/{cases_[other].reference}").status_code == 404
    assert client.get(f"/api/v1/customers/{people[other].pk}").status_code == 404
    page = client.get(f"/customers/{people[own].pk}/").content.decode()
    assert "081234567890" not in page and "+6281234567890" not in page
    events = client.get(f"/api/v1/cases/{cases_[own].reference}/events").json()
    assert all(e["kind"] != "note" for e in events)
    assert "Catatan rahasia" not in client.get(f"/cases/{a_case.reference}/").content.decode()
    data = client.get(f"/api/v1/customers/{people[own].pk}").json()
    assert all("•" in i["value"] for i in data["identities"])
    response = client.post(f"/api/v1/cases/{cases_[own].reference}/notes", {"body": "hi"},
                           content_type="application/json")
    assert response.status_code == 403
    assert client.post(f"/cases/{cases_[own].reference}/note/", {"body": "hi"}).status_code \
        == 403
    assert client.get("/cases/mine/").status_code == 403


def test_agent_sees_identities_nik_masked_and_reveal_is_audited(client, org, login, world):
    from satupintu.audit.models import AuditEntry

    dewi = world[0]
    login(client, org.alice)
    page = client.get(f"/customers/{dewi.pk}/").content.decode()
    assert "+6281234567890" in page and NIK not in page and "0003" in page
    response = client.post(f"/customers/{dewi.pk}/reveal/", {"field": "nik"})
    assert response.status_code == 200 and NIK in response.content.decode()
    assert NIK not in repr(list(client.session.items()))
    assert AuditEntry.objects.filter(action="customers.revealed", actor=org.alice).count() == 1
    assert NIK not in client.get(f"/customers/{dewi.pk}/").content.decode()  # shown once


def test_case_page_composer_and_controls(client, org, login, world):
    a_case = world[2]
    a_case.refresh_from_db()
    login(client, org.alice)
    url = f"/cases/{a_case.reference}/"
    page = client.get(url).content.decode()
    assert "Catatan rahasia internal" in page and "Kartu terblokir" in page
    client.post(url + "reply/", {"body": "Sudah kami buka", "version": a_case.version})
    a_case.refresh_from_db()
    assert a_case.status == "open"
    client.post(url + "status/", {"status": "resolved", "version": a_case.version})
    a_case.refresh_from_db()
    assert a_case.status == "resolved"
    assert "Open → Resolved" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post(url + "update/", {"priority": "high", "tags": "vip, kartu",
                                  "version": a_case.version})
    a_case.refresh_from_db()
    assert a_case.priority == "high"
    assert sorted(t.name for t in a_case.tags.all()) == ["kartu", "vip"]
    child = services.create_case(org.alpha, a_case.customer, "Sub", by=org.alice)
    client.post(url + "links/", {"kind": "parent", "other": child.reference.lower()})
    assert a_case.links_out.get().to_case == child
    assert "Child of" in client.get(f"/cases/{child.reference}/").content.decode()
    b_case = world[3]
    assert client.post(url + "links/", {"other": b_case.reference}).status_code == 404


def test_customer_360_lists_every_case_newest_first(client, org, login, world):
    dewi, _budi, a_case, _b = world
    newer = services.create_case(org.alpha, dewi, "Limit kartu", by=org.alice)
    login(client, org.alice)
    page = client.get(f"/customers/{dewi.pk}/").content.decode()
    assert page.index(newer.reference) < page.index(a_case.reference)


def test_create_customer_and_case_through_the_ui(client, org, login):
    login(client, org.alice)
    response = client.post("/customers/new/", {"client": org.alpha.pk, "name": "Rina",
                                               "kind": "person", "phone": "0812-1111-2222"})
    rina = Customer.objects.get()
    assert response.status_code == 302 and rina.identities.get().value == "+6281211112222"
    response = client.post("/cases/new/", {"customer": rina.pk, "subject": "Kartu hilang",
                                           "channel": "phone", "priority": "urgent"})
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.reference}/" and case.priority == "urgent"
    assert client.post("/customers/new/", {"client": org.bravo.pk, "name": "X"}).status_code \
        == 404
    assert client.post("/customers/new/", {"client": "abc", "name": "X"}).status_code == 404
    assert client.post("/cases/new/", {"customer": "1 OR 1=1", "subject": "x"}).status_code \
        == 404


# --- bad input: a clear translated error, and nothing changes --------------------------


def _api_post(client, url, data):
    return client.post(url, data, content_type="application/json",
                       HTTP_ACCEPT_LANGUAGE="en")


def test_unknown_status_transition_is_refused(client, org, login, world):
    a_case = world[2]
    a_case.refresh_from_db()
    login(client, org.alice)
    before = (a_case.status, a_case.version)
    response = _api_post(client, f"/api/v1/cases/{a_case.reference}/status",
                         {"status": "pending_customer"})
    assert response.status_code == 200  # new → pending_customer is allowed
    response = _api_post(client, f"/api/v1/cases/{a_case.reference}/status",
                         {"status": "new"})
    assert response.status_code == 400 and response.json()["code"] == "rejected"
    assert "cannot go from" in response.json()["message"]
    a_case.refresh_from_db()
    assert a_case.status == "pending_customer" and a_case.version == before[1] + 1


def test_reply_to_closed_case_is_refused_in_ui_and_api(client, org, login, world):
    a_case = world[2]
    services.change_status(a_case, "closed", by=org.alice)
    login(client, org.alice)
    count = CaseEvent.objects.count()
    response = _api_post(client, f"/api/v1/cases/{a_case.reference}/replies", {"body": "hi"})
    assert response.status_code == 400 and "This case is closed" in response.json()["message"]
    response = client.post(f"/cases/{a_case.reference}/reply/", {"body": "hi"}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")
    assert "This case is closed" in response.content.decode()
    assert CaseEvent.objects.count() == count


def test_invalid_phone_and_taken_identity_are_refused(client, org, login, world):
    dewi = world[0]
    other = customers.create_customer(org.alpha, "Agus", by=org.alice)
    login(client, org.alice)
    count = CustomerIdentity.objects.count()
    response = _api_post(client, f"/api/v1/customers/{other.pk}/identities",
                         {"kind": "phone", "value": "0812"})
    assert response.status_code == 400 and "not a valid phone number" in \
        response.json()["message"]
    response = _api_post(client, f"/api/v1/customers/{other.pk}/identities",
                         {"kind": "phone", "value": "+62 812 3456 7890"})
    assert response.status_code == 400
    assert "already belongs to another customer" in response.json()["message"]
    response = client.post(f"/customers/{other.pk}/identities/",
                           {"kind": "email", "value": "DEWI@example.co.id"}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")
    assert "already belongs to another customer" in response.content.decode()
    assert CustomerIdentity.objects.count() == count
    assert dewi.identities.count() == 2


def test_stale_version_is_refused(client, org, login, world):
    a_case = world[2]
    a_case.refresh_from_db()
    stale = a_case.version
    services.change_status(a_case, "open", by=org.sam)
    login(client, org.alice)
    response = _api_post(client, f"/api/v1/cases/{a_case.reference}/status",
                         {"status": "resolved", "version": stale})
    assert response.status_code == 400
    assert "changed by Sam" in response.json()["message"]
    response = client.post(f"/cases/{a_case.reference}/status/",
                           {"status": "resolved", "version": stale}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")
    assert "reload it and try again" in response.content.decode()
    a_case.refresh_from_db()
    assert a_case.status == "open"


def test_unknown_fields_are_rejected(client, org, login, world):
    dewi = world[0]
    login(client, org.alice)
    response = _api_post(client, "/api/v1/cases", {"customer_id": dewi.pk, "subject": "x",
                                                   "status": "closed"})
    assert response.status_code == 422 and response.json()["code"] == "unknown_field"
    response = _api_post(client, "/api/v1/customers", {"client_id": org.alpha.pk,
                                                       "name": "X", "is_vip": True})
    assert response.status_code == 422


def test_api_create_customer_and_case(client, org, login):
    login(client, org.alice)
    response = _api_post(client, "/api/v1/customers", {
        "client_id": org.alpha.pk, "name": "Wulan", "nik": NIK,
        "identities": [{"kind": "whatsapp", "value": "6281255554444"}]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["nik"] == "••••••••••••0003"
    assert body["identities"][0]["value"] == "+6281255554444"
    response = _api_post(client, "/api/v1/cases", {"customer_id": body["id"],
                                                   "subject": "Saldo", "body": "Halo"})
    assert response.status_code == 201 and response.json()["reference"].startswith("SP-")
    response = _api_post(client, "/api/v1/customers", {"client_id": org.bravo.pk,
                                                       "name": "X"})
    assert response.status_code == 404


def test_every_page_renders_and_the_menu_shows_the_work(client, org, login, world):
    a_case = world[2]
    login(client, org.alice)
    home = client.get("/").content.decode()
    assert "/cases/mine/" in home and "/customers/" in home
    for url in ["/cases/", "/cases/?status=all&priority=high&assignee=none&q=SP",
                "/cases/mine/?status=closed", "/customers/", "/customers/new/",
                "/customers/?kind=email&q=DEWI@example.co.id", f"/customers/?kind=nik&q={NIK}",
                f"/cases/{a_case.reference}/"]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Dewi Lestari" in client.get("/customers/?kind=email&q=DEWI@example.co.id") \
        .content.decode()
    login(client, org.charlie)
    assert "/cases/mine/" not in client.get("/").content.decode()
    assert client.get("/customers/").status_code == 403


def test_canned_response_fills_the_composer(client, org, login, world):
    from satupintu.cases.models import CannedResponse

    a_case = world[2]
    canned = CannedResponse.objects.create(client=org.alpha, title="Salam",
                                           body_id="Halo {customer_name} <b>{case_reference}</b>")
    other = CannedResponse.objects.create(client=org.bravo, title="x", body_id="x")
    login(client, org.alice)
    page = client.get(f"/cases/{a_case.reference}/?canned={canned.pk}").content.decode()
    assert f"Halo Dewi Lestari &lt;b&gt;{a_case.reference}&lt;/b&gt;" in page
    assert client.get(f"/cases/{a_case.reference}/?canned={other.pk}").status_code == 404


def test_supervisor_merges_in_the_ui(client, org, login, world):
    dewi = world[0]
    twin = customers.create_customer(org.alpha, "Dewi L", by=org.alice,
                                     identities=[("chat_visitor", "visitor-77")])
    login(client, org.sam)
    response = client.post(f"/customers/{twin.pk}/merge/", {"into": dewi.pk})
    assert response.status_code == 302
    twin.refresh_from_db()
    assert twin.merged_into == dewi
    login(client, org.alice)
    assert client.post(f"/customers/{dewi.pk}/merge/", {"into": twin.pk}).status_code == 403


def test_errors_are_translated_to_indonesian(client, org, login, world):
    a_case = world[2]
    other = customers.create_customer(org.alpha, "Agus", by=org.alice)
    org.alice.language = "id"  # the user's language wins over the browser's
    org.alice.save(update_fields=["language"])
    login(client, org.alice)
    response = client.post(f"/api/v1/customers/{other.pk}/identities",
                           {"kind": "phone", "value": "081234567890"},
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="id")
    assert response.json()["message"].startswith("Identitas ini (Telepon) sudah milik "
                                                 "pelanggan lain")
    services.change_status(a_case, "closed", by=org.alice)
    response = client.post(f"/api/v1/cases/{a_case.reference}/replies", {"body": "x"},
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="id")
    assert "sudah ditutup" in response.json()["message"]
