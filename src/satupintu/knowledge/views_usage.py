"""Recording, from the case page, which SOP version the agent followed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from satupintu.accounts.permissions import get_visible_or_404, require_perm, scoped
from satupintu.accounts.roles import Perm
from satupintu.cases.models import Case
from satupintu.knowledge.models import ArticleVersion
from satupintu.knowledge.services import usage


@login_required
@require_POST
def case_followed(request: HttpRequest, reference: str) -> HttpResponse:
    require_perm(request.user, Perm.VIEW_OWN_WORK)
    case = get_visible_or_404(scoped(Case.objects.all(), request), reference=reference)
    try:
        version_id = int(request.POST.get("version", ""))
    except ValueError:
        version_id = 0
    version = get_visible_or_404(ArticleVersion.objects.select_related("article"), pk=version_id)
    try:
        usage.record_followed(case, version, by=request.user,  # type: ignore[arg-type]
                              request=request)
        messages.success(request, _("Recorded on the case."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return HttpResponseRedirect(reverse("cases:detail", args=[case.reference]))
