"""Demo knowledge base: bilingual SOPs, policies and FAQs per client, with history and
acknowledgements by part of the agents. Everything goes through the knowledge services, so
the demo exercises the same review and publication rules as real use."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from django.utils import timezone

from satupintu.accounts.models import Client, User
from satupintu.accounts.roles import Role
from satupintu.knowledge.forms import parse_quiz, parse_steps
from satupintu.knowledge.models import Article, ArticleVersion, Kind
from satupintu.knowledge.queries import applies_to
from satupintu.knowledge.services import acknowledgements, articles

ARTICLES_FILE = Path(__file__).with_name("knowledge.yaml")


def _content(text: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": text["title"], "summary": text.get("summary", ""),
        "body": (text.get("body") or "").strip(),
        "steps": parse_steps(text.get("steps") or ""),
        "quiz": parse_quiz(text.get("quiz") or ""),
        "pass_mark": int(text.get("pass_mark", 100)),
    }


def _correct_answers(version: ArticleVersion) -> dict[int, list[int]]:
    return {qi: [oi for oi, o in enumerate(q["options"]) if o["correct"]]
            for qi, q in enumerate(version.quiz or [])}


def _publish(version: ArticleVersion, author: User, approver: User) -> ArticleVersion:
    articles.submit(version, by=author)
    articles.approve(version, by=approver, note="OK")
    return articles.publish(version, by=author)


def _acknowledge_some(article: Article, agents: list[User], share: float, rng: random.Random,
                      skip: set[str]) -> None:
    versions = {v.language: v for v in article.versions.filter(status="published")
                .order_by("number")}
    for agent in agents:
        if agent.username in skip or rng.random() >= share or not applies_to(article, agent):
            continue
        version = versions.get(agent.language) or versions.get("id")
        if version is None or version.acknowledgements.filter(user=agent).exists():
            continue
        acknowledgements.acknowledge(version, user=agent, answers=_correct_answers(version))


def load_articles(clients: dict[str, Client], *, author: User, approver: User,
                  shared_author: User | None = None, agents: list[User] | None = None,
                  rng: random.Random | None = None) -> list[Article]:
    """Create and publish every article of ``knowledge.yaml``; optionally acknowledge."""
    rng = rng or random.Random(0)
    spec = yaml.safe_load(ARTICLES_FILE.read_text(encoding="utf-8"))
    created = []
    for item in spec:
        client = clients.get(item["client"]) if item.get("client") else None
        if item.get("client") and client is None:
            continue
        writer = author if client is not None else (shared_author or author)
        article: Article | None = None
        for number, revision in enumerate(item["revisions"]):
            for language in ("id", "en"):
                if language not in revision:
                    continue
                content = _content(revision[language])
                if article is None:
                    version = articles.create_article(
                        by=writer, client=client, slug=item["slug"], kind=item["kind"],
                        audience=item.get("audience", "internal"), language=language, **content)
                    article = version.article
                else:
                    version = articles.start_draft(article, language, by=writer)
                    articles.edit_draft(version, by=writer, **content)
                _publish(version, writer, approver)
            if agents and article is not None and article.kind == Kind.SOP:
                last = number == len(item["revisions"]) - 1
                _acknowledge_some(article, agents, 0.6 if last else 0.5, rng,
                                  skip={"agent"} if last else set())
        if article is not None:
            created.append(article)
    return created


def build(seed: int) -> None:
    rng = random.Random(seed + 8)
    clients = {c.code: c for c in Client.objects.all()}
    admin = User.objects.get(username="admin")
    qa = User.objects.get(username="qa")
    manager = User.objects.get(username="manager")
    agents = list(User.objects.filter(role=Role.AGENT, is_active=True).order_by("username"))
    load_articles(clients, author=qa, approver=manager, shared_author=admin, agents=agents,
                  rng=rng)
    # A price change scheduled two weeks ahead, and a draft waiting for review.
    prepaid = Article.objects.get(slug="tm-paket-prabayar")
    draft = articles.start_draft(prepaid, "id", by=qa)
    articles.edit_draft(draft, by=qa, body=draft.body.replace("Rp100.000", "Rp95.000"),
                        summary="Harga Paket Bulanan turun menjadi Rp95.000.")
    articles.submit(draft, by=qa)
    articles.approve(draft, by=manager, note="Harga baru dari tim produk.")
    articles.publish(draft, by=qa, effective_from=timezone.now() + timedelta(days=14))
    pin = Article.objects.get(slug="bn-reset-pin")
    review = articles.start_draft(pin, "id", by=qa)
    articles.edit_draft(review, by=qa, body=review.body + "\nReset PIN lewat video call "
                        "tersedia setiap hari pukul 08.00–20.00.")
    articles.submit(review, by=qa)
