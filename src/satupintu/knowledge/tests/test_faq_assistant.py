"""The customer FAQ assistant: public FAQs only, threshold, feedback, deflection, hand-off,
spam resistance, public API."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from satupintu.knowledge.models import FaqQuestion, FaqSettings, Helped
from satupintu.knowledge.services import faq

pytestmark = pytest.mark.usefixtures("fresh_cache")


def test_answers_in_indonesian_from_public_faqs_only(faqs, client):
    answer = faq.ask(faqs.alpha, "kartu kredit gw ilang, gmn blokirnya?", "id")
    slugs = [h.version.article.slug for h in answer.hits]
    assert answer.confident and slugs[0] == "faq-blokir"
    assert {"faq-internal", "sop-blokir", "faq-bravo", "faq-block"}.isdisjoint(slugs)
    page = client.get("/help/alpha/", {"q": "kartu kredit hilang blokir", "lang": "id"})
    html = page.content.decode()
    assert page.status_code == 200 and "Cara blokir kartu kredit hilang" in html
    assert "1500-100" in html  # the article's own text
    for secret in ("Rahasia internal", "SOP blokir", "Bravo"):
        assert secret not in html


def test_answers_in_english_and_shared_faqs(faqs, client):
    page = client.get("/help/alpha/", {"q": "lost credit card block"},
                      HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert "How to block a lost credit card" in html and "Did this help?" in html
    assert "Cara blokir" not in html
    shared = faq.ask(faqs.bravo, "jam layanan buka", "id")
    assert [h.version.article.slug for h in shared.hits] == ["faq-jam"]


def test_other_client_never_sees_alpha_faqs(faqs):
    answer = faq.ask(faqs.bravo, "kartu kredit hilang blokir", "id")
    assert all(h.version.article.client_id in (None, faqs.bravo.pk) for h in answer.hits)
    assert "faq-blokir" not in [h.version.article.slug for h in answer.hits]


def test_below_threshold_offers_a_person(faqs, client):
    weak = faq.ask(faqs.alpha, "cuaca hari ini", "id")  # only "hari" matches: default threshold
    assert not weak.confident and weak.hits == [] and weak.record.score > 0
    FaqSettings.objects.create(client=faqs.alpha, threshold=1000)
    answer = faq.ask(faqs.alpha, "kartu kredit hilang blokir", "id")
    assert not answer.confident and answer.hits == []
    assert answer.record.top_article.slug == "faq-blokir" and not answer.record.answered
    page = client.get("/help/alpha/", {"q": "kartu kredit hilang", "lang": "en"})
    assert b'data-testid="help-unsure"' in page.content and b"Ask a person" in page.content
    assert b"1500-100" not in page.content


def test_feedback_is_recorded_once_and_deflection_computed(faqs, client, login):
    ok = faq.ask(faqs.alpha, "kartu kredit hilang", "id")
    bad = faq.ask(faqs.alpha, "kartu kredit hilang blokir", "id")
    faq.ask(faqs.alpha, "kartu kredit", "id")
    faq.feedback(ok.record, True)
    faq.feedback(bad.record, False)
    with pytest.raises(Exception, match="already recorded"):
        faq.feedback(ok.record, False)
    faq.hand_off(bad.record, name="Budi", contact="budi@example.com")
    [row] = faq.deflection([faqs.alpha.pk])
    assert (row["asked"], row["helped"], row["not_helped"], row["handed_off"]) == (3, 1, 1, 1)
    assert row["deflection_rate"] == 33.3 and row["handoff_rate"] == 33.3
    assert faq.deflection([faqs.bravo.pk]) == []
    # the page's yes button records through a signed token
    page = client.get("/help/alpha/", {"q": "kartu kredit hilang", "lang": "id"})
    token = page.context["token"]
    client.post("/help/alpha/feedback/", {"token": token, "helped": "yes", "lang": "id"})
    assert FaqQuestion.objects.get(pk=page.context["answer"].record.pk).helped == Helped.YES
    assert client.post("/help/alpha/feedback/", {"token": "forged", "helped": "no"}
                       ).status_code == 404
    # report: knowledge owners yes, client viewers no
    login(client, faqs.tina)
    report = client.get("/knowledge/help-report/")
    assert report.status_code == 200 and b'data-client="alpha"' in report.content
    assert b'data-client="bravo"' not in report.content
    assert b'help-threshold-alpha' in report.content
    assert b'help-threshold-bravo' not in report.content
    client.post("/knowledge/help-report/", {"client": faqs.alpha.pk, "threshold": "2.5",
                                            "max_answers": "2"})
    assert faq.settings_for(faqs.alpha).threshold == 2.5
    assert client.post("/knowledge/help-report/", {"client": faqs.bravo.pk,
                                                   "threshold": "9"}).status_code == 404
    client.logout()
    client.force_login(faqs.charlie)
    assert client.get("/knowledge/help-report/").status_code == 403


def test_handoff_creates_customer_and_case_with_the_conversation(faqs, client):
    from satupintu.cases.models import Case, CaseEvent
    from satupintu.customers.services import find_by_identity

    page = client.get("/help/alpha/", {"q": "kartu kredit hilang", "lang": "id"})
    token = page.context["token"]
    client.post("/help/alpha/feedback/", {"token": token, "helped": "no", "lang": "id"})
    done = client.post("/help/alpha/person/", {"token": token, "name": "Siti",
                                               "contact": "0812-3456-7890", "lang": "id"})
    assert done.status_code == 200
    reference = done.context["reference"]
    assert reference.encode() in done.content
    case = Case.objects.get(reference=reference)
    assert case.client == faqs.alpha and case.channel == "web"
    assert case.customer == find_by_identity(faqs.alpha, "phone", "081234567890")
    first = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.INBOUND).get()
    assert "kartu kredit hilang" in first.body and "Cara blokir kartu kredit hilang" in first.body
    record = FaqQuestion.objects.get(case_reference=reference)
    assert record.handed_off and record.helped == Helped.NO
    # a second question from the same phone number reuses the customer
    again = faq.ask(faqs.alpha, "jam layanan", "id")
    case2 = faq.hand_off(again.record, name="Siti", contact="+6281234567890")
    assert case2.customer_id == case.customer_id


def test_honeypot_and_rate_limit_refuse_politely(faqs, client):
    from satupintu.cases.models import Case

    page = client.get("/help/alpha/", {"q": "kartu kredit hilang", "lang": "en"})
    token = page.context["token"]
    bot = client.post("/help/alpha/person/", {"token": token, "name": "Bot",
                                              "contact": "bot@example.com", "website": "x"})
    assert bot.status_code == 400 and Case.objects.count() == 0
    for _i in range(5):
        record = faq.ask(faqs.alpha, "jam layanan", "id").record
        client.post("/help/alpha/person/", {"token": _token(record), "name": "A",
                                            "contact": "a@example.com"})
    record = faq.ask(faqs.alpha, "jam layanan", "id").record
    refused = client.post("/help/alpha/person/", {"token": _token(record), "name": "A",
                                                  "contact": "a@example.com", "lang": "en"})
    assert refused.status_code == 429 and b"Too many requests" in refused.content
    assert Case.objects.count() == 5
    cache.clear()
    for _i in range(30):
        assert client.get("/help/alpha/", {"q": "jam"}).status_code == 200
    assert client.get("/help/alpha/", {"q": "jam"}).status_code == 429


def _token(record: FaqQuestion) -> str:
    from satupintu.knowledge.views_help import question_token as make

    return make(record)


def test_bad_client_code_is_404(faqs, client):
    assert client.get("/help/nope/").status_code == 404
    assert client.get("/api/v1/knowledge/help/nope", {"q": "x"}).status_code == 404
    faqs.bravo.is_active = False
    faqs.bravo.save()
    assert client.get("/help/bravo/").status_code == 404


def test_public_api_answers_without_auth_and_is_rate_limited(faqs, client):
    response = client.get("/api/v1/knowledge/help/alpha",
                          {"q": "lost credit card", "lang": "en"})
    assert response.status_code == 200
    body = response.json()
    assert body["confident"] and body["articles"][0]["slug"] == "faq-block"
    assert "1500-100" in body["articles"][0]["body"]
    slugs = {a["slug"] for a in body["articles"]}
    assert slugs <= {"faq-block"}
    for _i in range(29):
        client.get("/api/v1/knowledge/help/alpha", {"q": "jam"})
    limited = client.get("/api/v1/knowledge/help/alpha", {"q": "jam"})
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"


def test_threshold_setting_is_permission_checked(faqs):
    from django.core.exceptions import PermissionDenied

    row = faq.set_threshold(faqs.alpha, 3.5, by=faqs.tina)
    assert faq.settings_for(faqs.alpha).threshold == 3.5 and row.max_answers == 3
    with pytest.raises(PermissionDenied):
        faq.set_threshold(faqs.bravo, 1.0, by=faqs.tina)
    with pytest.raises(PermissionDenied):
        faq.set_threshold(faqs.alpha, 1.0, by=faqs.alice)

