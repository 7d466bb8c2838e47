"""Seed the shared reason codes (per client codes come from the set-up pages)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

# code, Indonesian, English, paid, adherent when scheduled, longest expected (min), system
REASONS = [
    ("break", "Istirahat", "Break", True, True, 15, False),
    ("meal", "Makan", "Meal", False, True, 60, False),
    ("prayer", "Sholat", "Prayer (sholat)", True, True, 20, False),
    ("coaching", "Coaching", "Coaching", True, True, None, False),
    ("training", "Pelatihan", "Training", True, True, None, False),
    ("meeting", "Rapat", "Meeting", True, True, None, False),
    ("system_problem", "Masalah sistem", "System problem", True, False, None, False),
    ("missed_offers", "Tawaran terlewat", "Missed offers", True, False, None, True),
    ("acw_timeout", "Batas ACW terlewati", "After-contact work too long", True, False, None,
     True),
    ("connection_lost", "Koneksi terputus", "Connection lost", True, False, None, True),
]


def seed(apps: Any, schema_editor: Any) -> None:
    ReasonCode = apps.get_model("routing", "ReasonCode")
    for order, (code, name_id, name_en, paid, adherent, max_min, system) in enumerate(REASONS):
        if ReasonCode.objects.filter(client__isnull=True, code=code).exists():
            continue
        ReasonCode.objects.create(client=None, code=code, name_id=name_id, name_en=name_en,
                                  paid=paid, adherent_when_scheduled=adherent,
                                  max_minutes=max_min, system=system, order=order * 10)


def unseed(apps: Any, schema_editor: Any) -> None:
    ReasonCode = apps.get_model("routing", "ReasonCode")
    ReasonCode.objects.filter(client__isnull=True, code__in=[r[0] for r in REASONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
