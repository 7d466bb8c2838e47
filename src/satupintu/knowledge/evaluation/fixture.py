"""The smallest organisation that holds the demo knowledge base: three clients, two writers."""

from __future__ import annotations

from django.db import transaction

from satupintu.accounts.models import Client, ContactCenter, User
from satupintu.accounts.roles import Role
from satupintu.demo.knowledge import load_articles
from satupintu.demo.organisation import CLIENTS


@transaction.atomic
def build_knowledge_base() -> dict[str, Client]:
    center = ContactCenter.objects.create(name="Evaluation")
    clients = {spec.code: Client.objects.create(center=center, code=spec.code, name=spec.name)
               for spec in CLIENTS}
    admin = User.objects.create_user(username="eval.admin", role=Role.ADMIN)
    manager = User.objects.create_user(username="eval.manager", role=Role.MANAGER)
    manager.clients.set(clients.values())
    load_articles(clients, author=admin, approver=manager)
    return clients
