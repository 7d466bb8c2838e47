"""The customer FAQ assistant: answer from public FAQs, record feedback, hand off to a person.

Answers are the client's (and shared) **published, current, public FAQ** articles in the
customer's language, ranked by the knowledge base's own search (``knowledge.search``); the
text shown is the article's own, never generated. Scores under the client's threshold are
not shown as an answer: the customer is offered a person instead.

The customer is anonymous, so these services take no user. The hand-off finds the customer by
e-mail/phone (``customers.services.find_by_identity``) or creates them through
``customers.services.create_customer`` acting as the client's FAQ-assistant service account
(an agent of that client only, with no usable password), and opens the case through
``cases.services.create_case`` as the system (``by=None``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client
from satupintu.accounts.permissions import require_perm, user_may_see_client
from satupintu.accounts.roles import Perm
from satupintu.audit import services as audit
from satupintu.knowledge.models import ArticleVersion, Kind
from satupintu.knowledge.models_faq import (
    DEFAULT_THRESHOLD,
    QUESTION_MAX,
    FaqQuestion,
    FaqSettings,
    Helped,
)
from satupintu.knowledge.search import _index, searchable_versions, synonyms_for

if TYPE_CHECKING:
    from satupintu.accounts.models import User
    from satupintu.cases.models import Case

LANGUAGES = ("id", "en")
BOT_USERNAME = "faq-assistant"


@dataclass(frozen=True)
class FaqHit:
    version: ArticleVersion
    score: float


@dataclass
class Answer:
    client: Client
    language: str
    question: str
    hits: list[FaqHit] = field(default_factory=list)
    confident: bool = False
    record: FaqQuestion | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client.code, "language": self.language, "question": self.question,
            "confident": self.confident, "handoff_offered": not self.confident,
            "question_id": self.record.pk if self.record else None,
            "articles": [{"article_id": h.version.article_id, "slug": h.version.article.slug,
                          "language": h.version.language, "title": h.version.title,
                          "summary": h.version.summary, "body": h.version.body,
                          "score": round(h.score, 4)} for h in self.hits],
        }


def settings_for(client: Client) -> FaqSettings:
    row = FaqSettings.objects.filter(client=client).first()
    return row or FaqSettings(client=client, threshold=DEFAULT_THRESHOLD)


def clean_language(language: str | None) -> str:
    language = (language or "").lower()[:2]
    return language if language in LANGUAGES else "id"


def _clean_question(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError(_("Type your question first."), code="empty")
    return text[:QUESTION_MAX]


def _public_faqs(client: Client, language: str, now: datetime | None = None
                 ) -> list[ArticleVersion]:
    return [v for v in searchable_versions([client.pk], now=now, public_only=True)
            if v.article.kind == Kind.FAQ and v.language == language
            and v.article.client_id in (None, client.pk)]


def has_public_faq(client: Client, language: str) -> bool:
    """Whether the FAQ assistant has anything to answer from (the chat widget asks it
    first only then)."""
    return bool(_public_faqs(client, clean_language(language)))


def public_faq_search(client: Client, query: str, language: str, *, limit: int = 3,
                      now: datetime | None = None) -> list[FaqHit]:
    """The knowledge search over this client's and shared published public FAQs only, in
    one language; best first, one hit per article."""
    versions = _public_faqs(client, language, now)
    if not query.strip() or not versions:
        return []
    by_pk = {v.pk: v for v in versions}
    index = _index(versions, synonyms_for([client.pk]))
    hits: list[FaqHit] = []
    seen: set[int] = set()
    for pk, score in index.search(query, limit=limit * 3):
        version = by_pk[pk]
        if version.article_id not in seen:
            seen.add(version.article_id)
            hits.append(FaqHit(version, score))
        if len(hits) == limit:
            break
    return hits


@transaction.atomic
def ask(client: Client, question: str, language: str, *,
        now: datetime | None = None) -> Answer:
    """Answer a customer's question and record it (for the deflection rate)."""
    text = _clean_question(question)
    language = clean_language(language)
    conf = settings_for(client)
    hits = public_faq_search(client, text, language, limit=max(1, conf.max_answers), now=now)
    confident = bool(hits) and hits[0].score >= conf.threshold
    shown = [h for h in hits if h.score >= conf.threshold] if confident else []
    record = FaqQuestion.objects.create(
        client=client, language=language, question=text,
        top_article=hits[0].version.article if hits else None,
        score=round(hits[0].score, 4) if hits else 0.0, answered=confident)
    return Answer(client, language, text, shown, confident, record)


