"""Deviations: request → live notice → decision → case note → review cluster → draft
revision → publish → incorporated; escalation; every refusal; client isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from satupintu.audit.models import AuditEntry
from satupintu.cases import services as cases
from satupintu.cases.models import CaseEvent
from satupintu.customers import services as customers
from satupintu.knowledge.models import Deviation, DeviationStatus
from satupintu.knowledge.services import articles, deviations
from satupintu.knowledge.tasks import escalate_deviations

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(kb):
    sop = kb.sop()
    dewi = customers.create_customer(kb.alpha, "Dewi Lestari", by=kb.alice,
                                     identities=[("phone", "081234567890")])
    case = cases.create_case(kb.alpha, dewi, "Kartu hilang di luar negeri", by=kb.alice)
    kb.sop_version, kb.case, kb.dewi = sop, case, dewi
    return kb


def _ask(w, proposal="Block the card and send a new one by courier abroad", step=3,
         by=None, **kw):
    return deviations.request_deviation(w.case, version=w.sop_version, step=step,
                                        proposal=proposal, reason="not_covered",
                                        by=by or w.alice, **kw)


def test_request_documents_on_case_and_audits(world):
    d = _ask(world, justification="Customer is abroad")
    assert d.status == DeviationStatus.PENDING and d.client == world.alpha
    assert d.due_at == d.requested_at + timedelta(minutes=3)
    note = CaseEvent.objects.filter(case=world.case, kind=CaseEvent.Kind.NOTE).last()
    assert "courier abroad" in note.body and "step 3" in note.body
    assert note.actor == world.alice
    assert AuditEntry.objects.filter(action="knowledge.deviation_requested").exists()
    assert set(deviations.deciders(d)) == {world.sam, world.tina}


def test_decisions(world):
    d = deviations.decide(_ask(world), "approved_changes", by=world.sam,
                          changes="Use the insured courier")
    assert d.status == "approved_changes" and d.decided_by == world.sam
    note = CaseEvent.objects.filter(case=world.case, kind=CaseEvent.Kind.NOTE).last()
    assert "Approved with changes" in note.body and "insured courier" in note.body
    rejected = deviations.decide(_ask(world), "rejected", by=world.tina, note="Fraud risk")
    assert rejected.status == "rejected" and rejected.decision_note == "Fraud risk"


def test_refusals(world):
    d = _ask(world)
    with pytest.raises(ValidationError, match="reject"):
        deviations.decide(d, "rejected", by=world.sam, note="  ")
    with pytest.raises(ValidationError, match="changes"):
        deviations.decide(d, "approved_changes", by=world.sam)
    deviations.decide(d, "approved", by=world.sam)
    with pytest.raises(ValidationError, match="already been decided"):
        deviations.decide(d, "approved", by=world.tina)
    own = _ask(world, by=world.tina)
    with pytest.raises(ValidationError, match="your own deviation"):
        deviations.decide(own, "approved", by=world.tina)
    with pytest.raises(PermissionDenied):
        deviations.decide(own, "approved", by=world.carol)  # agents do not decide
    with pytest.raises(ValidationError, match="Step 9 does not exist"):
        _ask(world, step=9)
    with pytest.raises(ValidationError, match="instead"):
        _ask(world, proposal=" ")
    # An unpublished (draft) version, then a superseded one.
    draft = articles.start_draft(world.sop_version.article, "en", by=world.tina)
    with pytest.raises(ValidationError, match="not published"):
        deviations.request_deviation(world.case, version=draft, step=1, proposal="x",
                                     reason="unclear", by=world.alice)
    world.publish(draft)
    with pytest.raises(ValidationError, match="superseded"):
        _ask(world)
    # A closed case.
    cases.change_status(world.case, "closed", by=world.alice)
    with pytest.raises(ValidationError, match="closed"):
        deviations.request_deviation(world.case, version=draft, step=1, proposal="x",
                                     reason="unclear", by=world.alice)


def test_refusals_are_translated(world):
    from django.utils import translation

    english = "Say why the deviation is rejected."
    with translation.override("id"):
        indonesian = translation.gettext(english)
    assert indonesian != english, "the Indonesian catalogue lacks the deviation strings"
    d = _ask(world)
    with translation.override("id"), pytest.raises(ValidationError) as exc:
        deviations.decide(d, "rejected", by=world.sam, note="")
    assert exc.value.messages == [indonesian]


def test_bob_cannot_ask_or_decide_on_alpha(world):
    d = _ask(world)
    with pytest.raises(PermissionDenied):
        deviations.request_deviation(world.case, version=world.sop_version, step=1,
                                     proposal="x", reason="unclear", by=world.bob)
    with pytest.raises(PermissionDenied):
        deviations.decide(d, "approved", by=world.bob)


def test_escalation_once_and_idempotent(world):
    from satupintu.knowledge.models import DeviationSettings

    DeviationSettings.objects.create(client=world.alpha, response_minutes=5)
    late = _ask(world)
    assert late.due_at == late.requested_at + timedelta(minutes=5)
    Deviation.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    fresh = _ask(world)
    post_hoc = _ask(world, post_hoc=True)
    assert post_hoc.due_at is None
    assert deviations.escalate_overdue() == 1
    assert deviations.escalate_overdue() == 0
    escalate_deviations.call_local()
    late.refresh_from_db()
    fresh.refresh_from_db()
    assert late.status == "escalated" and late.escalated_at is not None
    assert fresh.status == "pending"
    entry = AuditEntry.objects.get(action="knowledge.deviation_escalated")
    assert entry.data["managers"] == [world.mia.pk]
    # An escalated request can still be decided (by the manager, say).
    assert deviations.decide(late, "approved", by=world.mia).status == "approved"


def test_post_hoc_is_still_reviewed(world):
    d = _ask(world, post_hoc=True, justification="Customer in tears, card used abroad")
    assert d.post_hoc and d.status == "pending"
    note = CaseEvent.objects.filter(case=world.case, kind=CaseEvent.Kind.NOTE).last()
    assert "after the fact" in note.body
    assert deviations.decide(d, "approved", by=world.sam).is_approved


def test_clusters_revision_publish_incorporated(world):
    a = deviations.decide(_ask(world, "Send the new card by courier to the customer abroad"),
                          "approved", by=world.sam)
    b = deviations.decide(_ask(world, "Courier a new card abroad to the customer"),
                          "approved", by=world.sam)
    c = deviations.decide(_ask(world, "Call the customer back tomorrow", step=1),
                          "rejected", by=world.sam, note="No")
    other = deviations.decide(_ask(world, "Escalate to the branch manager by phone"),
                              "approved", by=world.sam)
    groups = deviations.clusters(deviations.review_queue(world.sop_version.article))
    assert sorted(groups[0].ids) == sorted([a.pk, b.pk])
    assert {tuple(g.ids) for g in groups[1:]} == {(c.pk,), (other.pk,)}
    draft = deviations.create_revision([a, b], by=world.tina)
    assert draft.status == "draft" and draft.number == 2
    assert set(draft.linked_deviations.all()) == {a, b}
    with pytest.raises(ValidationError, match="already linked"):
        deviations.create_revision([a], by=world.tina)
    assert len(deviations.review_queue(world.sop_version.article)) == 2
    world.publish(draft)
    a.refresh_from_db()
    other.refresh_from_db()
    assert a.incorporated_at is not None and other.incorporated_at is None
    rows = deviations.report([world.alpha.pk])
    assert rows[0].total == 4 and rows[0].approved == 3 and rows[0].approval_rate == 75.0
    assert rows[0].incorporated == 2


def test_revision_needs_manage_knowledge_and_decided(world):
    d = _ask(world)
    with pytest.raises(ValidationError, match="decided"):
        deviations.create_revision([d], by=world.tina)
    deviations.decide(d, "approved", by=world.tina)
    with pytest.raises(PermissionDenied):
        deviations.create_revision([d], by=world.alice)


def _cookie(client, user):
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return [(b"cookie", cookie.encode()), (b"origin", b"http://testserver"),
            (b"host", b"testserver")]


@pytest.mark.django_db(transaction=True)
async def test_whole_flow_with_live_notification(client, world):
    w = world
    headers = await sync_to_async(_cookie)(client, w.sam)
    sam = WebsocketCommunicator(_app(), "/ws/notifications/", headers=headers)
    connected, _ = await sam.connect()
    assert connected
    assert (await sam.receive_json_from())["type"] == "hello"
    d = await sync_to_async(_ask)(w)
    message = await sam.receive_json_from(timeout=5)
    assert message["type"] == "notification"
    payload = message["payload"]
    assert payload["kind"] == "deviation" and payload["event"] == "requested"
    assert payload["id"] == d.pk and payload["case"] == w.case.reference
    await sam.disconnect()

    headers = await sync_to_async(_cookie)(client, w.alice)
    alice = WebsocketCommunicator(_app(), "/ws/notifications/", headers=headers)
    assert (await alice.connect())[0]
    await alice.receive_json_from()

    def rest():
        deviations.decide(d, "approved", by=w.sam)
        return CaseEvent.objects.filter(case=w.case, kind="note").count()

    assert await sync_to_async(rest)() == 2
    decided = await alice.receive_json_from(timeout=5)
    assert decided["payload"]["event"] == "decided"
    assert decided["payload"]["status"] == "approved"
    await alice.disconnect()

    def review():
        groups = deviations.clusters(deviations.review_queue(w.sop_version.article))
        draft = deviations.create_revision(groups[0].deviations, by=w.tina)
        w.publish(draft)
        return Deviation.objects.select_related("revision").get(pk=d.pk)

    done = await sync_to_async(review)()
    assert done.incorporated_at is not None and done.revision.status == "published"


def _app():
    from satupintu.config.asgi import application

    return application


# -- pages and API ---------------------------------------------------------------------------

def test_pages_ask_decide_review_report(client, world, login):
    login(client, world.alice)
    page = client.get(f"/knowledge/deviations/new/?case={world.case.reference}")
    assert page.status_code == 200
    option = f'value="{world.sop_version.pk}:3"'
    assert option in page.content.decode()
    response = client.post("/knowledge/deviations/new/", {
        "case": world.case.reference, "step": f"{world.sop_version.pk}:3",
        "proposal": "Courier the new card abroad", "reason": "not_covered"})
    d = Deviation.objects.get()
    assert response.status_code == 302 and response.url == f"/knowledge/deviations/{d.pk}/"
    bad = client.post("/knowledge/deviations/new/", {
        "case": world.case.reference, "step": f"{world.sop_version.pk}:9",
        "proposal": "x", "reason": "unclear"}, follow=True)
    assert "Step 9 does not exist" in bad.content.decode()
    assert b"deviation-decide" not in client.get(f"/knowledge/deviations/{d.pk}/").content

    login(client, world.sam)
    listing = client.get("/knowledge/deviations/").content.decode()
    assert "deviations-waiting" in listing and f"deviation-{d.pk}" in listing
    detail = client.get(f"/knowledge/deviations/{d.pk}/").content.decode()
    assert "deviation-decide" in detail
    refused = client.post(f"/knowledge/deviations/{d.pk}/decide/",
                          {"outcome": "rejected", "note": ""}, follow=True)
    assert "Say why the deviation is rejected." in refused.content.decode()
    client.post(f"/knowledge/deviations/{d.pk}/decide/", {"outcome": "approved"})
    d.refresh_from_db()
    assert d.status == "approved"

    login(client, world.tina)
    article = world.sop_version.article
    review = client.get(f"/knowledge/articles/{article.pk}/deviations/").content.decode()
    assert 'data-testid="cluster"' in review and "Courier the new card abroad" in review
    response = client.post(f"/knowledge/articles/{article.pk}/deviations/", {"ids": [d.pk]})
    d.refresh_from_db()
    assert d.revision is not None
    assert response.url == f"/knowledge/versions/{d.revision_id}/"
    report = client.get("/knowledge/deviations/report/").content.decode()
    assert "block-card" in report and "100.0%" in report


def test_case_panel_template(world, rf):
    from django.template.loader import render_to_string

    _ask(world)
    html = render_to_string("knowledge/_case_deviations.html", {"case": world.case})
    assert "case-deviations" in html and "courier abroad" in html
    assert f"?case={world.case.reference}" in html


def test_api_flow_and_refusals(client, world, login):
    login(client, world.alice)
    body = {"case": world.case.reference, "version_id": world.sop_version.pk, "step": 2,
            "proposal": "Skip the question, the card is clearly lost", "reason": "unclear"}
    created = client.post("/api/v1/knowledge/deviations", body, content_type="application/json")
    assert created.status_code == 201, created.content
    d = created.json()
    assert d["status"] == "pending" and d["step_text"] == "Is the card lost?"
    missing = client.post("/api/v1/knowledge/deviations", {**body, "step": 7},
                          content_type="application/json")
    assert missing.status_code == 400 and "Step 7 does not exist" in missing.content.decode()
    own = client.post(f"/api/v1/knowledge/deviations/{d['id']}/decide",
                      {"outcome": "approved"}, content_type="application/json")
    assert own.status_code == 403  # agents do not decide
    login(client, world.sam)
    reject = client.post(f"/api/v1/knowledge/deviations/{d['id']}/decide",
                         {"outcome": "rejected"}, content_type="application/json")
    assert reject.status_code == 400
    ok = client.post(f"/api/v1/knowledge/deviations/{d['id']}/decide",
                     {"outcome": "rejected", "note": "Always ask"},
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "rejected"
    twice = client.post(f"/api/v1/knowledge/deviations/{d['id']}/decide",
                        {"outcome": "approved"}, content_type="application/json")
    assert twice.status_code == 400 and "already been decided" in twice.content.decode()
    report = client.get("/api/v1/knowledge/deviations/report").json()
    assert report[0]["slug"] == "block-card" and report[0]["approval_rate"] == 0.0


def test_bob_cannot_see_or_decide_alpha_deviations(client, world, login):
    d = _ask(world)
    login(client, world.bob)
    assert client.get(f"/knowledge/deviations/{d.pk}/").status_code == 404
    assert client.post(f"/knowledge/deviations/{d.pk}/decide/",
                       {"outcome": "approved"}).status_code == 404
    assert f"deviation-{d.pk}" not in client.get("/knowledge/deviations/").content.decode()
    assert client.get(
        f"/knowledge/deviations/new/?case={world.case.reference}").status_code == 404
    assert client.get(f"/api/v1/knowledge/deviations/{d.pk}").status_code == 404
    assert client.get("/api/v1/knowledge/deviations").json() == []
    assert client.post(f"/api/v1/knowledge/deviations/{d.pk}/decide", {"outcome": "approved"},
                       content_type="application/json").status_code == 404
    assert client.post("/api/v1/knowledge/deviations",
                       {"case": world.case.reference, "version_id": world.sop_version.pk,
                        "step": 1, "proposal": "x", "reason": "unclear"},
                       content_type="application/json").status_code == 404
    # A supervisor of Bravo does not see Alpha's either; Alpha's sam does.
    from satupintu.accounts.models import User

    vic = User.objects.create_user(username="vic", role="supervisor", full_name="Vic",
                                   site=world.site)
    vic.clients.set([world.bravo])
    login(client, vic)
    assert client.get(f"/knowledge/deviations/{d.pk}/").status_code == 404
    assert client.get("/api/v1/knowledge/deviations").json() == []
    assert client.get("/api/v1/knowledge/deviations/report").json() == []
    login(client, world.sam)
    assert client.get(f"/api/v1/knowledge/deviations/{d.pk}").status_code == 200
    # Another agent of the same client sees only their own requests.
    login(client, world.carol)
    assert client.get(f"/api/v1/knowledge/deviations/{d.pk}").status_code == 404


def test_demo_has_deviations_in_every_state():
    from satupintu.accounts.models import Client
    from satupintu.demo import build

    build()
    for client in Client.objects.all():
        rows = Deviation.objects.filter(client=client)
        states = set(rows.values_list("status", flat=True))
        assert {"pending", "escalated", "approved", "rejected", "approved_changes"} <= states
        assert rows.filter(post_hoc=True).exists()
        assert rows.filter(incorporated_at__isnull=False).count() == 2
        assert CaseEvent.objects.filter(case__deviations__client=client, kind="note").exists()


def test_response_minutes_setting_page(client, world, login):
    login(client, world.tina)
    page = client.get("/knowledge/settings/").content.decode()
    assert 'name="response_minutes" value="3"' in page
    client.post("/knowledge/settings/", {"client": world.alpha.pk, "response_minutes": "7"})
    assert deviations.response_minutes(world.alpha.pk) == 7
    bad = client.post("/knowledge/settings/", {"client": world.alpha.pk,
                                               "response_minutes": "abc"}, follow=True)
    assert "between 1 and 240" in bad.content.decode()
    assert _ask(world).due_at is not None
    assert client.post("/knowledge/settings/", {"client": world.bravo.pk,
                                                "response_minutes": "9"}).status_code == 404


def test_case_page_shows_the_deviation_panel(client, world, login):
    _ask(world)
    login(client, world.alice)
    page = client.get(f"/cases/{world.case.reference}/").content.decode()
    assert 'data-testid="case-deviations"' in page and "courier abroad" in page
    assert f"/knowledge/deviations/new/?case={world.case.reference}" in page
