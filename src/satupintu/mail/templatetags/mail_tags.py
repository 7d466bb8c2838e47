"""Timeline helpers: a sanitised HTML view of an e-mail, and an outbound message's state."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from satupintu.mail.parsing import sanitise_html

register = template.Library()


@register.filter
def mail_html(value: Any) -> SafeString:
    """HTML of an inbound e-mail, sanitised again on display (defence in depth)."""
    return mark_safe(sanitise_html(str(value or "")))  # noqa: S308 - nh3 output


@register.inclusion_tag("mail/_delivery_state.html")
def delivery_state(event: Any) -> dict[str, Any]:
    """The delivery state of what an outbound timeline entry sent (any channel)."""
    from satupintu.inbox.models import OutboundMessage

    rows = list(OutboundMessage.objects.filter(event_id=event.pk).order_by("id"))
    return {"deliveries": rows}
