"""A customer uses a client's public contact form in a real browser, gets a reference, and
follows the case on the status page; the honeypot stays invisible to people."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_writes_in_and_follows_the_case(page, live_server, org, artifacts):
    from satupintu.cases.models import Case, ContactReason

    ContactReason.objects.create(client=org.alpha, name_id="Tagihan", name_en="Billing")
    page.goto(f"{live_server.url}/public/contact/alpha/")
    assert page.locator("html").get_attribute("lang") == "en"  # the browser asks for English
    assert not page.locator("#id_website").is_visible() or \
        page.locator("#id_website").bounding_box()["x"] < 0
    page.fill("#id_name", "Dewi Lestari")
    page.fill("#id_email", "dewi@example.co.id")
    page.select_option("#id_reason", label="Billing")
    page.fill("#id_message", "I was charged twice for my card this month.")
    page.screenshot(path=str(artifacts / "contact-form-en.png"), full_page=True)
    time.sleep(3.2)  # a person takes longer than the form's 3-second minimum
    page.click("#contact-form button[type=submit]")
    page.wait_for_url("**/thanks/**")
    reference = page.inner_text("#case-reference").strip()
    case = Case.objects.get(reference=reference)
    assert case.client == org.alpha and case.channel == "web"
    page.click("text=Follow your case")
    page.wait_for_url("**/public/status/**")
    assert reference in page.inner_text("h1")
    assert "I was charged twice" in page.inner_text(".portal-thread")
    with page.expect_navigation():
        page.select_option("#language-select", "id")
    assert page.locator("html").get_attribute("lang") == "id"
    page.screenshot(path=str(artifacts / "case-status-id.png"), full_page=True)
