"""Print MRR@10 and recall@5 of full search vs keyword search on the demo knowledge base.

Runs on a throw-away SQLite database (nothing of yours is touched).
"""

from __future__ import annotations

import os
import sys
import tempfile


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="satupintu-eval-") as tmp:
        os.environ["SATUPINTU_DATA_DIR"] = tmp
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/eval.sqlite3"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "satupintu.config.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from satupintu.knowledge.evaluation import compare, table
        from satupintu.knowledge.evaluation.fixture import build_knowledge_base

        build_knowledge_base()
        print(table(compare()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