@transaction.atomic
def feedback(record: FaqQuestion, helped: bool) -> FaqQuestion:
    """The customer's "did this help?"; the first answer counts."""
    row = FaqQuestion.objects.select_for_update().get(pk=record.pk)
    if row.helped != Helped.UNANSWERED:
        raise ValidationError(_("Thank you, your answer was already recorded."), code="done")
    row.helped = Helped.YES if helped else Helped.NO
    row.save(update_fields=["helped"])
    return row


def _contact_kind(contact: str) -> str:
    from satupintu.customers.identity import IdentityKind

    return IdentityKind.EMAIL if "@" in contact else IdentityKind.PHONE


def _bot(client: Client) -> User:
    """The FAQ assistant's service account: an agent of this client that cannot log in."""
    from satupintu.accounts.models import User
    from satupintu.accounts.roles import Role

    bot = User.objects.filter(username=BOT_USERNAME).first()
    if bot is None:
        bot = User.objects.create_user(username=BOT_USERNAME, password=None, role=Role.AGENT,
                                       full_name="FAQ assistant", language="id")
        bot.set_unusable_password()
        bot.save(update_fields=["password"])
    bot.clients.add(client)
    return bot


def conversation(record: FaqQuestion, articles: Iterable[str]) -> str:
    titles = [t for t in articles if t]
    lines = [_("Question asked on the help page: %(q)s") % {"q": record.question}]
    if titles:
        lines.append(_("Articles shown: %(titles)s") % {"titles": "; ".join(titles)})
    else:
        lines.append(_("No article was sure enough to be shown."))
    lines.append(_("The customer said the answer did not help and asked for a person."))
    return "\n".join(lines)


@transaction.atomic
def hand_off(record: FaqQuestion, *, name: str, contact: str,
             request: HttpRequest | None = None) -> Case:
    """Open a case for a person: find or create the customer, conversation as first message."""
    from satupintu.cases import services as cases
    from satupintu.cases.models import Channel
    from satupintu.customers import services as customers

    record = FaqQuestion.objects.select_for_update().select_related("client").get(pk=record.pk)
    if record.handed_off:
        raise ValidationError(_("This question was already passed to our team (case "
                                "%(ref)s).") % {"ref": record.case_reference}, code="done")
    name = " ".join((name or "").split())[:200]
    contact = (contact or "").strip()[:200]
    if not name:
        raise ValidationError(_("Tell us your name."), code="name_required")
    if not contact:
        raise ValidationError(_("Give an e-mail address or a phone number."),
                              code="contact_required")
    client = record.client
    kind = _contact_kind(contact)
    customer = customers.find_by_identity(client, kind, contact)
    if customer is None:
        customer = customers.create_customer(client, name, by=_bot(client),
                                             language=record.language,
                                             identities=[(kind, contact)], request=None)
    shown = [record.top_article.slug] if record.top_article and record.answered else []
    titles = []
    if shown:
        hits = public_faq_search(client, record.question, record.language)
        titles = [h.version.title for h in hits]
    subject = _("Help page: %(q)s") % {"q": record.question[:150]}
    case = cases.create_case(client, customer, subject, by=None, body=conversation(
        record, titles), channel=Channel.WEB, request=None)
    record.handed_off = True
    record.case_reference = case.reference
    if record.helped == Helped.UNANSWERED:
        record.helped = Helped.NO
    record.save(update_fields=["handed_off", "case_reference", "helped"])
    audit.record("knowledge.faq_handed_off", actor=None, obj=record, client=client,
                 data={"case": case.reference, "identity_kind": kind},
                 actor_label="faq-assistant")
    return case


