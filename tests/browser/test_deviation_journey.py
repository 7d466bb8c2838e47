"""Issue 8 in real browsers: an agent asks for a deviation mid-case, a supervisor sees it
arrive live (WebSocket through daphne) and approves it with changes, the SOP owner turns it
into a published revision, and the agent acknowledges the new version.

pytest-django's ``live_server`` speaks WSGI only, so this module serves the ASGI application
with Channels' test machinery (``daphne.testing.DaphneProcess``, as
``ChannelsLiveServerTestCase`` does) in a forked process that shares the test database. That
process cannot see an in-memory SQLite database, so on SQLite the fixture copies the test
database to a file for this test and points both processes at it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOST = "localhost"
STEPS = ["Verify the customer with two security questions",
         "Unblock the card in the core banking system",
         "Tell the customer the card works again within 24 hours"]
PROPOSAL = "Send a one-time code by SMS instead of the security questions"


@pytest.fixture
def asgi_url(transactional_db: Any, settings: Any, tmp_path: Any) -> Iterator[str]:
    """The ASGI application (HTTP and WebSockets) on a free port against the test data."""
    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connection

    settings.ALLOWED_HOSTS = [HOST, "127.0.0.1"]
    memory = None
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # A forked server cannot reach an in-memory database: copy it to a file and use
        # that file here and there until the test ends.
        connection.ensure_connection()
        memory, memory_name = connection.connection, connection.settings_dict["NAME"]
        path = tmp_path / "journey.sqlite3"
        target = sqlite3.connect(path)
        memory.backup(target)
        target.close()
        connection.connection = None
        connection.settings_dict["NAME"] = str(path)
    else:
        connection.close()  # the child must not share this process's socket
    # Earlier async tests leave asgiref's shared worker thread and a channel layer behind;
    # a forked child inherits the executor but not its thread, so every database call of a
    # WebSocket consumer would wait forever. Give the child fresh ones.
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers

    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    channel_layers.backends.clear()
    server = DaphneProcess(HOST, partial(make_application,
                                         static_wrapper=ASGIStaticFilesHandler))
    server.start()
    if not server.ready.wait(timeout=20):
        server.terminate()
        raise RuntimeError("daphne did not start")
    try:
        yield f"http://{HOST}:{server.port.value}"
    finally:
        server.terminate()
        server.join(10)
        if memory is not None:
            connection.close()
            connection.settings_dict["NAME"] = memory_name
            connection.connection = memory


@pytest.fixture
def new_context(browser: Any) -> Iterator[Any]:
    """More browser contexts (one a person), closed at the end whatever happens."""
    opened: list[Any] = []

    def make() -> Any:
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
        context.set_default_timeout(15_000)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


def _password_login(page: Any, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert "/accounts/login/" not in page.url, page.inner_text("main")


def _verified_session(context: Any, user: Any, login: Any) -> None:
    """A supervisor past the second factor, as the ``login`` fixture does for the test
    client: the session lives in the shared database, the browser gets its cookie."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    login(client, user)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "domain": HOST, "path": "/"}])


def _flash(page: Any) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


