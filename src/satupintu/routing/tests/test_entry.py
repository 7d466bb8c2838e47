"""Entry: the one-statement read of enqueue_case picks what the ORM reads would have picked."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satupintu.accounts.models import Skill
from satupintu.cases.models import Case
from satupintu.customers.models import Customer
from satupintu.routing.models import Queue, WorkItem
from satupintu.routing.services import rules, work

queue_st = st.fixed_dictionaries({
    "channel": st.sampled_from(["chat", "email"]),
    "language": st.sampled_from(["", "id", "en"]),
    "is_default": st.booleans(),
    "is_active": st.booleans(),
    "order": st.integers(0, 2),
    "skills": st.lists(st.sampled_from(["kartu", "kpr", "english"]), unique=True, max_size=2),
    "min_proficiency": st.integers(1, 5),
})


class _Rollback(Exception):
    pass


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(queues=st.lists(queue_st, max_size=5), language=st.sampled_from(["", "id", "en"]),
       channel=st.sampled_from(["chat", "email"]), has_rules=st.booleans())
def test_the_facts_statement_picks_the_queue_choose_queue_picks(
        org: Any, queues: list[dict[str, Any]], language: str, channel: str,
        has_rules: bool) -> None:
    try:
        with transaction.atomic():
            skills = {code: Skill.objects.create(code=code, name=code, client=org.alpha)
                      for code in ("kartu", "kpr", "english")}
            for i, spec in enumerate(queues):
                spec = dict(spec)
                wanted = spec.pop("skills")
                q = Queue.objects.create(client=org.alpha, code=f"q{i}", name_id=f"q{i}",
                                         name_en=f"q{i}", **spec)
                q.skills.set([skills[c] for c in wanted])
            if has_rules:
                rules.current_rules(org.alpha)
            customer = Customer.objects.create(client=org.alpha, name="x", language=language)
            now = timezone.now()
            case = Case.objects.create(client=org.alpha, customer=customer, subject="s",
                                       channel=channel, reference="SP-TEST-000001",
                                       created_at=now, updated_at=now)
            facts = work._facts(case, channel)
            assert facts is not None and not facts.live
            assert facts.language == language
            eligible = [q for q in Queue.objects.filter(client=org.alpha, channel=channel,
                                                         is_active=True)
                        if q.language in ("", language)]
            if eligible:
                expected = work.choose_queue(case, channel, language)
                assert facts.queue_id == expected.pk
                code, plan = work._queue_plan(expected.pk)
                assert code == expected.code
                assert plan == {s.code: expected.min_proficiency for s in expected.skills.all()}
            else:
                assert facts.queue_id is None
            if has_rules:
                current = rules.current_rules(org.alpha)
                assert (facts.rules_id, facts.rules_number) == (current.pk, current.number)
            else:
                assert facts.rules_id is None
            # and the entry itself, whichever way it found them
            item = work.enqueue_case(case, channel=channel)
            assert item is not None
            item = WorkItem.objects.get(pk=item.pk)
            assert item.queue_id == work.choose_queue(case, channel, language).pk
            assert item.rules_id == rules.current_rules(org.alpha).pk
            assert work._facts(case, channel).live  # type: ignore[union-attr]
            raise _Rollback
    except _Rollback:
        pass
