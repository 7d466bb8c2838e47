"""Bilingual (Bahasa Indonesia / English) text search: analyse, expand, rank with BM25.

Pure Python, no Django: the knowledge base builds an :class:`Index` from published articles
and asks it for the best matches. The same analyser runs over documents and queries, so a
slang word or an abbreviation ("gak", "tf", "cc") and its full form meet on one term.

* tokens: lower-cased, accents folded, split on anything that is not a letter or digit;
* synonyms: phrase → canonical phrase (longest match first), a built-in list plus the
  client's own entries;
* stems: Sastrawi (Nazief–Adriani) for Indonesian, a small suffix stripper for English;
  a query is analysed both ways because people mix languages in one sentence;
* typos: a query term missing from the index vocabulary is matched to its nearest
  vocabulary term (RapidFuzz ratio ≥ ``FUZZY_CUTOFF``) at a reduced weight;
* ranking: Okapi BM25 (k1 = 1.5, b = 0.75), the title counted twice.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process

K1 = 1.5
B = 0.75
FUZZY_CUTOFF = 80.0
FUZZY_WEIGHT = 0.7
MIN_FUZZY_LENGTH = 4

# Slang, abbreviations and equivalent phrasings heard on Indonesian contact-center floors.
DEFAULT_SYNONYMS: dict[str, str] = {
    "gak": "tidak", "ga": "tidak", "nggak": "tidak", "enggak": "tidak", "tdk": "tidak",
    "gk": "tidak", "ngga": "tidak", "kagak": "tidak", "blm": "belum", "udah": "sudah",
    "udh": "sudah", "sdh": "sudah", "dah": "sudah", "yg": "yang", "dgn": "dengan",
    "utk": "untuk", "krn": "karena", "gmn": "bagaimana", "gimana": "bagaimana",
    "bgmn": "bagaimana", "sy": "saya", "aku": "saya", "gw": "saya", "gue": "saya",
    "tf": "transfer", "trf": "transfer", "trans": "transfer", "transfernya": "transfer",
    "rek": "rekening", "norek": "nomor rekening", "cc": "kartu kredit",
    "credit card": "kartu kredit", "kk": "kartu kredit", "atm": "kartu debit",
    "debit card": "kartu debit", "kartu atm": "kartu debit", "inet": "internet",
    "wifi": "internet", "indihome": "internet", "lemot": "lambat", "lelet": "lambat",
    "slow": "lambat", "mati": "putus", "down": "putus", "lost": "hilang",
    "ilang": "hilang", "dicuri": "hilang", "curi": "hilang", "stolen": "hilang",
    "duit": "uang", "ganti": "ubah", "change": "ubah",
    "refund": "pengembalian dana", "balikin duit": "pengembalian dana",
    "uang kembali": "pengembalian dana", "money back": "pengembalian dana",
    "tagihan": "tagihan", "bill": "tagihan", "billing": "tagihan", "invoice": "tagihan",
    "paket data": "kuota", "kuota internet": "kuota", "data package": "kuota",
    "pulsa": "pulsa", "prepaid": "prabayar", "postpaid": "pascabayar",
    "pin": "pin", "password": "kata sandi", "pw": "kata sandi", "otp": "kode otp",
    "penipuan": "fraud", "tipu": "fraud", "scam": "fraud", "phishing": "fraud",
    "block": "blokir", "blocked": "blokir", "blocking": "blokir", "freeze": "blokir",
    "paket": "pesanan", "order": "pesanan", "parcel": "pesanan", "kurir": "ekspedisi",
    "courier": "ekspedisi", "resi": "nomor resi", "tracking number": "nomor resi",
    "seller": "penjual", "toko": "penjual", "merchant": "penjual", "buyer": "pembeli",
    "komplain": "pengaduan", "complain": "pengaduan", "complaint": "pengaduan",
    "keluhan": "pengaduan", "cs": "layanan pelanggan", "hp": "ponsel", "handphone": "ponsel",
}



def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS_ID = _words(
    "yang dan di ke dari ini itu untuk dengan pada adalah atau juga saya kami kita anda akan "
    "ada jika kalau agar supaya oleh sudah belum bisa dapat harus sebagai dalam tersebut "
    "bagaimana cara apa apakah kenapa mengapa gimana mau ingin tolong mohon dong nya sih kok "
    "ya kah lah pun si sang para bila karena tapi tetapi lalu kemudian"
)
_STOPWORDS_EN = _words(
    "the a an and or of to in on for with is are was were be been it its this that my your "
    "our i we you he she they how what why when where do does did can could should would will "
    "not no yes me us them as at by from into about please"
)
STOPWORDS = _STOPWORDS_ID | _STOPWORDS_EN

_TOKEN_RE = re.compile(r"[a-z0-9]+")
_EN_SUFFIXES = ("ingly", "edly", "ing", "ies", "ied", "ed", "es", "ly", "s")


def fold(text: str) -> str:
    """Lower-case and strip accents ("Pengembalián" → "pengembalian")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokenize(text: str) -> list[str]:
    return _TOKEN_RE.findall(fold(text))


@lru_cache(maxsize=1)
def _sastrawi() -> Any:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=50_000)
def stem_id(word: str) -> str:
    """Indonesian stem by Sastrawi ("pemblokiran" → "blokir"); digits are left alone."""
    if word.isdigit() or len(word) <= 3:
        return word
    return str(_sastrawi().stem(word)) or word


