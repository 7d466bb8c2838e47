"""The user: one person with one role, assigned to the clients they may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from satupintu.accounts.models.org import Client, Site, Skill, Team
from satupintu.accounts.roles import MFA_REQUIRED_ROLES, ROLE_PERMS, Role


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="users", verbose_name=_("site"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="members", verbose_name=_("team"))
    clients = models.ManyToManyField(Client, blank=True, related_name="users",
                                     verbose_name=_("clients"))
    language = models.CharField(_("language"), max_length=5, default="id",
                                choices=[("id", "Bahasa Indonesia"), ("en", "English")])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    @property
    def permissions(self) -> frozenset[str]:
        if not self.is_active:
            return frozenset()
        return ROLE_PERMS.get(self.role, frozenset())

    @property
    def mfa_required(self) -> bool:
        return self.role in MFA_REQUIRED_ROLES


class AgentSkill(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="agents")
    proficiency = models.PositiveSmallIntegerField(
        _("proficiency"), validators=[MinValueValidator(1), MaxValueValidator(5)], default=3
    )

    class Meta:
        verbose_name = _("agent skill")
        verbose_name_plural = _("agent skills")
        constraints = [
            models.UniqueConstraint(fields=["user", "skill"], name="agentskill_unique"),
            models.CheckConstraint(condition=models.Q(proficiency__gte=1, proficiency__lte=5),
                                   name="agentskill_proficiency_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.skill} ({self.proficiency})"
