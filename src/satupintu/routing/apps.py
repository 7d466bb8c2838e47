from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)


def _customer_wrote(sender: Any, case: Any, event: Any = None, channel: str = "",
                    **kwargs: Any) -> None:
    """A customer's message puts the case in line (inside the writing transaction). A
    routing fault must never lose the message: it is logged and the case stays."""
    from django.db import transaction

    from satupintu.routing.services import work

    try:
        with transaction.atomic():
            work.enqueue_case(case, channel=channel or case.channel, event=event)
    except Exception:
        log.exception("could not enqueue case %s for routing", case.pk)


class RoutingConfig(AppConfig):
    name = "satupintu.routing"
    label = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from satupintu.cases.signals import customer_wrote

        customer_wrote.connect(_customer_wrote, dispatch_uid="routing.enqueue_case")
