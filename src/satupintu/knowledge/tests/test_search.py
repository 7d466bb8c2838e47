"""Search in Bahasa Indonesia and English: stems, slang, typos, BM25, scope, and quality."""

from __future__ import annotations

import pytest

from satupintu.engine.text_search import Analyzer, Document, Index, stem_en, stem_id
from satupintu.knowledge import search
from satupintu.knowledge.models import Synonym
from satupintu.knowledge.services import articles


@pytest.mark.parametrize("word,stem", [("pemblokiran", "blokir"), ("dikembalikan", "kembali"),
                                       ("terpotong", "potong"), ("pengaduan", "adu"),
                                       ("tagihannya", "tagih")])
def test_indonesian_words_are_stemmed(word, stem):
    assert stem_id(word) == stem


@pytest.mark.parametrize("word,stem", [("blocked", "block"), ("cards", "card"),
                                       ("charges", "charg"), ("stopping", "stop")])
def test_english_words_are_stemmed(word, stem):
    assert stem_en(word) == stem


def test_slang_and_abbreviations_meet_their_full_form():
    analyzer = Analyzer.with_synonyms()
    assert analyzer.query_terms("cc gw ilang") == ["kartu", "kredit", "hilang"]
    assert analyzer.query_terms("tf gak masuk") == ["transfer", "tidak", "masuk"]
    assert analyzer.terms("nomor rek", "id") == ["nomor", "rekening"]


def test_client_synonyms_extend_the_defaults():
    analyzer = Analyzer.with_synonyms({"nusamobile": "mobile banking"})
    assert analyzer.query_terms("nusamobile error")[:3] == ["mobile", "banking", "error"]


def _index() -> Index:
    return Index.build([
        Document("card", "Blokir kartu kredit", "Kartu kredit hilang atau dicuri diblokir."),
        Document("transfer", "Transfer gagal", "Transfer antarbank gagal, saldo terpotong."),
        Document("internet", "Gangguan internet", "Internet lambat atau putus.", "id"),
        Document("refund", "Refunds", "Refunds are processed within 5 working days.", "en"),
    ])


def test_typos_are_tolerated():
    index = _index()
    assert index.search("trasnfer gagl")[0][0] == "transfer"
    assert index.search("kartu kredti")[0][0] == "card"
    assert index.search("xyzzy") == []


def test_bm25_ranks_the_matching_document_first():
    index = _index()
    assert [key for key, _ in index.search("wifi lemot")] == ["internet"]
    assert index.search("money back")[0][0] == "refund"
    assert index.search("pemblokiran kartu")[0][0] == "card"


@pytest.mark.django_db
def test_only_published_current_articles_of_the_scope_are_found(kb):
    live = kb.sop(slug="card", title="Block a lost card", body="Lost card procedure.")
    draft = articles.create_article(by=kb.tina, client=kb.alpha, slug="draft", kind="faq",
                                    language="en", title="Lost card draft", body="Lost card.")
    hits = search.search("lost card", {kb.alpha.pk})
    assert [h.article.slug for h in hits] == ["card"]
    assert search.search("lost card", {kb.bravo.pk}) == []
    kb.publish(draft)
    assert {h.article.slug for h in search.search("lost card", {kb.alpha.pk})} == {"card",
                                                                                   "draft"}
    articles.retire(live.article, by=kb.tina, reason="Old")
    assert [h.article.slug for h in search.search("lost card", {kb.alpha.pk})] == ["draft"]


@pytest.mark.django_db
def test_client_synonym_dictionary_is_used(kb):
    kb.sop(slug="card", title="Block a lost card", body="Lost card procedure.")
    assert search.search("plastik", {kb.alpha.pk}) == []
    Synonym.objects.create(client=kb.alpha, term="plastik", means="card")
    assert [h.article.slug for h in search.search("plastik", {kb.alpha.pk})] == ["card"]
    # Bravo's staff do not get Alpha's dictionary.
    assert search.synonyms_for({kb.bravo.pk}) == {}


@pytest.mark.django_db
def test_public_only_search_keeps_to_public_faqs(client, kb, login):
    kb.sop(slug="card", title="Block a lost card", body="Lost card procedure.")
    faq = articles.create_article(by=kb.tina, client=kb.alpha, slug="faq-card", kind="faq",
                                  audience="public", language="en", title="Lost card?",
                                  body="Call us to block a lost card.")
    kb.publish(faq)
    login(client, kb.alice)
    everything = client.get("/api/v1/knowledge/search?q=lost+card").json()
    public = client.get("/api/v1/knowledge/search?q=lost+card&public_only=true").json()
    assert {h["slug"] for h in everything} == {"card", "faq-card"}
    assert [h["slug"] for h in public] == ["faq-card"]
