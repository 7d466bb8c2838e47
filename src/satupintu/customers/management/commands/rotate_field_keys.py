"""Re-encrypt every encrypted value under the newest of FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it),
restart, run ``satupintu manage rotate_field_keys``, then drop the old keys.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from satupintu.customers.services import rotate_field_keys


class Command(BaseCommand):
    help = "Re-encrypt personal data under the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = rotate_field_keys()
        for label, n in counts.items():
            self.stdout.write(f"{label}: {n}")
