"""A supervisor's first log-in in a real browser: password, TOTP set-up, home, Indonesian."""

from __future__ import annotations

import base64
import time

import pytest
from django_otp.oath import totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(secret: str) -> str:
    key = base64.b32decode(secret)
    return f"{totp(key, t0=0, step=30, digits=6, drift=0, ):06d}"


def test_supervisor_sets_up_totp_and_reads_home_in_indonesian(page, live_server, org,
                                                              artifacts):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "sam")
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]")
    assert "Wrong username or password." in page.inner_text(".form-error")

    page.fill("#id_username", "sam")
    page.fill("#id_password", org.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/mfa/setup/")
    secret = page.inner_text("[data-testid=totp-secret]").strip()
    assert page.locator(".qr svg").count() == 1

    page.fill("#id_code", "000000")
    page.click("form button[type=submit].primary")
    assert "That code is not valid" in page.inner_text(".field-error")
    time.sleep(1.1)  # django-otp throttles the next try for a second after a wrong code

    page.fill("#id_code", _code(secret))
    page.click("form button[type=submit].primary")
    codes = page.locator("[data-testid=recovery-codes] li")
    assert codes.count() == 10
    page.click("text=I have saved them")

    assert page.inner_text("[data-testid=home-title]") == "The floor"
    assert "Alpha Bank" in page.content()
    page.screenshot(path=str(artifacts / "supervisor-home-en.png"), full_page=True)

    with page.expect_navigation():  # the select submits its form on change
        page.select_option("#language-select", "id")
    assert page.inner_text("[data-testid=home-title]") == "Lantai operasional"
    assert page.locator("html").get_attribute("lang") == "id"
    assert "Keluar" in page.inner_text("header")
    page.screenshot(path=str(artifacts / "supervisor-home-id.png"), full_page=True)

    org.sam.refresh_from_db()
    assert org.sam.language == "id"
