"""First-contact resolution from real cases and timelines (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from satupintu.cases import kpis, services
from satupintu.cases.models import Channel, ContactReason
from satupintu.customers import services as customers

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(org):
    dewi = customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                     identities=[("phone", "081234567890")])
    card = ContactReason.objects.create(client=org.alpha, name_id="Kartu", name_en="Card")
    loan = ContactReason.objects.create(client=org.alpha, name_id="Pinjaman", name_en="Loan")
    return org, dewi, card, loan


def _resolved_case(org, customer, reason, **kwargs):
    case = services.create_case(org.alpha, customer, "Kartu terblokir", by=org.alice,
                                body="Kartu saya tidak bisa dipakai.", channel=Channel.PHONE,
                                reason=reason, **kwargs)
    return services.change_status(case, "resolved", by=org.alice)


def _period():
    now = timezone.now()
    return now - timedelta(hours=1), now + timedelta(hours=1)


def _repeat(org, customer, reason, days, channel=Channel.WHATSAPP):
    return services.create_case(org.alpha, customer, "Lagi", by=None, body="Masih belum bisa.",
                                channel=channel, reason=reason,
                                now=timezone.now() + timedelta(days=days))


def test_resolved_one_contact_case_without_repeat_is_fcr(setup):
    org, dewi, card, _loan = setup
    case = _resolved_case(org, dewi, card)
    result = kpis.fcr_rate(org.alpha, *_period())
    assert (result.resolved, result.first_contact, result.rate) == (1, 1, 100.0)
    assert result.case_ids == {case.pk}


def test_repeat_on_same_reason_within_window_on_another_channel_breaks_it(setup):
    org, dewi, card, _loan = setup
    _resolved_case(org, dewi, card)
    _repeat(org, dewi, card, days=3)
    result = kpis.fcr_rate(org.alpha, *_period())
    assert (result.resolved, result.first_contact, result.rate) == (1, 0, 0.0)


def test_repeat_on_another_reason_or_after_the_window_keeps_it(setup):
    org, dewi, card, loan = setup
    _resolved_case(org, dewi, card)
    _repeat(org, dewi, loan, days=2)
    _repeat(org, dewi, card, days=8)
    assert kpis.fcr_rate(org.alpha, *_period()).rate == 100.0
    # the client's window is a setting: with 10 days the day-8 repeat counts
    assert kpis.fcr_rate(org.alpha, *_period(), window_days=10).rate == 0.0


def test_two_contacts_before_resolution_is_not_fcr(setup):
    org, dewi, card, _loan = setup
    case = services.create_case(org.alpha, dewi, "Kartu terblokir", by=org.alice,
                                body="Kartu saya tidak bisa dipakai.", reason=card)
    services.receive_customer_message(case, "Halo? Masih menunggu.", channel=Channel.CHAT)
    services.change_status(case, "resolved", by=org.alice)
    result = kpis.fcr_rate(org.alpha, *_period())
    assert (result.resolved, result.first_contact) == (1, 0)


def test_customer_reopening_the_case_breaks_it(setup):
    org, dewi, card, _loan = setup
    case = _resolved_case(org, dewi, card)
    services.receive_customer_message(case, "Masih terblokir.",
                                      now=timezone.now() + timedelta(hours=2))
    assert kpis.fcr_rate(org.alpha, *_period()).rate == 0.0


def test_case_opened_without_a_message_counts_its_opening_and_other_clients_stay_apart(setup):
    org, dewi, card, _loan = setup
    case = services.create_case(org.alpha, dewi, "Telepon masuk", by=org.alice, reason=card,
                                channel=Channel.PHONE)
    services.change_status(case, "resolved", by=org.alice)
    budi = customers.create_customer(org.bravo, "Budi", by=org.bob)
    other = services.create_case(org.bravo, budi, "x", by=org.bob, body="y")
    services.change_status(other, "resolved", by=org.bob)
    result = kpis.fcr_rate(org.alpha, *_period())
    assert (result.resolved, result.first_contact) == (1, 1)


def test_only_cases_first_resolved_in_the_period_count(setup):
    org, dewi, card, _loan = setup
    _resolved_case(org, dewi, card)
    later = timezone.now() + timedelta(days=1)
    result = kpis.fcr_rate(org.alpha, later, later + timedelta(days=1))
    assert (result.resolved, result.rate) == (0, None)
