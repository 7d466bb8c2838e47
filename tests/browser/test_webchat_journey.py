"""Issue 6, web chat, in real browsers: a customer on a client's web site (another origin,
embedding the widget with its one script tag) chats with an agent on the Chats page. The
customer's connection is killed mid-conversation; the customer writes while disconnected and
the agent replies meanwhile; after the reconnect every message is on both screens exactly
once, and on the case timeline exactly once.

The server is the ASGI application under daphne (HTTP and WebSockets), as in the deviation
journey, whose fixtures this module reuses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.browser import test_deviation_journey as journey

# The daphne server and the extra browser contexts of the deviation journey.
asgi_url = journey.asgi_url
new_context = journey.new_context
_verified_session = journey._verified_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def _host_page(url: str) -> str:
    """The client's own page: nothing of ours but the one script tag."""
    return (f'<!doctype html><html lang="en"><head><title>Alpha Bank</title></head>'
            f"<body><h1>Alpha Bank</h1><p>Welcome to our web site.</p>"
            f'<script src="{url}/chat/widget.js" data-client="alpha" defer></script>'
            f"</body></html>")


def _texts(locator: Any) -> list[str]:
    return [t.strip() for t in locator.all_inner_texts()]


def _count(texts: list[str], needle: str) -> int:
    return sum(1 for t in texts if needle in t)


