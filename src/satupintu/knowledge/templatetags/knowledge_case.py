"""The case page's "suggested SOPs and articles" panel."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from satupintu.knowledge.services.usage import suggest_for_case

register = template.Library()


@register.inclusion_tag("knowledge/_case_suggestions.html", takes_context=True)
def case_suggestions(context: dict[str, Any], case: Any) -> dict[str, Any]:
    language = (get_language() or "id")[:2]
    return {
        "case": case,
        "hits": suggest_for_case(case, language),
        "followed": list(case.sop_usages.select_related("version")),
        "csrf_token": context.get("csrf_token"),
    }
