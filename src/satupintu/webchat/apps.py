from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebchatConfig(AppConfig):
    name = "satupintu.webchat"
    label = "webchat"
    verbose_name = _("Web chat")

    def ready(self) -> None:
        from satupintu.cases.signals import agent_replied
        from satupintu.inbox.services import register_processor
        from satupintu.webchat import services

        register_processor("chat", services.process_chat)
        agent_replied.connect(services.on_agent_replied, dispatch_uid="webchat.agent_replied")
