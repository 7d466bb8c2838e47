"""Knowledge base pages: list and search, article, diff, editor, acknowledgement, team report.

Every page checks the role through ``accounts.permissions`` and reads articles through
``_articles``/``_versions``, which apply the client scope (shared articles included); an
article of another client is a 404. Writes go through ``knowledge.services``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from satupintu.accounts.models import User
from satupintu.accounts.permissions import (
    get_visible_or_404,
    has_perm,
    require_perm,
    scoped,
    scoped_or_shared,
    visible_clients,
    visible_teams,
)
from satupintu.accounts.roles import ROLE_PERMS, Perm, Role
from satupintu.engine.text_search import DEFAULT_SYNONYMS
from satupintu.knowledge import queries, search
from satupintu.knowledge.forms import ArticleForm, NoteForm, PublishForm, VersionForm
from satupintu.knowledge.models import (
    Article,
    ArticleVersion,
    Kind,
    KnowledgeSettings,
    Status,
    Synonym,
)
from satupintu.knowledge.services import acknowledgements, articles
from satupintu.knowledge.services import settings as settings_service


def _articles(request: HttpRequest) -> QuerySet[Article]:
    require_perm(request.user, Perm.VIEW_KNOWLEDGE)
    return scoped_or_shared(Article.objects.select_related("client"), request)


def _versions(request: HttpRequest) -> QuerySet[ArticleVersion]:
    """Writers see every version in scope; readers only published ones already in effect."""
    require_perm(request.user, Perm.VIEW_KNOWLEDGE)
    rows = scoped_or_shared(ArticleVersion.objects.select_related("article", "article__client"),
                            request, field="article__client")
    if not has_perm(request.user, Perm.MANAGE_KNOWLEDGE):
        rows = rows.filter(status=Status.PUBLISHED, effective_from__lte=timezone.now())
    return rows


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _fail(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
def article_list(request: HttpRequest) -> HttpResponse:
    rows = _articles(request)
    query = request.GET.get("q", "").strip()
    client_ids = {c.pk for c in visible_clients(request)}
    hits = search.search(query, client_ids) if query else []
    current = queries.current_versions(rows.filter(retired_at__isnull=True))
    language = _user(request).language
    listing = []
    for article in rows.order_by("kind", "slug"):
        version = current.get((article.pk, language)) or current.get((article.pk, "id")) \
            or current.get((article.pk, "en"))
        if version is not None or has_perm(request.user, Perm.MANAGE_KNOWLEDGE):
            listing.append({"article": article, "version": version})
    context: dict[str, Any] = {"query": query, "hits": hits, "listing": listing,
                               "may_write": has_perm(request.user, Perm.MANAGE_KNOWLEDGE)}
    if has_perm(request.user, Perm.APPROVE_KNOWLEDGE):
        context["in_review"] = [v for v in _versions(request).filter(status=Status.IN_REVIEW)
                                if articles.may_approve(_user(request), v.article)]
    return render(request, "knowledge/list.html", context)


@login_required
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_visible_or_404(_articles(request), pk=pk)
    language = request.GET.get("lang") or _user(request).language
    version = queries.current_version(article, language)
    versions = _versions(request).filter(article=article).order_by("language", "-number")
    if version is None and not versions.exists():
        raise Http404(_("Not found."))  # a reader and an article with nothing published
    return render(request, "knowledge/article.html", {
        "article": article, "version": version, "versions": versions,
        "may_write": has_perm(request.user, Perm.MANAGE_KNOWLEDGE) and not article.is_retired,
        "pending": version is not None and version in queries.pending_acknowledgements(
            _user(request)),
    })


@login_required
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_visible_or_404(_versions(request), pk=pk)
    user = _user(request)
    return render(request, "knowledge/version.html", {
        "version": version, "article": version.article,
        "diff": queries.diff_html(version.based_on, version) if version.based_on else None,
        "may_write": has_perm(user, Perm.MANAGE_KNOWLEDGE) and not version.article.is_retired,
        "may_approve": articles.may_approve(user, version.article)
        and version.author_id != user.pk,
        "is_current": queries.is_current(version),
        "publish_form": PublishForm(), "note_form": NoteForm(),
    })


@login_required
def diff(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_visible_or_404(_articles(request), pk=pk)
    versions = _versions(request).filter(article=article)
    old = get_visible_or_404(versions, pk=request.GET.get("a", "0") or 0)
    new = get_visible_or_404(versions, pk=request.GET.get("b", "0") or 0)
    return render(request, "knowledge/diff.html", {"article": article, "old": old, "new": new,
                                                   "diff": queries.diff_html(old, new)})


def _client_choices(request: HttpRequest) -> list[tuple[str, str]]:
    choices = [(str(c.pk), c.name) for c in visible_clients(request)]
    if has_perm(request.user, Perm.MANAGE_ORGANISATION):
        choices.insert(0, ("shared", _("Shared by every client")))
    return choices


@login_required
def article_new(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_KNOWLEDGE)
    form = ArticleForm(request.POST or None, clients=_client_choices(request))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        client_key = data.pop("client")
        client = None if client_key == "shared" else get_visible_or_404(
            visible_clients(request), pk=int(client_key))
        try:
            version = articles.create_article(by=_user(request), client=client,
                                              request=request, **data)
        except ValidationError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Draft created."))
            return redirect("knowledge:version", pk=version.pk)
    return render(request, "knowledge/edit.html", {"form": form, "version": None})


@login_required
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.MANAGE_KNOWLEDGE)
    version = get_visible_or_404(_versions(request), pk=pk)
    if not version.is_editable:
        messages.error(request, _("A published version cannot be changed; start a new draft "
                                  "instead.") if version.is_published else
                       _("Only a draft can be edited; this one is %(status)s.")
                       % {"status": version.get_status_display()})
        return redirect("knowledge:version", pk=version.pk)
    form = VersionForm(request.POST or None, initial=VersionForm.initial_from(version))
    if request.method == "POST" and form.is_valid():
        try:
            articles.edit_draft(version, by=_user(request), request=request, **form.cleaned_data)
        except ValidationError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("knowledge:version", pk=version.pk)
    return render(request, "knowledge/edit.html", {"form": form, "version": version})


@login_required
@require_POST
def version_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    version = get_visible_or_404(_versions(request), pk=pk)
    user = _user(request)
    note = request.POST.get("note", "")
    target = version
    try:
        if action == "draft":
            language = request.POST.get("language") or version.language
            target = articles.start_draft(version.article, language, by=user, request=request)
            messages.success(request, _("Draft ready for editing."))
            return redirect("knowledge:edit", pk=target.pk)
        if action == "submit":
            articles.submit(version, by=user, request=request)
            messages.success(request, _("Submitted for review."))
        elif action == "approve":
            articles.approve(version, by=user, note=note, request=request)
            messages.success(request, _("Approved."))
        elif action == "reject":
            articles.reject(version, by=user, note=note, request=request)
            messages.success(request, _("Rejected."))
        elif action == "publish":
            form = PublishForm(request.POST)
            when = form.cleaned_data["effective_from"] if form.is_valid() else None
            articles.publish(version, by=user, effective_from=when, request=request)
            messages.success(request, _("Scheduled.") if version.is_scheduled else
                             _("Published."))
        else:
            return HttpResponse(status=404)
    except ValidationError as exc:
        _fail(request, exc)
    return redirect("knowledge:version", pk=target.pk)


@login_required
@require_POST
def article_retire(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_visible_or_404(_articles(request), pk=pk)
    try:
        articles.retire(article, by=_user(request), reason=request.POST.get("reason", ""),
                        request=request)
        messages.success(request, _("Article retired."))
    except ValidationError as exc:
        _fail(request, exc)
    return redirect("knowledge:article", pk=article.pk)


def _answers(request: HttpRequest, version: ArticleVersion) -> dict[int, list[int]]:
    answers: dict[int, list[int]] = {}
    for index in range(len(version.quiz or [])):
        chosen = request.POST.getlist(f"q{index}")
        answers[index] = [int(c) for c in chosen if c.isdigit()]
    return answers


@login_required
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    version = get_visible_or_404(_versions(request).filter(article__kind=Kind.SOP), pk=pk)
    if request.method == "POST":
        if not request.POST.get("understood"):
            messages.error(request, _("Tick “I have read and understood” first."))
        else:
            try:
                acknowledgements.acknowledge(version, user=_user(request),
                                             answers=_answers(request, version), request=request)
            except ValidationError as exc:
                _fail(request, exc)
            else:
                messages.success(request, _("Thank you: your acknowledgement is recorded."))
                return redirect("knowledge:pending")
    return render(request, "knowledge/acknowledge.html", {
        "version": version, "article": version.article,
        "is_current": queries.is_current(version),
        "done": version.acknowledgements.filter(user=request.user).first(),
    })


@login_required
def pending(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_KNOWLEDGE)
    return render(request, "knowledge/pending.html",
                  {"pending": queries.pending_acknowledgements(_user(request))})


@login_required
def team_report(request: HttpRequest) -> HttpResponse:
    """Team leaders: who in my teams has not acknowledged the SOPs in force."""
    require_perm(request.user, Perm.VIEW_TEAM_MEMBERS)
    user = _user(request)
    teams = visible_teams(request).order_by("name")
    led = teams.filter(leader=user)
    if led.exists():
        teams = led
    return render(request, "knowledge/team_report.html",
                  {"report": queries.acknowledgement_report(teams)})


def _response_minutes(client_id: int) -> int:
    from satupintu.knowledge.services import deviations

    return deviations.response_minutes(client_id)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """Each client's synonym dictionary (writers) and approver roles (organisation managers)."""
    require_perm(request.user, Perm.MANAGE_KNOWLEDGE)
    user = _user(request)
    clients = list(visible_clients(request))
    if request.method == "POST":
        try:
            if "remove" in request.POST:
                entry = get_visible_or_404(scoped(Synonym.objects.all(), request),
                                           pk=request.POST.get("remove", "0"))
                settings_service.remove_synonym(entry, by=user, request=request)
            else:
                client = get_visible_or_404(visible_clients(request),
                                            pk=request.POST.get("client", "0") or 0)
                if "response_minutes" in request.POST:
                    from satupintu.knowledge.services import deviations

                    deviations.set_response_minutes(
                        client, request.POST.get("response_minutes", ""), by=user,
                        request=request)
                elif "approver_roles" in request.POST or "save_roles" in request.POST:
                    settings_service.set_approver_roles(
                        client, request.POST.getlist("approver_roles"), by=user,
                        request=request)
                else:
                    settings_service.set_synonym(client, request.POST.get("term", ""),
                                                 request.POST.get("means", ""), by=user,
                                                 request=request)
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            _fail(request, exc)
        return redirect("knowledge:settings")
    approver_roles = [(value, label) for value, label in Role.choices
                      if Perm.APPROVE_KNOWLEDGE in ROLE_PERMS.get(value, ())]
    rows = []
    for client in clients:
        config = KnowledgeSettings.objects.filter(client=client).first()
        rows.append({"client": client,
                     "synonyms": Synonym.objects.filter(client=client).order_by("term"),
                     "approver_roles": config.approver_roles if config else [],
                     "response_minutes": _response_minutes(client.pk)})
    return render(request, "knowledge/settings.html", {
        "rows": rows, "defaults": sorted(DEFAULT_SYNONYMS.items()),
        "roles": approver_roles,
        "may_set_roles": has_perm(user, Perm.MANAGE_ORGANISATION),
    })
