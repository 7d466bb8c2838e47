"""Who is logged in where: a row per session so users can see and end their own (ASVS 3.3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserSession(models.Model):
    class EndReason(models.TextChoices):
        LOGOUT = "logout", _("Logged out")
        IDLE = "idle", _("Idle time-out")
        ABSOLUTE = "absolute", _("Absolute time-out")
        ENDED_BY_USER = "ended_by_user", _("Ended by the user")
        ENDED_BY_ADMIN = "ended_by_admin", _("Ended by an administrator")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="login_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    mfa_verified = models.BooleanField(default=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["user", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.ip_address or '?'}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None
