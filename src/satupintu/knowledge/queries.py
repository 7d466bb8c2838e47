"""Reads that are more than a filter: current versions, who must acknowledge, diffs."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from satupintu.accounts.models import Team, User
from satupintu.accounts.permissions import client_ids
from satupintu.accounts.roles import Role
from satupintu.knowledge.models import Acknowledgement, Article, ArticleVersion, Kind, Status


def live_versions(now: datetime | None = None) -> QuerySet[ArticleVersion]:
    """Published versions already in effect, of articles not retired."""
    return ArticleVersion.objects.filter(status=Status.PUBLISHED,
                                         effective_from__lte=now or timezone.now(),
                                         article__retired_at__isnull=True)


def current_versions(articles: Iterable[int] | QuerySet[Article] | None = None,
                     now: datetime | None = None) -> dict[tuple[int, str], ArticleVersion]:
    """``(article id, language) → current version``: the latest one in effect.

    Computed in Python over the live rows (one query), the same on SQLite and PostgreSQL.
    """
    rows = live_versions(now).select_related("article", "article__client")
    if articles is not None:
        rows = rows.filter(article__in=articles)
    current: dict[tuple[int, str], ArticleVersion] = {}
    for version in rows.order_by("article_id", "language", "-effective_from", "-number"):
        current.setdefault((version.article_id, version.language), version)
    return current


def current_version(article: Article, language: str | None = None,
                    now: datetime | None = None) -> ArticleVersion | None:
    """The current version in ``language``, else in the other language."""
    found = current_versions([article.pk], now)
    preferred = [language] if language else []
    for lang in [*preferred, "id", "en"]:
        if (article.pk, lang) in found:
            return found[(article.pk, lang)]
    return None


def is_current(version: ArticleVersion, now: datetime | None = None) -> bool:
    found = current_versions([version.article_id], now)
    return found.get((version.article_id, version.language)) == version


def visible_articles_for(user: User) -> QuerySet[Article]:
    return Article.objects.filter(Q(client__isnull=True) | Q(client__in=client_ids(user)))


def applies_to(article: Article, user: User) -> bool:
    """Whether ``user`` must acknowledge this SOP (agents of its client, narrowed by teams)."""
    if article.kind != Kind.SOP or user.role != Role.AGENT or article.is_retired:
        return False
    if article.client_id is not None and article.client_id not in client_ids(user):
        return False
    team_ids = {t.pk for t in article.teams.all()}
    return not team_ids or user.team_id in team_ids


def required_versions(user: User, now: datetime | None = None) -> list[ArticleVersion]:
    """The SOP versions this agent must have acknowledged: one per SOP, in their language."""
    if user.role != Role.AGENT:
        return []
    articles = (visible_articles_for(user).filter(kind=Kind.SOP, retired_at__isnull=True)
                .prefetch_related("teams"))
    wanted = [a for a in articles
              if not (team_ids := {t.pk for t in a.teams.all()}) or user.team_id in team_ids]
    current = current_versions([a.pk for a in wanted], now)
    out = []
    for article in wanted:
        for lang in (user.language, "id", "en"):
            if (article.pk, lang) in current:
                out.append(current[(article.pk, lang)])
                break
    return out


def pending_acknowledgements(user: User, now: datetime | None = None) -> list[ArticleVersion]:
    required = required_versions(user, now)
    done = set(Acknowledgement.objects.filter(user=user, version__in=required)
               .values_list("version_id", flat=True))
    return [v for v in required if v.pk not in done]


def acknowledgement_report(teams: Iterable[Team],
                           now: datetime | None = None) -> list[dict[str, Any]]:
    """Per team: each agent and the SOP versions they have not acknowledged yet."""
    report = []
    for team in teams:
        rows = []
        agents = team.members.filter(role=Role.AGENT, is_active=True).order_by("full_name")
        for agent in agents:
            pending = pending_acknowledgements(agent, now)
            rows.append({"agent": agent, "pending": pending})
        missing = sum(1 for r in rows if r["pending"])
        report.append({"team": team, "rows": rows, "missing": missing, "total": len(rows)})
    return report


def history(article: Article) -> QuerySet[ArticleVersion]:
    return article.versions.select_related("author", "reviewed_by", "published_by").order_by(
        "language", "-number")


_WORD = re.compile(r"\s+|[^\s]+")


def diff_html(old: ArticleVersion | None, new: ArticleVersion) -> SafeString:
    """A word-level diff of the readable text, as HTML with ``<del>`` and ``<ins>``."""
    a = _WORD.findall(old.as_text() if old else "")
    b = _WORD.findall(new.as_text())
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(escape("".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if tag in ("insert", "replace"):
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return mark_safe("".join(out))  # noqa: S308  (every piece is escaped above)
