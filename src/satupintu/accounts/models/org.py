"""The organisation: one contact center, its sites, its clients (lines of business) and teams."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

INDONESIAN_TIME_ZONES = [
    ("Asia/Jakarta", _("WIB (Asia/Jakarta, UTC+7)")),
    ("Asia/Makassar", _("WITA (Asia/Makassar, UTC+8)")),
    ("Asia/Jayapura", _("WIT (Asia/Jayapura, UTC+9)")),
]


class ContactCenter(models.Model):
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact center")
        verbose_name_plural = _("contact centers")

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    center = models.ForeignKey(ContactCenter, on_delete=models.PROTECT, related_name="sites")
    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=100, blank=True)
    timezone = models.CharField(_("time zone"), max_length=40, choices=INDONESIAN_TIME_ZONES,
                                default="Asia/Jakarta")

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Client(models.Model):
    """A BPO's client or line of business; its data is never visible to another client's staff."""

    center = models.ForeignKey(ContactCenter, on_delete=models.PROTECT, related_name="clients")
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(_("name"), max_length=200)
    clients = models.ManyToManyField(Client, related_name="teams", verbose_name=_("clients"))
    leader = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="led_teams", verbose_name=_("team leader"))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product or process")
        LANGUAGE = "language", _("Language")
        CHANNEL = "channel", _("Channel")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PRODUCT)
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="skills",
                               help_text=_("Empty for skills shared by every client."))

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name
