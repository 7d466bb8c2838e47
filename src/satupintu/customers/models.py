"""Customers: one record per person or organisation, however many channels they use.

Personal data (name, identity values, NIK, address) is encrypted at rest; identities are
found through a keyed blind index of their normalised value, unique per client and kind, so
one phone number belongs to one customer of a client.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models import Client
from satupintu.customers.crypto import EncryptedTextField
from satupintu.customers.identity import IdentityKind
from satupintu.customers.masking import mask_identity


class Customer(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANISATION = "organisation", _("Organisation")

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="customers",
                               verbose_name=_("client"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PERSON)
    name = EncryptedTextField(_("name"))
    organisation = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="people",
        verbose_name=_("organisation"),
        help_text=_("For a person: the organisation they belong to."))
    nik = EncryptedTextField(_("NIK"), blank=True, default="")
    nik_index = models.CharField(max_length=64, blank=True, default="", db_index=True,
                                 editable=False)
    address = EncryptedTextField(_("address"), blank=True, default="")
    language = models.CharField(_("language"), max_length=5, default="id",
                                choices=[("id", "Bahasa Indonesia"), ("en", "English")])
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="merged_from", verbose_name=_("merged into"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "-created_at"], name="customer_client_new")]

    def __str__(self) -> str:
        # Not the name: str() ends up in audit entries and logs, which are not encrypted.
        return f"customer #{self.pk}"

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class CustomerIdentity(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities",
                                 verbose_name=_("customer"))
    # Copied from the customer so the uniqueness rule can be a database constraint.
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=IdentityKind.choices)
    value = EncryptedTextField(_("value"))
    blind_index = models.CharField(max_length=64, editable=False)
    verified = models.BooleanField(_("verified"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer identity")
        verbose_name_plural = _("customer identities")
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "kind", "blind_index"],
                                    name="identity_one_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.masked}"

    @property
    def masked(self) -> str:
        return mask_identity(self.kind, self.value)