@pytest.fixture
def host_site() -> Iterator[Callable[[str], str]]:
    """The client's own web site: another origin (127.0.0.1 on its own port), a plain HTTP
    server in a thread. Returns its origin."""
    servers: list[ThreadingHTTPServer] = []

    def serve(html: str) -> str:
        body = html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_customer_and_agent_chat_through_a_dropped_connection(new_context, org, login,
                                                              asgi_url, host_site,
                                                              artifacts):
    from satupintu.cases.models import CaseEvent
    from satupintu.webchat import services
    from satupintu.webchat.models import ChatMessage, ChatSession

    url = asgi_url
    shop = host_site(_host_page(url))
    services.configure_widget(org.alpha, by=org.root, allowed_origins=[shop])

    # The agent has the Chats page open before the customer arrives.
    agent_context = new_context()
    _verified_session(agent_context, org.alice, login)
    agent = agent_context.new_page()
    agent.goto(f"{url}/chat/")
    assert "/accounts/" not in agent.url
    agent.wait_for_selector("#agent-chat-status:has-text('Live updates on.')")

    # The customer on the client's site opens the widget and fills in the pre-chat form.
    customer_context = new_context()
    customer = customer_context.new_page()
    customer.goto(f"{shop}/")
    customer.click("#satupintu-chat-launcher")
    chat = customer.frame_locator("#satupintu-chat-frame")
    chat.locator("#pc-name").fill("Dewi Lestari")
    chat.locator("#pc-contact").fill("dewi@example.co.id")
    chat.locator("#pc-topic").fill("Kartu kredit")
    chat.locator("#pc-message").fill("Kartu saya terblokir.")
    customer.screenshot(path=str(artifacts / "webchat-1-prechat.png"))
    chat.locator("#prechat button[type=submit]").click()
    chat.locator("li.chatw-visitor[data-seq='1']").wait_for()
    session = ChatSession.objects.get()
    assert session.customer.name == "Dewi Lestari" and session.case.channel == "chat"

    # The chat arrives live on the agent's page.
    card = agent.locator(f".chat-card[data-session='{session.pk}']")
    card.wait_for()
    assert "Kartu saya terblokir." in card.inner_text()

    def customer_says(text: str) -> None:
        chat.locator("#chat-text").fill(text)
        chat.locator("#chat-send").click()

    def agent_says(text: str) -> None:
        card.locator("textarea").fill(text)
        card.locator("form.chat-reply button[type=submit]").click()

    customer_says("Saya di Jakarta.")
    card.locator(".chat-visitor:has-text('Saya di Jakarta.')").wait_for()
    agent_says("Baik, saya cek dulu.")
    chat.locator(".chatw-agent:has-text('Baik, saya cek dulu.')").wait_for()
    chat.locator("#chat-agent:has-text('Alice')").wait_for()

    # Kill the customer's connection mid-conversation.
    customer_context.set_offline(True)
    frame = next(f for f in customer.frames if "/chat/w/alpha/" in f.url)
    frame.evaluate("window.satupintuChat.drop()")
    chat.locator("#chat-status:has-text('Connection lost')").wait_for()
    customer_says("Apakah masih ada di sana?")
    pending = chat.locator("li.chatw-visitor:has-text('Apakah masih ada di sana?')")
    pending.wait_for()
    agent_says("Kartu Anda sudah dibuka kembali.")
    card.locator(".chat-agent:has-text('Kartu Anda sudah dibuka kembali.')").wait_for()
    # Still disconnected: the customer's message waits in the widget, not on the server.
    assert frame.evaluate("window.satupintuChat.connected()") is False
    assert frame.evaluate("window.satupintuChat.pending()") == 1
    assert not CaseEvent.objects.filter(body="Apakah masih ada di sana?").exists()
    assert chat.locator(".chatw-agent:has-text('Kartu Anda sudah dibuka kembali.')").count() == 0
    customer.screenshot(path=str(artifacts / "webchat-2-offline.png"))

    # Back online: the widget reconnects, resumes and resends; nothing lost, nothing twice.
    customer_context.set_offline(False)
    chat.locator(".chatw-agent:has-text('Kartu Anda sudah dibuka kembali.')").wait_for(
        timeout=30_000)
    card.locator(".chat-visitor:has-text('Apakah masih ada di sana?')").wait_for(
        timeout=30_000)
    chat.locator("li.is-sent:has-text('Apakah masih ada di sana?')").wait_for()
    assert frame.evaluate("window.satupintuChat.pending()") == 0
    customer_says("Terima kasih!")
    card.locator(".chat-visitor:has-text('Terima kasih!')").wait_for()
    chat.locator("li.is-sent:has-text('Terima kasih!')").wait_for()
    agent.wait_for_timeout(500)  # anything doubled would have arrived by now

    visitor_lines = ["Kartu saya terblokir.", "Saya di Jakarta.", "Apakah masih ada di sana?",
                     "Terima kasih!"]
    agent_lines = ["Baik, saya cek dulu.", "Kartu Anda sudah dibuka kembali."]
    on_customer = _texts(chat.locator("#chat-log li .chatw-text"))
    on_agent = _texts(card.locator(".chat-log li .chat-text"))
    assert len(on_customer) == len(on_agent) == 6, (on_customer, on_agent)
    for line in visitor_lines + agent_lines:
        assert _count(on_customer, line) == 1, (line, on_customer)
        assert _count(on_agent, line) == 1, (line, on_agent)
    events = CaseEvent.objects.filter(case=session.case)
    for line in visitor_lines:
        assert events.filter(kind="inbound", body=line).count() == 1, line
    for line in agent_lines:
        assert events.filter(kind="outbound", body=line).count() == 1, line
    seqs = list(ChatMessage.objects.filter(session=session).values_list("seq", flat=True))
    assert seqs == list(range(1, 7))

    customer.screenshot(path=str(artifacts / "webchat-3-customer-after.png"))
    agent.screenshot(path=str(artifacts / "webchat-4-agent-after.png"), full_page=True)

    # After a reload the widget shows the same conversation, once.
    customer.reload()
    customer.click("#satupintu-chat-launcher")
    chat = customer.frame_locator("#satupintu-chat-frame")
    chat.locator("li[data-seq='6']").wait_for()
    assert len(_texts(chat.locator("#chat-log li .chatw-text"))) == 6
    # ... and in Indonesian after the language switch, still the same chat.
    chat.locator("#chat-lang").click()
    chat.locator("html[lang=id] li[data-seq='6']").wait_for()
    assert len(_texts(chat.locator("#chat-log li .chatw-text"))) == 6
    customer.screenshot(path=str(artifacts / "webchat-5-customer-indonesian.png"))
