"""Searching the published knowledge base, and the plain keyword search it is measured against.

The ranking itself lives in ``satupintu.engine.text_search`` (no Django). Here we pick the
versions a reader may see — published, in force, article not retired, client in scope — and
keep one in-memory BM25 index per distinct set of such versions and synonym dictionary. The
cache key changes whenever a version is published, goes live, or the article is retired, so
there is nothing to invalidate and it behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q

from satupintu.engine.text_search import Analyzer, Document, Index
from satupintu.knowledge.models import ArticleVersion, Audience, Synonym
from satupintu.knowledge.queries import live_versions

_CACHE_SIZE = 32
_cache: OrderedDict[tuple[object, ...], Index] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class Hit:
    version: ArticleVersion
    score: float

    @property
    def article(self):  # type: ignore[no-untyped-def]
        return self.version.article

    @property
    def snippet(self) -> str:
        text = self.version.summary or self.version.body
        return text if len(text) <= 220 else text[:217].rsplit(" ", 1)[0] + "…"


def searchable_versions(client_ids: Iterable[int], *, now: datetime | None = None,
                        public_only: bool = False) -> list[ArticleVersion]:
    """Current versions (each language) of the articles these clients' staff may read."""
    rows = (live_versions(now)
            .filter(Q(article__client__isnull=True) | Q(article__client__in=list(client_ids)))
            .select_related("article", "article__client")
            .order_by("article_id", "language", "-effective_from", "-number"))
    if public_only:
        rows = rows.filter(article__audience=Audience.PUBLIC)
    current: dict[tuple[int, str], ArticleVersion] = {}
    for version in rows:
        current.setdefault((version.article_id, version.language), version)
    return list(current.values())


def synonyms_for(client_ids: Iterable[int]) -> dict[str, str]:
    """Shared entries first, then each client's own (which win on the same term)."""
    rows = (Synonym.objects.filter(Q(client__isnull=True) | Q(client__in=list(client_ids)))
            .order_by(F("client_id").asc(nulls_first=True), "term")
            .values_list("term", "means"))
    return dict(rows)


def _index(versions: list[ArticleVersion], synonyms: dict[str, str]) -> Index:
    key = (tuple(sorted(v.pk for v in versions)), tuple(sorted(synonyms.items())))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    index = Index.build(
        (Document(v.pk, v.title, v.searchable_text(), v.language) for v in versions),
        Analyzer.with_synonyms(synonyms))
    with _lock:
        _cache[key] = index
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def _one_per_article(ranked: list[tuple[ArticleVersion, float]], limit: int) -> list[Hit]:
    seen: set[int] = set()
    hits = []
    for version, score in ranked:
        if version.article_id in seen:
            continue
        seen.add(version.article_id)
        hits.append(Hit(version, score))
        if len(hits) == limit:
            break
    return hits


def search(query: str, client_ids: Iterable[int], *, limit: int = 10,
           now: datetime | None = None, public_only: bool = False) -> list[Hit]:
    """BM25 over stemmed, synonym-expanded, typo-tolerant terms; one hit per article."""
    ids = set(client_ids)
    versions = searchable_versions(ids, now=now, public_only=public_only)
    if not query.strip() or not versions:
        return []
    by_pk = {v.pk: v for v in versions}
    index = _index(versions, synonyms_for(ids))
    ranked = [(by_pk[pk], score) for pk, score in index.search(query, limit=limit * 3)]
    return _one_per_article(ranked, limit)


def keyword_search(query: str, client_ids: Iterable[int], *, limit: int = 10,
                   now: datetime | None = None) -> list[Hit]:
    """The baseline: every word must appear (case-insensitive substring); most mentions first."""
    words = [w for w in query.lower().split() if w]
    if not words:
        return []
    ranked = []
    for version in searchable_versions(set(client_ids), now=now):
        text = f"{version.title}\n{version.searchable_text()}".lower()
        if all(w in text for w in words):
            ranked.append((version, float(sum(text.count(w) for w in words))))
    ranked.sort(key=lambda item: (-item[1], item[0].article.slug))
    return _one_per_article(ranked, limit)