@lru_cache(maxsize=50_000)
def stem_en(word: str) -> str:
    """A deliberately small English suffix stripper ("blocked" → "block", "cards" → "card")."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in _EN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            root = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                return root + "y"
            if suffix in ("ing", "ed") and len(root) > 3 and root[-1] == root[-2]:
                return root[:-1]
            return root
    return word


def compile_synonyms(entries: Mapping[str, str]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Turn ``{"kartu kredit": "cc"}``-style text into token tuples for phrase matching."""
    table: dict[tuple[str, ...], tuple[str, ...]] = {}
    for term, means in entries.items():
        key, value = tuple(tokenize(term)), tuple(tokenize(means))
        if key and value and key != value:
            table[key] = value
    return table


def apply_synonyms(tokens: Sequence[str],
                   table: Mapping[tuple[str, ...], tuple[str, ...]]) -> list[str]:
    """Replace each phrase found in ``table`` by its canonical form, longest match first.

    A single word also matches through its English stem, so "refunds" finds "refund".
    """
    if not table:
        return list(tokens)
    longest = max(len(k) for k in table)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for n in range(min(longest, len(tokens) - i), 0, -1):
            replacement = table.get(tuple(tokens[i:i + n]))
            if replacement is None and n == 1:
                replacement = table.get((stem_en(tokens[i]),))
            if replacement is not None:
                out.extend(replacement)
                i += n
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


@dataclass(frozen=True)
class Analyzer:
    """Text → index terms. One instance per synonym dictionary."""

    synonyms: Mapping[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    stem: bool = True

    @classmethod
    def with_synonyms(cls, extra: Mapping[str, str] | None = None,
                      *, defaults: bool = True, stem: bool = True) -> Analyzer:
        entries = dict(DEFAULT_SYNONYMS) if defaults else {}
        entries.update(extra or {})
        return cls(compile_synonyms(entries), stem)

    def _stem(self, word: str, language: str) -> str:
        if not self.stem:
            return word
        return stem_en(word) if language == "en" else stem_id(word)

    def terms(self, text: str, language: str = "id") -> list[str]:
        """Terms of a document written in ``language`` (``id`` or ``en``).

        Synonyms apply to the words, then once more to each stem, so an inflected form
        ("kecurian" → "curi") meets the same canonical term as the listed word.
        """
        out: list[str] = []
        for word in apply_synonyms(tokenize(text), self.synonyms):
            if word in STOPWORDS:
                continue
            stem = self._stem(word, language)
            again = self.synonyms.get((stem,)) if stem != word else None
            if again:
                out.extend(self._stem(w, language) for w in again if w not in STOPWORDS)
            else:
                out.append(stem)
        return out

    def query_terms(self, text: str) -> list[str]:
        """Terms of a query: analysed as Indonesian and as English, duplicates dropped."""
        seen: dict[str, None] = {}
        for language in ("id", "en"):
            for term in self.terms(text, language):
                seen.setdefault(term, None)
        return list(seen)


@dataclass(frozen=True)
class Document:
    key: Any
    title: str
    body: str
    language: str = "id"


@dataclass
class Index:
    """An Okapi BM25 index over a fixed set of documents, built in memory."""

    analyzer: Analyzer
    keys: list[Any] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    postings: dict[str, dict[int, int]] = field(default_factory=dict)

    @classmethod
    def build(cls, documents: Iterable[Document], analyzer: Analyzer | None = None) -> Index:
        index = cls(analyzer or Analyzer.with_synonyms())
        for doc in documents:
            terms = (index.analyzer.terms(doc.title, doc.language) * 2
                     + index.analyzer.terms(doc.body, doc.language))
            position = len(index.keys)
            index.keys.append(doc.key)
            index.lengths.append(len(terms))
            for term, count in Counter(terms).items():
                index.postings.setdefault(term, {})[position] = count
        return index

    @property
    def vocabulary(self) -> list[str]:
        return list(self.postings)

    def idf(self, term: str) -> float:
        n, df = len(self.keys), len(self.postings.get(term, ()))
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def expand(self, terms: Sequence[str]) -> dict[str, float]:
        """Query terms with weights; unknown terms replaced by their nearest vocabulary term."""
        weights: dict[str, float] = {}
        vocabulary = self.vocabulary
        for term in terms:
            if term in self.postings:
                weights[term] = max(weights.get(term, 0.0), 1.0)
            elif len(term) >= MIN_FUZZY_LENGTH and vocabulary:
                match = process.extractOne(term, vocabulary, scorer=fuzz.ratio,
                                           score_cutoff=FUZZY_CUTOFF)
                if match is not None:
                    weights[match[0]] = max(weights.get(match[0], 0.0), FUZZY_WEIGHT)
        return weights

    def scores(self, query: str) -> dict[int, float]:
        if not self.keys:
            return {}
        average = sum(self.lengths) / len(self.lengths) or 1.0
        result: dict[int, float] = {}
        for term, weight in self.expand(self.analyzer.query_terms(query)).items():
            idf = self.idf(term)
            for position, tf in self.postings[term].items():
                norm = tf + K1 * (1 - B + B * self.lengths[position] / average)
                result[position] = result.get(position, 0.0) + weight * idf * tf * (K1 + 1) / norm
        return result

    def search(self, query: str, limit: int = 10) -> list[tuple[Any, float]]:
        """The best ``limit`` documents as ``(key, score)``, best first; ties by insertion."""
        ranked = sorted(self.scores(query).items(), key=lambda item: (-item[1], item[0]))
        return [(self.keys[position], score) for position, score in ranked[:limit]]
