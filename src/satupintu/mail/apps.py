from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "satupintu.mail"
    label = "mail"
    verbose_name = _("E-mail")

    def ready(self) -> None:
        from satupintu.cases import signals
        from satupintu.inbox import services as inbox
        from satupintu.mail import services

        inbox.register_processor("email", services.process_email)
        inbox.register_sender("email", services.send_email)
        signals.agent_replied.connect(services.on_agent_replied,
                                      dispatch_uid="mail.on_agent_replied")
