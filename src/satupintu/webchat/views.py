"""Chat pages: the widget script, the chat page it frames, the demo site, the agents' Chats,
and the administrators' widget set-up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_http_methods, require_POST

from satupintu.accounts.models import Client
from satupintu.accounts.permissions import (
    get_visible_or_404,
    has_perm,
    require_perm,
    scoped,
    visible_clients,
)
from satupintu.accounts.roles import Perm
from satupintu.knowledge.services import faq
from satupintu.web.client_forms import client_choices, client_form_page
from satupintu.webchat import services
from satupintu.webchat.forms import WidgetForm
from satupintu.webchat.models import ChatMessage, ChatSession, SessionStatus, WidgetSettings

WIDGET_JS = Path(__file__).resolve().parent / "static" / "webchat" / "widget.js"
RECENT_MESSAGES = 30


def widget_js(request: HttpRequest) -> HttpResponse:
    """The one script a client's site embeds. Its words are prepended in both languages
    (the host page, not us, decides which applies)."""
    strings = {}
    for language in ("id", "en"):
        with translation.override(language):
            strings[language] = {"open": _("Chat with us"), "close": _("Close chat"),
                                 "title": _("Chat")}
    body = ("(window.SatuPintuChat = window.SatuPintuChat || {}).strings = "
            + json.dumps(strings, ensure_ascii=False) + ";\n" + WIDGET_JS.read_text())
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _language(request: HttpRequest) -> str:
    lang = (request.GET.get("lang") or "").lower()[:2]
    return lang if lang in {"id", "en"} else "id"


@xframe_options_exempt
def widget_page(request: HttpRequest, code: str) -> HttpResponse:
    """The chat itself, framed by the client's site: only that page may be framed, and only
    by the origins the client allowed (the page's own site always)."""
    client = Client.objects.filter(code=code, is_active=True).first()
    if client is None:
        raise Http404(_("Not found."))
    widget = services.widget_for(client)
    if not widget.enabled:
        raise Http404(_("Not found."))
    language = _language(request)
    with translation.override(language):
        response = render(request, "webchat/widget_page.html", {
            "client": client, "chat_language": language,
            "other_language": "en" if language == "id" else "id",
            "max_text": services.MAX_TEXT,
            "max_upload_mb": f"{services.max_upload_bytes() / (1024 * 1024):g}",
            "config": {"client": client.code, "lang": language,
                       "start_url": reverse("api:chat_start"),
                       # the FAQ assistant answers first when the client has public FAQs
                       "faq_url": (reverse("api:help_answer", args=[client.code])
                                   if faq.has_public_faq(client, language) else ""),
                       "faq_feedback_url": reverse("api:help_feedback", args=[client.code]),
                       "upload_url": reverse("api:chat_upload"),
                       "socket_path": "/ws/chat/visitor/", "max_text": services.MAX_TEXT,
                       "max_upload": services.max_upload_bytes()},
        })
    ancestors = " ".join(["'self'", *widget.origins])
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    response["Content-Language"] = language
    return response


@login_required
def demo_site(request: HttpRequest) -> HttpResponse:
    """A pretend client web site with the one script tag, for trying the widget."""
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    clients = list(visible_clients(request).filter(is_active=True).order_by("name"))
    if not clients:
        raise Http404(_("Not found."))
    code = request.GET.get("client", "")
    client = next((c for c in clients if c.code == code), clients[0])
    return render(request, "webchat/demo_site.html", {
        "client": client, "clients": clients, "language": _language(request)})


# --- agents --------------------------------------------------------------------------------

def _open_sessions(request: HttpRequest) -> QuerySet[ChatSession]:
    rows = scoped(ChatSession.objects.filter(status=SessionStatus.ACTIVE), request)
    if not has_perm(request.user, Perm.SUPERVISE):
        rows = rows.filter(Q(case__assignee=request.user) | Q(case__assignee__isnull=True))
    return rows.select_related("client", "case", "case__assignee", "customer")


def _cards(request: HttpRequest) -> list[dict[str, Any]]:
    sessions = list(_open_sessions(request).annotate(unread=Count(
        "messages", filter=Q(messages__sender=ChatMessage.Sender.VISITOR,
                             messages__seq__gt=F("agent_read_seq")))).order_by("started_at"))
    cards = []
    for session in sessions:
        recent = list(session.messages.select_related("event", "agent")
                      .order_by("-seq")[:RECENT_MESSAGES])[::-1]
        cards.append({"session": session, "visitor": services.visitor_of(session)["name"],
                      "messages": [services.message_frame(m) for m in recent],
                      "unread": session.unread})
    return cards


@login_required
def agent_chats(request: HttpRequest) -> HttpResponse:
    """Every open chat of the agent's clients (their own and unassigned ones), live."""
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    context = {"cards": _cards(request), "max_text": services.MAX_TEXT}
    if request.GET.get("fragment") == "list":
        return render(request, "webchat/_chat_cards.html", context)
    return render(request, "webchat/agent_chats.html", context)


@login_required
@require_POST
def agent_reply(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    session = get_visible_or_404(scoped(ChatSession.objects.select_related("case"), request),
                                 pk=pk)
    body = (request.POST.get("body") or "").strip()
    if not body:
        return JsonResponse({"code": "empty", "message": _("Write a reply first.")}, status=400)
    if len(body) > services.MAX_TEXT:
        return JsonResponse({"code": "too_long", "message": _(
            "A message can have at most %(n)d characters.") % {"n": services.MAX_TEXT}},
            status=400)
    try:
        event = services.agent_reply(session, body, by=request.user,  # type: ignore[arg-type]
                                     request=request)
    except ValidationError as exc:
        return JsonResponse({"code": exc.code or "rejected",
                             "message": " ".join(exc.messages)}, status=400)
    seq = ChatMessage.objects.filter(session=session, event=event).values_list(
        "seq", flat=True).first()
    return JsonResponse({"seq": seq, "event": event.pk}, status=201)


@login_required
@require_POST
def agent_end(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    session = get_visible_or_404(scoped(ChatSession.objects.all(), request), pk=pk)
    services.end_session(session, by=request.user, request=request)  # type: ignore[arg-type]
    return JsonResponse({"status": "ended"})


# --- widget set-up (administrators) ----------------------------------------------------------

@login_required
def widget_setup(request: HttpRequest) -> HttpResponse:
    """Every client the user may configure, with where its chat may be embedded."""
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    clients = list(visible_clients(request).order_by("name"))
    saved = {w.client_id: w for w in WidgetSettings.objects.filter(client__in=clients)}
    rows = [{"client": c, "widget": saved.get(c.pk) or WidgetSettings(client=c)}
            for c in clients]
    return render(request, "webchat/setup.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def widget_setup_edit(request: HttpRequest, code: str) -> HttpResponse:
    """One client's widget: switched on or off, allowed origins, and the tag to paste."""
    require_perm(request.user, Perm.MANAGE_ORGANISATION)
    client = get_visible_or_404(visible_clients(request), code=code)
    widget = services.widget_for(client)
    snippet = services.embed_tag(request.build_absolute_uri(reverse("webchat:widget_js")),
                                 client)
    form = WidgetForm(request.POST if request.method == "POST" else None,
                      initial={"client": client.pk, "enabled": widget.enabled,
                               "allowed_origins": "\n".join(widget.origins)},
                      widget_client=client, snippet=snippet)
    # Only this page's client: a forged hidden field cannot save another client from here.
    form.fields["client"].choices = [c for c in client_choices(request) if c[0] == client.pk]

    def save(chosen: Client, data: dict[str, Any]) -> None:
        services.configure_widget(chosen, by=request.user,  # type: ignore[arg-type]
                                  allowed_origins=data["allowed_origins"],
                                  enabled=data["enabled"], request=request)

    title = _("Chat widget of %(client)s") % {"client": client.name}
    return client_form_page(request, form, save, title=title, template="webchat/setup_form.html",
                            done=reverse("webchat:setup_edit", args=[client.code]))
