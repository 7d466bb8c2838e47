from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "satupintu.telephony"
    label = "telephony"
    verbose_name = _("Calls")

    def ready(self) -> None:
        from satupintu.inbox.services import register_processor
        from satupintu.telephony import services

        register_processor("phone", services.process_event)
