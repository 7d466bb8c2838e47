from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "satupintu.portal"
    label = "portal"
    verbose_name = _("Customer portal")

    def ready(self) -> None:
        from satupintu.inbox import services as inbox
        from satupintu.portal.services import CHANNEL, process_web

        inbox.register_processor(CHANNEL, process_web)