@transaction.atomic
def link_to_chat(record: FaqQuestion, case: Case) -> bool:
    """The customer read the FAQ answers in the chat widget and still wanted a person: the
    question counts as handed off to the chat's case, and the agent reads in the case what
    the customer was shown. False when it was already passed on (nothing changes)."""
    from satupintu.cases import services as cases

    record = FaqQuestion.objects.select_for_update().select_related("client").get(pk=record.pk)
    if record.handed_off or record.client_id != case.client_id:
        return False
    titles: list[str] = []
    if record.answered:
        titles = [h.version.title for h in public_faq_search(record.client, record.question,
                                                              record.language)]
    record.handed_off = True
    record.case_reference = case.reference
    if record.helped == Helped.UNANSWERED:
        record.helped = Helped.NO
    record.save(update_fields=["handed_off", "case_reference", "helped"])
    lines = [_("Before the chat the customer asked the FAQ assistant: %(q)s")
             % {"q": record.question}]
    if titles:
        lines.append(_("Articles shown: %(titles)s") % {"titles": "; ".join(titles)})
    else:
        lines.append(_("No article was sure enough to be shown."))
    lines.append(_("The customer still wanted a person."))
    cases.add_note(case, "\n".join(lines), by=_bot(record.client))
    audit.record("knowledge.faq_handed_off", actor=None, obj=record, client=record.client,
                 data={"case": case.reference, "channel": "chat"}, actor_label="faq-assistant")
    return True


def deflection(client_ids: Iterable[int], *, since: datetime | None = None,
               until: datetime | None = None) -> list[dict[str, Any]]:
    """Per client: asked, answered, helped, did not help, handed off, deflection rate
    (helped ÷ asked, in %) and hand-off rate (handed off ÷ asked, in %)."""
    rows = FaqQuestion.objects.filter(client_id__in=list(client_ids))
    if since is not None:
        rows = rows.filter(asked_at__gte=since)
    if until is not None:
        rows = rows.filter(asked_at__lt=until)
    stats = (rows.values("client_id", "client__code", "client__name")
             .annotate(n_asked=Count("id"), n_answered=Count("id", filter=Q(answered=True)),
                       n_helped=Count("id", filter=Q(helped=Helped.YES)),
                       n_not_helped=Count("id", filter=Q(helped=Helped.NO)),
                       n_handed_off=Count("id", filter=Q(handed_off=True)))
             .order_by("client__code"))
    out = []
    for s in stats:
        asked = s["n_asked"]
        out.append({
            "client_id": s["client_id"], "client_code": s["client__code"],
            "client_name": s["client__name"], "asked": asked, "answered": s["n_answered"],
            "helped": s["n_helped"], "not_helped": s["n_not_helped"],
            "handed_off": s["n_handed_off"],
            "deflection_rate": round(100 * s["n_helped"] / asked, 1) if asked else None,
            "handoff_rate": round(100 * s["n_handed_off"] / asked, 1) if asked else None,
        })
    return out


@transaction.atomic
def set_threshold(client: Client, threshold: float, *, by: User, max_answers: int = 3,
                  request: HttpRequest | None = None) -> FaqSettings:
    require_perm(by, Perm.MANAGE_KNOWLEDGE)
    if not user_may_see_client(by, client.pk):
        raise PermissionDenied(_("Your role does not allow this."))
    if not 0 <= threshold <= 100 or not 1 <= max_answers <= 10:
        raise ValidationError(_("The threshold is between 0 and 100 and 1 to 10 articles "
                                "are shown."))
    row, _created = FaqSettings.objects.update_or_create(
        client=client, defaults={"threshold": threshold, "max_answers": max_answers})
    audit.record("knowledge.faq_settings_changed", actor=by, obj=row, client=client,
                 request=request, data={"threshold": threshold, "max_answers": max_answers})
    return row