def test_deviation_is_approved_live_and_becomes_a_revision(page, new_context, org, login,
                                                           asgi_url, artifacts):
    from satupintu.accounts.models import User
    from satupintu.cases import services as cases
    from satupintu.customers import services as customers
    from satupintu.knowledge.models import Acknowledgement, Deviation, Kind
    from satupintu.knowledge.services import acknowledgements, articles

    url = asgi_url
    tess = User.objects.create_user(username="tess", password=org.password,
                                    role="team_leader", full_name="Tess", team=org.team_a,
                                    site=org.site, language="en")
    tess.clients.set([org.alpha])
    v1 = articles.create_article(by=tess, client=org.alpha, slug="blocked-card",
                                 kind=Kind.SOP, language="en", title="Blocked card",
                                 steps=[{"text": s} for s in STEPS])
    articles.submit(v1, by=tess)
    articles.approve(v1, by=org.sam)
    articles.publish(v1, by=tess)
    acknowledgements.acknowledge(v1, user=org.alice)
    dewi = customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                     identities=[("phone", "081234567890")])
    case = cases.create_case(org.alpha, dewi, "Kartu kredit terblokir", by=org.alice,
                             body="Saya tidak ingat jawaban pertanyaan keamanan.",
                             team=org.team_a, assignee=org.alice)

    # The supervisor watches the deviations page; its socket is open before anything comes.
    sam_context = new_context()
    _verified_session(sam_context, org.sam, login)
    sam = sam_context.new_page()
    sam.goto(f"{url}/knowledge/deviations/")
    assert "/accounts/" not in sam.url
    sam.wait_for_selector("#deviation-live[data-live-state=open]", state="attached")
    assert sam.locator("[data-testid=deviation-notice]").count() == 0

    # The agent asks mid-case.
    _password_login(page, url, "alice", org.password)
    page.goto(f"{url}/cases/{case.reference}/")
    page.screenshot(path=str(artifacts / "deviation-1-case.png"), full_page=True)
    page.click("text=Ask for a deviation")
    page.select_option("#step", f"{v1.pk}:1")
    page.fill("#proposal", PROPOSAL)
    page.select_option("#reason", "not_covered")
    page.fill("#justification", "The customer no longer knows the answers.")
    page.screenshot(path=str(artifacts / "deviation-2-ask.png"), full_page=True)
    page.click("form[data-testid=deviation-form] button[type=submit]")
    page.wait_for_load_state("load")
    assert "sent to the supervisors on duty" in _flash(page)
    deviation = Deviation.objects.get(case=case)

    # Live: the notice appears on the supervisor's page without a reload.
    notice = sam.locator("[data-testid=deviation-notice]")
    notice.wait_for()
    assert case.reference in notice.inner_text() and "step 1" in notice.inner_text()
    sam.screenshot(path=str(artifacts / "deviation-3-live-notice.png"), full_page=True)
    notice.locator("a").click()
    sam.wait_for_url(f"**/knowledge/deviations/{deviation.pk}/")
    sam.fill("#changes", "Log the SMS code reference in the case")
    sam.fill("#note", "Fine for customers who lost their answers")
    sam.click("button[value=approved_changes]")
    sam.wait_for_load_state("load")
    assert sam.inner_text("[data-testid=deviation-status]") == "Approved with changes"
    sam.screenshot(path=str(artifacts / "deviation-4-approved.png"), full_page=True)

    # The agent's case shows the decision and its note.
    page.goto(f"{url}/cases/{case.reference}/")
    assert "Approved with changes" in page.inner_text("[data-testid=case-deviations]")
    timeline = page.inner_text("#timeline")
    assert "Changes: Log the SMS code reference in the case" in timeline
    assert "Fine for customers who lost their answers" in timeline
    page.screenshot(path=str(artifacts / "deviation-5-case-decided.png"), full_page=True)

    # The SOP owner reviews the deviation into a draft revision and submits it.
    tess_context = new_context()
    owner = tess_context.new_page()
    _password_login(owner, url, "tess", org.password)
    owner.goto(f"{url}/knowledge/articles/{v1.article_id}/deviations/")
    cluster = owner.locator("[data-testid=cluster]")
    assert PROPOSAL in cluster.inner_text()
    owner.screenshot(path=str(artifacts / "deviation-6-review.png"), full_page=True)
    owner.click("text=Open a draft revision with the chosen deviations")
    owner.wait_for_load_state("load")
    assert "Draft revision opened" in _flash(owner)
    owner.click("text=Edit draft")
    owner.fill("#id_steps", "\n".join(
        ["Verify the customer with two security questions, or with a one-time SMS code if "
         "they lost their answers (log the code reference)", *STEPS[1:]]))
    owner.click("button:has-text('Save draft')")
    owner.wait_for_load_state("load")
    owner.click("text=Submit for review")
    owner.wait_for_load_state("load")
    assert "Submitted for review." in _flash(owner)
    draft = Deviation.objects.get(pk=deviation.pk).revision
    assert draft is not None and draft.number == 2

    # An approver approves; the owner publishes; the deviation is incorporated.
    sam.goto(f"{url}/knowledge/versions/{draft.pk}/")
    sam.click("form[action$='/approve/'] button[type=submit]")
    sam.wait_for_load_state("load")
    assert "Approved." in _flash(sam)
    owner.goto(f"{url}/knowledge/versions/{draft.pk}/")
    owner.click("text=Publish or schedule")
    owner.wait_for_load_state("load")
    assert "Published." in _flash(owner)
    owner.goto(f"{url}/knowledge/deviations/{deviation.pk}/")
    assert "Incorporated" in owner.inner_text("main")
    owner.screenshot(path=str(artifacts / "deviation-7-incorporated.png"), full_page=True)

    # The agent finds the new version on their home and acknowledges it.
    page.goto(f"{url}/")
    pending = page.locator("[data-testid=kb-pending]")
    assert "Blocked card" in pending.inner_text() and "v2" in pending.inner_text()
    page.screenshot(path=str(artifacts / "deviation-8-home-pending.png"), full_page=True)
    pending.locator("a").first.click()
    page.wait_for_load_state("load")
    assert "one-time SMS code" in page.inner_text("main")
    page.check("#understood")
    page.click("[data-testid=kb-ack] button[type=submit]")
    page.wait_for_load_state("load")
    assert "your acknowledgement is recorded" in _flash(page)
    page.screenshot(path=str(artifacts / "deviation-9-acknowledged.png"), full_page=True)

    deviation.refresh_from_db()
    assert deviation.status == "approved_changes" and deviation.incorporated_at is not None
    assert Acknowledgement.objects.filter(user=org.alice, version=draft).exists()
