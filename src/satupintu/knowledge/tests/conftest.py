"""Knowledge fixtures on top of the shared ``org`` personas.

tina leads Team Alpha (writes drafts for Alpha Bank); sam, Alpha's supervisor, approves;
carol is a second agent of Team Alpha (Indonesian); mia is a manager of both clients.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

SOP_STEPS = [
    {"text": "Verify the customer"},
    {"text": "Is the card lost?", "branches": [{"label": "Yes", "goto": 3},
                                                {"label": "No", "goto": 4}]},
    {"text": "Block the card"},
    {"text": "Forward to fraud"},
]
QUIZ = [{"question": "When is the card blocked?",
         "options": [{"text": "During the call", "correct": True},
                     {"text": "Tomorrow", "correct": False}]}]


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Service tests run outside a request: read refusals in English unless a test says."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def kb(org: SimpleNamespace) -> SimpleNamespace:
    from satupintu.accounts.models import User
    from satupintu.knowledge.services import articles

    tina = User.objects.create_user(username="tina", role="team_leader", full_name="Tina",
                                    team=org.team_a, site=org.site, language="en")
    tina.clients.set([org.alpha])
    org.team_a.leader = tina
    org.team_a.save()
    carol = User.objects.create_user(username="carol", role="agent", full_name="Carol",
                                     team=org.team_a, site=org.site, language="id")
    carol.clients.set([org.alpha])
    mia = User.objects.create_user(username="mia", role="manager", full_name="Mia",
                                   site=org.site, language="en")
    mia.clients.set([org.alpha, org.bravo])

    def publish(version: Any, *, author: Any = None, approver: Any = None, **kwargs: Any) -> Any:
        author = author or version.author
        articles.submit(version, by=author)
        articles.approve(version, by=approver or org.sam)
        return articles.publish(version, by=author, **kwargs)

    def sop(slug: str = "block-card", client: Any = org.alpha, *, quiz: Any = None,
            language: str = "en", title: str = "Block a lost card",
            body: str = "The customer lost the card. Block it at once.") -> Any:
        author = tina if client is not None else org.root
        version = articles.create_article(by=author, client=client, slug=slug, kind="sop",
                                          language=language, title=title, body=body,
                                          steps=SOP_STEPS, quiz=quiz or [])
        return publish(version, approver=org.sam if client is not None else mia)

    ns = SimpleNamespace(**vars(org))
    ns.tina, ns.carol, ns.mia, ns.publish, ns.sop = tina, carol, mia, publish, sop
    return ns


@pytest.fixture
def fresh_cache() -> Any:
    """Rate limits count in the cache: each test of the public endpoints starts afresh."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def faqs(kb: SimpleNamespace) -> SimpleNamespace:
    def make(slug: str, client: Any, *, language: str, title: str, body: str,
             kind: str = "faq", audience: str = "public") -> Any:
        author = {kb.alpha: kb.tina, kb.bravo: kb.mia}.get(client, kb.root)
        approver = {kb.alpha: kb.sam, kb.bravo: kb.root}.get(client, kb.mia)
        from satupintu.knowledge.services import articles

        version = articles.create_article(by=author, client=client, slug=slug, kind=kind,
                                          audience=audience, language=language, title=title,
                                          body=body)
        return kb.publish(version, approver=approver)

    make("faq-blokir", kb.alpha, language="id", title="Cara blokir kartu kredit hilang",
         body="Jika kartu kredit hilang, blokir kartu lewat aplikasi atau telepon 1500-100.")
    make("faq-block", kb.alpha, language="en", title="How to block a lost credit card",
         body="If your credit card is lost, block the card in the app or call 1500-100.")
    make("faq-internal", kb.alpha, language="id", audience="internal",
         title="Blokir kartu kredit: catatan internal",
         body="Rahasia internal: kartu kredit hilang diblokir tanpa verifikasi.")
    make("sop-blokir", kb.alpha, language="id", kind="sop", audience="internal",
         title="SOP blokir kartu kredit hilang", body="Langkah blokir kartu kredit hilang.")
    make("faq-bravo", kb.bravo, language="id", title="Blokir kartu SIM hilang Bravo",
         body="Kartu kredit hilang? Blokir kartu SIM Bravo lewat 188.")
    make("faq-jam", None, language="id", title="Jam layanan",
         body="Layanan pelanggan buka setiap hari pukul 08.00 sampai 20.00.")
    return kb
