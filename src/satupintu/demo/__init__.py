"""Deterministic demo data: a realistic Indonesian BPO. Later parts of the product add steps."""

from __future__ import annotations

from django.db import transaction

from satupintu.demo import cases, channels, deviations, knowledge, organisation, routing, sla

DEMO_PASSWORD = organisation.DEMO_PASSWORD
STEPS = [organisation.build, cases.build, sla.build, knowledge.build, deviations.build,
         routing.build, channels.build, routing.build_floor]


def is_loaded() -> bool:
    return organisation.is_loaded()


@transaction.atomic
def build(seed: int = 2026) -> None:
    for step in STEPS:
        step(seed)


def demo_logins() -> list[tuple[str, str, str]]:
    return organisation.demo_logins()
