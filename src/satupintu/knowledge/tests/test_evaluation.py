"""Search quality on the judged demo queries: the full search must beat keyword search."""

from __future__ import annotations

import pytest

from satupintu.knowledge.evaluation import Judged, compare, load_queries, score, table
from satupintu.knowledge.evaluation.fixture import build_knowledge_base


def test_the_query_set_is_large_and_bilingual():
    queries = load_queries()
    assert len(queries) >= 50
    assert {q.language for q in queries} == {"id", "en"}
    assert {q.client for q in queries} == {"bank-nusantara", "telko-merah-putih", "pasar-kita"}


def test_metrics_are_computed_as_defined():
    judged = [Judged("a", "id", "x", frozenset({"r1"})),
              Judged("b", "id", "x", frozenset({"r1", "r2"}))]
    ranked = {"a": ["n", "r1"], "b": ["r2", "n", "n", "n", "n", "r1"]}
    result = score("t", judged, lambda j: ranked[j.query])
    assert result.mrr_at_10 == pytest.approx((1 / 2 + 1) / 2)
    assert result.recall_at_5 == pytest.approx((1 + 0.5) / 2)


@pytest.mark.django_db
def test_full_search_beats_keyword_search():
    build_knowledge_base()
    full, keyword = compare()
    print("\n" + table([full, keyword]))
    assert full.mrr_at_10 > keyword.mrr_at_10
    assert full.recall_at_5 > keyword.recall_at_5
    assert full.mrr_at_10 >= 0.85 and full.recall_at_5 >= 0.9
