"""The proof of atomic assignment: many routing workers and API processes on one PostgreSQL
database, agents changing state at random, then the database and the event log checked.

Zero interactions assigned twice, zero agents over capacity (at any time, by replaying the
log), zero interactions left waiting while a qualified agent is ready with room, and no
half-made assignment when a worker is killed in the middle of one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[4]

STRESS_RULES = """\
name: stress
accept_timeout: 2
max_missed_offers: 3
vip_boost: 5
queues:
  default:
    steps:
      - name: known agent
        preferred_agent: true
        timeout: 2
      - name: skilled
        target: 'interaction.skills.all(s, agent.skills[s] >= interaction.skills[s])'
        timeout: 3
      - name: anyone of the client
"""

API_PROCESS = r'''
import json, random, sys, time
from collections import Counter
import django
django.setup()
from django.core.exceptions import ValidationError
from django.http import Http404
from satupintu.accounts.models import Client, User
from satupintu.cases import services as cases
from satupintu.customers.models import Customer
from satupintu.routing.models import WorkItem, WorkStatus, AgentPresence, PresenceState
from satupintu.routing.services import presence, work

seed, seconds, quota = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
client = Client.objects.get(code="stress")
agents = list(User.objects.filter(clients=client, role="agent").order_by("pk"))
sup = User.objects.get(username="stress-sup")
customers = list(Customer.objects.filter(client=client))
channels = ["email", "phone", "whatsapp", "chat", "web"]
stats = Counter()
errors = []
created = 0
print("READY", flush=True)
end = time.monotonic() + seconds
timing = {}
while time.monotonic() < end:
    r = rng.random()
    t_op = time.monotonic()
    try:
        if created < quota and r < 0.4:
            cases.create_case(client, rng.choice(customers), "stress", by=None, body="halo",
                              channel=rng.choice(channels),
                              priority=rng.choice(["low", "normal", "normal", "high", "urgent"]))
            created += 1
            stats["created"] += 1
        elif r < 0.55:
            a = rng.choice(agents)
            x = rng.random()
            if x < 0.6:
                presence.set_state(a, "ready", connection=f"c{seed}")
            elif x < 0.8:
                presence.set_state(a, "not_ready", reason_code="break")
            elif x < 0.9:
                presence.set_state(a, "logged_out")
            else:
                presence.heartbeat(a, f"c{seed}")
            stats["presence"] += 1
        elif r < 0.85:
            rows = list(WorkItem.objects.filter(status=WorkStatus.OFFERED)
                        .values_list("pk", "agent_id")[:40])
            if rows:
                pk, agent_id = rng.choice(rows)
                item = WorkItem.objects.get(pk=pk)
                agent = User.objects.get(pk=agent_id)
                if rng.random() < 0.75:
                    work.accept(item, by=agent)
                    stats["accept"] += 1
                else:
                    work.decline(item, by=agent)
                    stats["decline"] += 1
        elif r < 0.97:
            rows = list(WorkItem.objects.filter(status=WorkStatus.ASSIGNED)
                        .values_list("pk", "agent_id")[:40])
            if rows:
                pk, agent_id = rng.choice(rows)
                work.complete(WorkItem.objects.get(pk=pk), by=User.objects.get(pk=agent_id),
                              wrap_up=rng.random() < 0.5)
                stats["complete"] += 1
        else:
            if rng.random() < 0.5:
                ids = list(AgentPresence.objects.filter(state=PresenceState.ACW)
                           .values_list("pk", flat=True)[:20])
                if ids:
                    u = User.objects.get(pk=rng.choice(ids))
                    work.end_wrap_up(u, by=u)
                    stats["end_wrap_up"] += 1
            else:
                rows = list(WorkItem.objects.filter(status__in=["offered", "assigned"])
                            .values_list("pk", flat=True)[:40])
                if rows:
                    work.reassign(WorkItem.objects.get(pk=rng.choice(rows)),
                                  rng.choice(agents), by=sup)
                    stats["reassign"] += 1
    except (ValidationError, Http404):
        stats["refused"] += 1
    except Exception as exc:
        stats["error"] += 1
        errors.append(repr(exc)[:300])
    bucket = "create" if r < 0.4 else "presence" if r < 0.55 else "offer" if r < 0.85 else "other"
    t_all, n_all, t_max = timing.get(bucket, (0.0, 0, 0.0))
    d = time.monotonic() - t_op
    timing[bucket] = (t_all + d, n_all + 1, max(t_max, d))
print(json.dumps({"stats": stats, "errors": errors[:20], "timing": timing}), flush=True)
'''


def _postgres_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": _postgres_url(), "SECRET_KEY": settings.SECRET_KEY,
                "SATUPINTU_TESTING": "1", "DJANGO_SETTINGS_MODULE": "satupintu.config.settings",
                "PYTHONPATH": str(ROOT / "src"), "REDIS_URL": ""})
    return env


def _setup(n_agents: int, backlog: int) -> Any:
    """One client, ``n_agents`` agents (half ready), and ``backlog`` contacts already waiting
    (written in bulk: the API processes add more through the real inbound path)."""
    import random
    from datetime import timedelta

    from satupintu.accounts.models import AgentSkill, Client, ContactCenter, Skill, User
    from satupintu.cases.models import Case
    from satupintu.customers.models import Customer
    from satupintu.routing.models import (
        ENGINE_CHANNEL,
        AgentPresence,
        PresenceEvent,
        Queue,
        RoutingEvent,
        RoutingSettings,
        WorkItem,
    )
    from satupintu.routing.services import rules

    rng = random.Random(7)
    now = timezone.now()
    center = ContactCenter.objects.create(name="Stress")
    client = Client.objects.create(center=center, code="stress", name="Stress Bank")
    other = Client.objects.create(center=center, code="other", name="Other")
    sup = User.objects.create(username="stress-sup", role="supervisor", password="!")
    sup.clients.set([client])
    users = User.objects.bulk_create([
        User(username=f"agent{i:03d}", role="agent", password="!") for i in range(n_agents)])
    through = User.clients.through
    through.objects.bulk_create([through(user_id=u.pk, client_id=client.pk) for u in users])
    # a few agents of another client: they must never get this client's work
    outsiders = User.objects.bulk_create([
        User(username=f"other{i}", role="agent", password="!") for i in range(5)])
    through.objects.bulk_create([through(user_id=u.pk, client_id=other.pk) for u in outsiders])
    billing = Skill.objects.create(code="stress-billing", name="Billing")
    AgentSkill.objects.bulk_create([
        AgentSkill(user=u, skill=billing, proficiency=rng.randint(1, 5))
        for u in users if rng.random() < 0.6])
    queues = {}
    for ch in ("email", "phone", "whatsapp", "chat", "web"):
        queues[ch] = Queue.objects.create(client=client, code=f"q-{ch}", name_id=ch,
                                          name_en=ch, channel=ch, min_proficiency=3,
                                          is_default=True)
    queues["chat"].skills.add(billing)
    RoutingSettings.objects.create(client=client, acw_max_seconds=3, heartbeat_timeout_seconds=20)
    version = rules.save_rules(client, STRESS_RULES, by=sup)
    customers = [Customer.objects.create(client=client, name=f"Pelanggan {i}")
                 for i in range(20)]
    ready = [*users[: n_agents // 2], *outsiders]
    AgentPresence.objects.bulk_create([
        AgentPresence(user=u, state="ready", since=now, heartbeat_at=now, connection="setup")
        for u in ready])
    PresenceEvent.objects.bulk_create([PresenceEvent(user=u, state="ready", at=now)
                                       for u in ready])
    channels = [rng.choice(list(queues)) for _ in range(backlog)]
    cases = Case.objects.bulk_create([
        Case(client=client, reference=f"ST{i:06d}", customer=rng.choice(customers),
             subject="stress", channel=ch, created_at=now, updated_at=now)
        for i, ch in enumerate(channels)])
    items = WorkItem.objects.bulk_create([
        WorkItem(case=c, queue=queues[c.channel], client=client,
                 channel=ENGINE_CHANNEL[c.channel], rules=version,
                 priority=rng.choice([-1, 0, 0, 1, 2]), vip=rng.random() < 0.1,
                 language="id", skills={"stress-billing": 3} if c.channel == "chat" else {},
                 enqueued_at=now - timedelta(seconds=i % 5),
                 place_at=now - timedelta(seconds=i % 5))
        for i, c in enumerate(cases)])
    RoutingEvent.objects.bulk_create([
        RoutingEvent(item=it, queue_id=it.queue_id, kind="enqueued", at=it.enqueued_at)
        for it in items])
    return client


def _replay_and_check(client: Any) -> dict[str, int]:
    """Replay the routing log (id order = the order the row locks imposed) and check."""
    from satupintu.accounts.models import User
    from satupintu.routing.models import AgentPresence, RoutingEvent, WorkItem

    serving = set(User.clients.through.objects.filter(client_id=client.pk)
                  .values_list("user_id", flat=True))
    caps = {p.pk: {"call": p.cap_call, "chat": p.cap_chat, "email": p.cap_email}
            for p in AgentPresence.objects.all()}
    channel = dict(WorkItem.objects.values_list("pk", "channel"))
    holder: dict[int, int | None] = defaultdict(lambda: None)
    state: dict[int, str] = defaultdict(lambda: "waiting")
    load: dict[int, Counter[str]] = defaultdict(Counter)
    accepted: Counter[int] = Counter()
    n = Counter()
    for ev in RoutingEvent.objects.order_by("id").values("item_id", "kind", "agent_id", "data"):
        item, kind, agent = ev["item_id"], ev["kind"], ev["agent_id"]
        ch = channel[item]
        n[kind] += 1
        if kind == "offered":
            assert holder[item] is None, f"item {item} offered while held by {holder[item]}"
            assert state[item] == "waiting", (item, state[item])
            assert agent in serving
            holder[item], state[item] = agent, "offered"
            load[agent][ch] += 1
        elif kind == "accepted":
            assert state[item] == "offered" and holder[item] == agent, (item, ev)
            accepted[item] += 1
            state[item] = "assigned"
        elif kind in ("declined", "missed", "withdrawn"):
            assert state[item] == "offered" and holder[item] == agent, (item, ev)
            load[agent][ch] -= 1
            holder[item], state[item] = None, "waiting"
        elif kind == "transferred":
            old = ev["data"].get("from")
            if state[item] in ("offered", "assigned"):
                assert holder[item] == old, (item, ev)
                load[old][ch] -= 1
            assert agent in serving
            holder[item], state[item] = agent, "assigned"
            load[agent][ch] += 1
        elif kind in ("wrap_up", "done", "cancelled", "abandoned"):
            if state[item] in ("offered", "assigned"):
                load[holder[item]][ch] -= 1
            state[item] = {"wrap_up": "wrap_up"}.get(kind, "ended")
        if agent is not None and agent in load:
            mine = load[agent]
            assert all(v >= 0 for v in mine.values()), (agent, mine)
            for c in ("call", "chat", "email"):
                assert mine[c] <= caps[agent][c], f"agent {agent} over capacity: {mine}"
            if mine["call"]:
                assert mine["chat"] == 0 and mine["email"] == 0, (agent, mine)
    assert max(accepted.values(), default=0) <= 1, "an interaction was accepted twice"
    # the log and the rows agree
    for p in AgentPresence.objects.all():
        got = {"call": p.load_call, "chat": p.load_chat, "email": p.load_email}
        assert got == {c: load[p.pk][c] for c in got}, (p.pk, got, dict(load[p.pk]))
    for item in WorkItem.objects.all():
        assert item.status == state[item.pk] or (
            item.status in ("done", "cancelled", "abandoned") and state[item.pk] == "ended"), (
            item.pk, item.status, state[item.pk])
        assert item.agent_id == holder[item.pk] or item.status not in ("offered", "assigned")
    return dict(n)


def _assert_nothing_stuck(now: Any) -> int:
    """No waiting item has a qualified agent (ready, room, right client, step, not one who
    declined or missed it) at the end: the engine's own choose function says so."""
    from satupintu.engine.router import choose_agent
    from satupintu.routing.models import AgentPresence, PresenceState, Queue, WorkItem
    from satupintu.routing.services.assign import agent_for, interaction_for
    from satupintu.routing.services.rules import compile_rules_id

    ready = [agent_for(p.pk, p) for p in AgentPresence.objects.filter(state=PresenceState.READY)
             .order_by("user_id")]
    codes = dict(Queue.objects.values_list("pk", "code"))
    waiting = list(WorkItem.objects.filter(status="waiting"))
    nobody: set[Any] = set()
    for item in waiting:
        rules = compile_rules_id(item.rules_id)
        ix = interaction_for(item, codes[item.queue_id], rules)
        kind = (item.rules_id, item.queue_id, item.channel, tuple(sorted(item.skills.items())),
                item.preferred_agent_id, tuple(sorted(item.declined_by)),
                int(now.timestamp() - item.enqueued_at.timestamp()) // 1)
        if kind in nobody:
            continue
        found = choose_agent(ix, ready, rules, now.timestamp(),
                             declined=[str(d) for d in item.declined_by])
        assert found is None, f"item {item.pk} waits while agent {found.id} could take it"
        nobody.add(kind)
    return len(waiting)


def _start_workers(n: int) -> list[subprocess.Popen[str]]:
    return [subprocess.Popen([sys.executable, "-m", "satupintu.cli", "route", "--interval",
                              "0.05"], cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(n)]


def _stop(procs: list[subprocess.Popen[str]]) -> list[str]:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    errs = []
    for p in procs:
        try:
            _out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            _out, err = p.communicate()
        errs.append(err)
    return errs


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only
@pytest.mark.slow
def test_many_workers_and_api_processes_never_double_assign() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: several processes writing at once")
    from satupintu.routing.models import AgentPresence, RoutingEvent, WorkItem

    n_workers = int(os.environ.get("STRESS_WORKERS", 4))
    n_api = int(os.environ.get("STRESS_API", 3))
    n_agents = int(os.environ.get("STRESS_AGENTS", 200))
    backlog = int(os.environ.get("STRESS_BACKLOG", 2000))
    n_items = int(os.environ.get("STRESS_ITEMS", 1000))
    seconds = float(os.environ.get("STRESS_SECONDS", 30))
    client = _setup(n_agents, backlog)
    workers = _start_workers(n_workers)
    apis = [subprocess.Popen([sys.executable, "-c", API_PROCESS, str(i), str(seconds),
                              str(n_items // n_api + 1)], cwd=ROOT, env=_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(n_api)]
    summaries = []
    for p in apis:
        out, err = p.communicate(timeout=seconds + 120)
        assert p.returncode == 0, err[-3000:]
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    # quiet: only the workers run, for longer than the offer timeout and the ACW maximum
    time.sleep(6)
    stop_at = timezone.now()
    worker_errs = _stop(workers)
    for err in worker_errs:
        assert "Traceback" not in err, err[-3000:]
    errors = [e for s in summaries for e in s["errors"]]
    assert not errors, errors
    stats = Counter()
    for s in summaries:
        stats.update(s["stats"])
    assert stats["created"] > 0, stats
    assert WorkItem.objects.count() == backlog + stats["created"]
    counts = _replay_and_check(client)
    assert counts.get("offered", 0) >= min(n_agents, backlog), counts
    assert counts.get("accepted", 0) > 0 and counts.get("missed", 0) > 0, counts
    # nothing offered to an agent of another client, ever
    assert not RoutingEvent.objects.filter(agent__username__startswith="other").exists()
    waiting = _assert_nothing_stuck(stop_at - timezone.timedelta(seconds=1))
    assert AgentPresence.objects.filter(load_chat__gt=3).count() == 0
    print(f"\nstress: {dict(stats)}; events {counts}; still waiting {waiting}")
    print("timing", [s["timing"] for s in summaries])


KILL_SCRIPT = r'''
import os, sys, time
import django
django.setup()
from django.db import transaction
from satupintu.routing.models import RoutingEvent
from satupintu.routing.services import assign

real = RoutingEvent.objects.bulk_create
def hang(*args, **kwargs):
    result = real(*args, **kwargs)   # item, load and event written, not committed
    print("INSIDE", flush=True)
    time.sleep(120)
    return result
RoutingEvent.objects.bulk_create = hang
assign.route()
print("FINISHED", flush=True)
'''


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only
def test_a_worker_killed_mid_assignment_leaves_no_half_assignment(org) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: a second process holding the transaction")
    from satupintu.cases import services as cases
    from satupintu.customers import services as customers
    from satupintu.routing.models import AgentPresence, RoutingEvent, WorkItem, WorkStatus
    from satupintu.routing.services import assign, presence

    presence.set_state(org.alice, "ready")
    dewi = customers.create_customer(org.alpha, "Dewi", by=org.alice)
    from django.test.utils import override_settings

    with override_settings(ROUTING_INLINE=False):
        cases.create_case(org.alpha, dewi, "Kartu", by=None, body="halo", channel="chat")
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "INSIDE", proc.stderr.read() if proc.stderr else ""
    # while it hangs, the item and the agent are locked: another pass skips them, no wait
    started = time.monotonic()
    assert assign.route() == []
    assert time.monotonic() - started < 5
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    item = WorkItem.objects.get()
    assert item.status == WorkStatus.WAITING and item.agent is None
    assert AgentPresence.objects.get(pk=org.alice.pk).load_chat == 0
    assert not RoutingEvent.objects.filter(kind="offered").exists()
    # recovered: the next pass offers it
    [again] = assign.route()
    assert again.agent_id == org.alice.pk
    assert AgentPresence.objects.get(pk=org.alice.pk).load_chat == 1
