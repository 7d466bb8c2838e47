"""In a case: suggest the SOPs and articles that fit it, and record the one followed.

Suggestions use the knowledge search on the case's own words (subject, contact reason and the
customer's latest message), so what the agent sees is what search would find.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from satupintu.audit import services as audit
from satupintu.knowledge.models import ArticleVersion, Kind, SopUsage
from satupintu.knowledge.search import Hit, search, searchable_versions

if TYPE_CHECKING:
    from satupintu.accounts.models import User
    from satupintu.cases.models import Case

QUERY_CHARS = 400


def case_query(case: Case, language: str = "id") -> str:
    from satupintu.cases.models import CaseEvent

    parts = [case.subject]
    if case.reason_id is not None:
        parts.append(case.reason.path(language))  # type: ignore[union-attr]
    latest = (CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.INBOUND)
              .order_by("-created_at", "-id").values_list("body", flat=True).first())
    if latest:
        parts.append(latest)
    return " ".join(parts)[:QUERY_CHARS]


def suggest_for_case(case: Case, language: str = "id", limit: int = 5) -> list[Hit]:
    """SOPs first, then other articles, in the reader's language where one exists."""
    hits = search(case_query(case, language), [case.client_id], limit=limit * 2)
    preferred = [h for h in hits if h.version.language == language] or hits
    preferred.sort(key=lambda h: (h.version.article.kind != Kind.SOP, -h.score))
    return preferred[:limit]


@transaction.atomic
def record_followed(case: Case, version: ArticleVersion, *, by: User,
                    request: HttpRequest | None = None) -> SopUsage:
    from satupintu.cases import services as cases
    from satupintu.cases.models import Case as CaseModel

    case = CaseModel.objects.select_for_update().get(pk=case.pk)  # the status as stored now
    if case.status == "closed":
        raise ValidationError(_("The case is closed."))
    current = {v.pk for v in searchable_versions([case.client_id])}
    if version.pk not in current:
        raise ValidationError(_("Only the current published version of an article of this "
                                "case's client can be recorded."))
    if SopUsage.objects.filter(case=case, version=version).exists():
        raise ValidationError(_("This version is already recorded on the case."))
    usage = SopUsage.objects.create(case=case, version=version, by=by)
    cases.add_note(case, _("Followed “%(title)s”, version %(number)s.")
                   % {"title": version.title, "number": version.number}, by=by, request=request)
    audit.record("knowledge.sop_followed", actor=by, obj=case, client=case.client,
                 request=request, data={"version": version.pk})
    return usage
