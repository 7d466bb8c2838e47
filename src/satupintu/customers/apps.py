from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "satupintu.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from satupintu.customers import checks  # noqa: F401  (registers the system checks)
