"""Search quality: judged queries over the demo knowledge base, MRR@10 and recall@5.

``python -m satupintu.knowledge.evaluation`` builds the demo articles in a throw-away SQLite
database and prints full search against plain keyword search; the test suite asserts that
the full search wins on both measures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

QUERIES_FILE = Path(__file__).with_name("queries.yaml")


@dataclass(frozen=True)
class Judged:
    query: str
    language: str
    client: str
    relevant: frozenset[str]


@dataclass(frozen=True)
class Scores:
    name: str
    mrr_at_10: float
    recall_at_5: float
    queries: int


def load_queries() -> list[Judged]:
    rows = yaml.safe_load(QUERIES_FILE.read_text(encoding="utf-8"))
    return [Judged(r["query"], r["language"], r["client"], frozenset(r["relevant"]))
            for r in rows]


def score(name: str, judged: Sequence[Judged],
          ranker: Callable[[Judged], list[str]]) -> Scores:
    """MRR@10: mean of 1/rank of the first relevant slug in the top 10 (0 if none).
    Recall@5: mean share of the relevant slugs found in the top 5."""
    rr = recall = 0.0
    for item in judged:
        ranked = ranker(item)
        first = next((i for i, slug in enumerate(ranked[:10], start=1)
                      if slug in item.relevant), None)
        rr += 1.0 / first if first else 0.0
        recall += len(item.relevant & set(ranked[:5])) / len(item.relevant)
    n = len(judged) or 1
    return Scores(name, rr / n, recall / n, len(judged))


def compare(judged: Sequence[Judged] | None = None) -> list[Scores]:
    """Full search and keyword search over the articles in the database (demo client codes)."""
    from satupintu.accounts.models import Client
    from satupintu.knowledge import search

    judged = list(judged or load_queries())
    ids = dict(Client.objects.values_list("code", "id"))

    def ranker(fn: Callable[..., Any]) -> Callable[[Judged], list[str]]:
        return lambda item: [h.article.slug for h in fn(item.query, {ids[item.client]},
                                                        limit=10)]

    return [score("full (BM25 + stems + synonyms + typos)", judged, ranker(search.search)),
            score("keyword (substring AND)", judged, ranker(search.keyword_search))]


def table(rows: Sequence[Scores]) -> str:
    lines = [f"{'search':42} {'MRR@10':>8} {'recall@5':>9} {'queries':>8}"]
    lines += [f"{r.name:42} {r.mrr_at_10:8.3f} {r.recall_at_5:9.3f} {r.queries:8d}"
              for r in rows]
    return "\n".join(lines)
