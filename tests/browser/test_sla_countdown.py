"""An agent's case page in a real browser: SLA clocks count down, amber near the deadline."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_case_page_counts_down_and_turns_amber(page, live_server, org, artifacts):
    from satupintu.cases import services as cases
    from satupintu.customers import services as customers
    from satupintu.sla.models import BusinessCalendar, SlaPolicy

    calendar = BusinessCalendar.objects.create(name="24x7", client=org.alpha,
                                               weekly_hours=[[["00:00", "24:00"]]] * 7,
                                               use_public_holidays=False)
    SlaPolicy.objects.create(client=org.alpha, priority="normal", calendar=calendar,
                             name="Alpha normal", first_response_minutes=60,
                             resolution_minutes=600)
    dewi = customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                     identities=[("phone", "081234567890")])
    case = cases.create_case(org.alpha, dewi, "Kartu terblokir", by=org.alice,
                             assignee=org.alice, now=timezone.now() - timedelta(minutes=47))

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", org.password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    first = page.locator(".sla-clock").first
    countdown = first.locator(".sla-countdown")
    text = countdown.inner_text()
    assert re.fullmatch(r"00:1[23]:\d\d left", text), text
    page.wait_for_timeout(1500)
    assert countdown.inner_text() != text
    # 47 of 60 minutes gone is still before the 80 % warning; a later case turns amber.
    assert "sla-warning" not in (first.get_attribute("class") or "")
    page.screenshot(path=str(artifacts / "case-sla-running.png"), full_page=True)
    late = cases.create_case(org.alpha, dewi, "Lama", by=org.alice, assignee=org.alice,
                             now=timezone.now() - timedelta(minutes=50))
    page.goto(f"{live_server.url}/cases/{late.reference}/")
    assert "sla-warning" in (page.locator(".sla-clock").first.get_attribute("class") or "")
    page.goto(f"{live_server.url}/cases/mine/?sort=deadline")
    rows = page.locator("tbody tr a").all_inner_texts()
    assert rows[:2] == [late.reference, case.reference]
