"""``{% presence_bar %}``: the agent's presence bar and offer pop-up on every page."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import DatabaseError
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def presence_bar(context: Any) -> SafeString:
    from satupintu.routing.presence_ui import bar_context

    request = context.get("request")
    if request is None:
        return mark_safe("")
    try:
        data = bar_context(request)
    except DatabaseError:  # an error page must still render when the database fails
        return mark_safe("")
    if data is None:
        return mark_safe("")
    return mark_safe(render_to_string("routing/_presence.html", data,  # noqa: S308
                                      request=request))
