from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WhatsappConfig(AppConfig):
    name = "satupintu.whatsapp"
    label = "whatsapp"
    verbose_name = _("WhatsApp")

    def ready(self) -> None:
        from satupintu.cases.signals import agent_replied
        from satupintu.inbox.services import register_processor, register_sender
        from satupintu.whatsapp import services

        register_processor("whatsapp", services.process_inbound)
        register_sender("whatsapp", services.send)
        agent_replied.connect(services.on_agent_replied,
                              dispatch_uid="whatsapp.on_agent_replied")
