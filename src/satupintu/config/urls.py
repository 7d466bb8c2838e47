from django.urls import include, path

from satupintu.config.api import api
from satupintu.web.views import healthz

urlpatterns = [
    path("", include("satupintu.web.urls")),
    path("accounts/", include("satupintu.accounts.urls")),
    path("customers/", include("satupintu.customers.urls")),
    path("cases/", include("satupintu.cases.urls")),
    path("knowledge/", include("satupintu.knowledge.urls")),
    path("help/", include("satupintu.knowledge.urls_help")),
    path("inbox/", include("satupintu.inbox.urls")),
    path("mail/", include("satupintu.mail.urls")),
    path("whatsapp/", include("satupintu.whatsapp.urls")),
    path("chat/", include("satupintu.webchat.urls")),
    path("public/", include("satupintu.portal.urls")),
    path("calls/", include("satupintu.telephony.urls")),
    path("routing/", include("satupintu.routing.urls")),
    path("wallboard/", include("satupintu.wallboard.urls")),
    path("api/v1/", api.urls),
    path("healthz", healthz, name="healthz"),
]

handler400 = "satupintu.web.errors.bad_request"
handler403 = "satupintu.web.errors.permission_denied"
handler404 = "satupintu.web.errors.page_not_found"
handler500 = "satupintu.web.errors.server_error"
