"""Issue 7: sustained routing through the real platform on PostgreSQL.

    python bench/routing/run.py [--agents 1000] [--rate 250] [--seconds 10] [--producers 2]
                                [--mode inline|worker] [--workers 2] [--arrival case|enqueue]

A dedicated database (``DATABASE_URL``, default ``satupintu_bench_routing``) is created and
migrated, emptied, and given one client with ``--agents`` ready agents (chat capacity 3,
e-mail 5). Producer processes then open cases through the inbound path
(``cases.services.create_case(by=None)`` → ``customer_wrote`` → ``enqueue_case``) at a steady
open-loop rate; each case must be offered to an agent.

``--arrival enqueue`` measures routing alone, from the enqueue: the cases are opened before the
clock starts (bulk rows, no work item), and each arrival is a contact entering its queue through
the real ``routing.services.work.enqueue_case`` (classification, queue, rule version, work
item, ``enqueued`` event, commit). ``--arrival case`` (the default) opens the case in the
arrival too, so its rate is bounded by the inbound path (issue 6's benchmark measures that).

``inline`` mode: the routing pass runs right after the enqueue commits, in the producer
process (the default platform behaviour); the latency of a contact is from its scheduled
arrival to the moment its offer is committed (the call returns after the after-commit pass).
``worker`` mode: producers only enqueue, ``--workers`` ``satupintu route`` processes match;
a poller sees each offer (10 ms resolution) and the latency is arrival → first seen.

Writes ``bench/routing/results.md`` (text below ``<!-- notes -->`` is kept) and then runs
``wallboard_fanout.py`` from this folder when it exists.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/satupintu_bench_routing"
MARKER = "<!-- notes -->"


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("SECRET_KEY", "bench-routing-not-a-secret")
    os.environ.setdefault("SATUPINTU_DATA_DIR",
                          str(Path(tempfile.gettempdir()) / "satupintu-bench-routing"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "satupintu.config.settings")
    os.environ["REDIS_URL"] = ""
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def ensure_database() -> None:
    import psycopg

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def open_cases_without_work(client_id: int, customer_ids: list[int], n: int) -> list[int]:
    """``n`` open cases with their first message and no work item: the contacts that will
    enter their queues during the run (``--arrival enqueue``)."""
    from django.utils import timezone

    from satupintu.cases.models import Case, CaseEvent

    now = timezone.now()
    rng = random.Random(7)
    rows = Case.objects.bulk_create([
        Case(client_id=client_id, reference=f"BENCH-{i:07d}", customer_id=rng.choice(customer_ids),
             subject="bench", channel=rng.choice(["chat", "chat", "whatsapp", "email"]),
             created_at=now, updated_at=now) for i in range(n)], batch_size=2000)
    CaseEvent.objects.bulk_create([
        CaseEvent(case=c, kind="inbound", channel=c.channel, body="halo", created_at=now)
        for c in rows], batch_size=2000)
    return [c.pk for c in rows]


def prepare(n_agents: int) -> dict[str, int]:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    with connection.cursor() as c:
        c.execute("TRUNCATE routing_routingevent, routing_workitem, routing_presenceevent, "
                  "routing_agentpresence, routing_queue, routing_ruleversion, "
                  "routing_routingsettings, sla_casesla, cases_caseevent, cases_case_tags, "
                  "cases_case, customers_customeridentity, customers_customer, "
                  "audit_auditentry, accounts_user_clients, accounts_user, "
                  "accounts_client, accounts_contactcenter RESTART IDENTITY CASCADE")
    from satupintu.accounts.models import Client, ContactCenter, User
    from satupintu.customers.models import Customer
    from satupintu.routing.models import AgentPresence, PresenceEvent, RuleVersion
    from satupintu.routing.services import rules

    center = ContactCenter.objects.create(name="Bench")
    client = Client.objects.create(center=center, code="bench", name="Bench client")
    unusable = "!"  # the agents never log in
    users = User.objects.bulk_create([User(username=f"agent{i:04d}", role="agent",
                                           password=unusable) for i in range(n_agents)])
    through = User.clients.through
    through.objects.bulk_create([through(user_id=u.pk, client_id=client.pk) for u in users])
    now = timezone.now()
    AgentPresence.objects.bulk_create([
        AgentPresence(user=u, state="ready", since=now, heartbeat_at=now + timezone.timedelta(
            hours=1), connection="bench") for u in users])
    PresenceEvent.objects.bulk_create([PresenceEvent(user=u, state="ready", at=now)
                                       for u in users])
    # The bench agents never answer: a ten-minute accept window keeps every offer standing
    # for the whole run, so each contact is offered once (the measure is enqueue → offered).
    RuleVersion.objects.create(
        client=client, number=1, is_current=True, comment="bench", created_at=timezone.now(),
        text=rules.DEFAULT_RULES.replace("accept_timeout: 20 ", "accept_timeout: 600"))
    rules.current_rules(client)
    customers = [Customer.objects.create(client=client, name=f"Pelanggan {i}").pk
                 for i in range(50)]
    return {"client": client.pk, "first_customer": customers[0], "customers": len(customers)}


def producer(idx: int, rate: float, seconds: float, start: float, info: dict[str, int],
             inline: bool, out: mp.Queue, case_ids: list[int] | None = None) -> None:
    """Open cases (``case_ids`` None) or enqueue the given open cases, at a steady rate."""
    setup_django()
    from django.conf import settings
    from django.db import transaction

    settings.ROUTING_INLINE = inline
    from satupintu.accounts.models import Client
    from satupintu.cases import services as cases
    from satupintu.cases.models import Case
    from satupintu.customers.models import Customer
    from satupintu.routing.services import work

    client = Client.objects.get(pk=info["client"])
    customers = list(Customer.objects.filter(client=client))
    rng = random.Random(idx)
    results = []
    n = int(rate * seconds)
    waiting = list(Case.objects.filter(pk__in=case_ids[:n])) if case_ids else []
    while time.time() < start:
        time.sleep(0.001)
    for k in range(n):
        due = start + k / rate
        lag = due - time.time()
        if lag > 0:
            time.sleep(lag)
        t0 = time.time()
        if case_ids:
            case = waiting[k]
            with transaction.atomic():  # as the customer_wrote receiver does
                work.enqueue_case(case, channel=case.channel)
        else:
            case = cases.create_case(client, rng.choice(customers), "bench", by=None,
                                     body="halo",
                                     channel=rng.choice(["chat", "chat", "whatsapp", "email"]))
        results.append((case.pk, due, t0, time.time()))
    out.put(results)


def wait_for_workers(info: dict[str, int]) -> None:
    """A probe contact, entered with routing off: once it is offered, the workers run."""
    from django.conf import settings
    from django.db import connection

    from satupintu.accounts.models import Client
    from satupintu.cases import services as cases
    from satupintu.customers.models import Customer
    from satupintu.routing.models import WorkItem

    settings.ROUTING_INLINE = False
    client = Client.objects.get(pk=info["client"])
    case = cases.create_case(client, Customer.objects.filter(client=client).first(), "probe",
                             by=None, body="probe", channel="chat")
    deadline = time.time() + 120
    while WorkItem.objects.filter(case=case, status="waiting").exists():
        if time.time() > deadline:
            raise SystemExit("the routing workers did not start")
        time.sleep(0.1)
    connection.close()


def poller(ready: Any, stop: Any, out: mp.Queue) -> None:
    setup_django()
    from django.db import connection

    seen: dict[int, float] = {}
    seen_ids: set[int] = set()
    floor = 0  # every item id up to here has been seen offered
    connection.ensure_connection()
    ready.set()
    while not stop.is_set():
        with connection.cursor() as c:
            c.execute("SELECT id, case_id FROM routing_workitem WHERE status <> 'waiting' "
                      "AND id > %s", [floor])
            rows = c.fetchall()
        t = time.time()
        for item_id, case_id in rows:
            if item_id not in seen_ids:
                seen_ids.add(item_id)
                seen.setdefault(case_id, t)
        while floor + 1 in seen_ids:
            floor += 1
        time.sleep(0.01)
    out.put(seen)


def drain(n: int, info: dict[str, int]) -> dict[str, float]:
    """Routing capacity: ``n`` contacts enter through the inbound path with routing off,
    then one worker's passes (``assign.route``) offer them all; assignments per second."""
    from django.conf import settings
    from django.db import connection

    from satupintu.accounts.models import Client
    from satupintu.cases import services as cases
    from satupintu.customers.models import Customer
    from satupintu.routing.models import AgentPresence, RoutingEvent, WorkItem
    from satupintu.routing.services import assign

    WorkItem.objects.filter(status="offered").update(status="cancelled")
    AgentPresence.objects.update(load_call=0, load_chat=0, load_email=0)
    client = Client.objects.get(pk=info["client"])
    customers = list(Customer.objects.filter(client=client))
    rng = random.Random(99)
    settings.ROUTING_INLINE = False
    t0 = time.time()
    for _ in range(n):
        cases.create_case(client, rng.choice(customers), "bench", by=None, body="halo",
                          channel=rng.choice(["chat", "chat", "whatsapp", "email"]))
    t1 = time.time()
    before = RoutingEvent.objects.filter(kind="offered").count()
    passes = 0
    while WorkItem.objects.filter(status="waiting").exists() and passes < 1000:
        assign.route(limit=500)
        passes += 1
    t2 = time.time()
    offered = RoutingEvent.objects.filter(kind="offered").count() - before
    connection.close()
    return {"drain_n": n, "enqueue_per_s": round(n / (t1 - t0), 1),
            "drain_offered": offered, "drain_per_s": round(offered / (t2 - t1), 1),
            "drain_passes": passes}


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))] if s else float("nan")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--agents", type=int, default=1000)
    p.add_argument("--rate", type=float, default=250.0, help="arrivals per second, total")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--producers", type=int, default=2)
    p.add_argument("--mode", choices=["inline", "worker"], default="inline")
    p.add_argument("--drain", type=int, default=2000,
                   help="also: contacts queued first, then routed by one worker (0: skip)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--interval", type=float, default=0.01,
                   help="a worker's pause after a pass that found nothing (seconds)")
    p.add_argument("--batch-wait", type=float, default=0.02,
                   help="a worker's pause after a pass that found some work (seconds)")
    p.add_argument("--arrival", choices=["case", "enqueue", "both"], default="both",
                   help="an arrival opens a case (case) or enqueues an open one (enqueue); "
                        "both: one run of each")
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--no-fanout", action="store_true", help="skip wallboard_fanout.py")
    a = p.parse_args(argv)
    if a.arrival == "both":
        rest = list(argv if argv is not None else sys.argv[1:])
        for arrival in ("enqueue", "case"):
            code = subprocess.call([sys.executable, __file__, *rest, "--arrival", arrival,
                                    "--no-fanout"], cwd=ROOT)
            if code:
                return code
        if not a.no_fanout and (HERE / "wallboard_fanout.py").exists():
            return subprocess.call([sys.executable, str(HERE / "wallboard_fanout.py")], cwd=ROOT)
        return 0
    ensure_database()
    setup_django()
    info = prepare(a.agents)
    from django.db import connection

    per_producer: list[list[int] | None] = [None] * a.producers
    if a.arrival == "enqueue":
        from satupintu.customers.models import Customer

        n = int(a.rate / a.producers * a.seconds)
        ids = open_cases_without_work(info["client"], list(
            Customer.objects.filter(client_id=info["client"]).values_list("pk", flat=True)),
            n * a.producers)
        per_producer = [ids[i * n:(i + 1) * n] for i in range(a.producers)]

    connection.close()
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    inline = a.mode == "inline"
    workers = []
    watcher = None
    stop, seen_q = ctx.Event(), ctx.Queue()
    if not inline:
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        workers = [subprocess.Popen([sys.executable, "-m", "satupintu.cli", "route",
                                     "--interval", str(a.interval), "--limit", "500",
                                     "--batch-wait", str(a.batch_wait)],
                                    cwd=ROOT, env=env)
                   for _ in range(a.workers)]
        wait_for_workers(info)
        ready = ctx.Event()
        watcher = ctx.Process(target=poller, args=(ready, stop, seen_q))
        watcher.start()
        ready.wait(120)  # the poller watches before the first arrival
    # producers start on a common clock, after their own start-up
    start = time.time() + 8.0
    procs = [ctx.Process(target=producer, args=(i, a.rate / a.producers, a.seconds, start,
                                                info, inline, out, per_producer[i]))
             for i in range(a.producers)]
    for pr in procs:
        pr.start()
    got: list[Any] = [out.get() for _ in procs]
    for pr in procs:
        pr.join()
    if watcher is not None:
        time.sleep(5)
        stop.set()
        got.append(seen_q.get())
        watcher.join()
    for w in workers:
        w.terminate()
        w.wait()
    arrivals = [r for g in got if isinstance(g, list) for r in g]
    seen = next((g for g in got if isinstance(g, dict)), {})
    setup_django()
    from satupintu.routing.models import RoutingEvent, WorkItem

    items = dict(WorkItem.objects.values_list("case_id", "status"))
    enqueued = {c: t.timestamp() for c, t in WorkItem.objects.values_list("case_id",
                                                                         "enqueued_at")}
    offered = sum(1 for r in arrivals if items.get(r[0], "waiting") != "waiting")
    first = min(r[1] for r in arrivals)
    if inline:
        lat = [(r[3] - r[1]) * 1000 for r in arrivals]
        svc = [(r[3] - r[2]) * 1000 for r in arrivals]
        enq = [(r[3] - enqueued[r[0]]) * 1000 for r in arrivals]
        done = max(r[3] for r in arrivals)
    else:
        lat = [(seen[r[0]] - r[1]) * 1000 for r in arrivals if r[0] in seen]
        svc = [(r[3] - r[2]) * 1000 for r in arrivals]
        enq = [(seen[r[0]] - enqueued[r[0]]) * 1000 for r in arrivals if r[0] in seen]
        done = max(seen.values()) if seen else time.time()
    throughput = offered / (done - first)
    events = RoutingEvent.objects.filter(kind="offered", item__case_id__in=[
        r[0] for r in arrivals]).count()
    result = {
        "mode": a.mode, "arrival": a.arrival, "agents": a.agents, "rate": a.rate,
        "seconds": a.seconds,
        "producers": a.producers, "workers": a.workers if not inline else 0,
        "arrivals": len(arrivals), "offered": offered, "offer_events": events,
        "throughput": round(throughput, 1), "p50_ms": round(pct(lat, 50), 1),
        "p95_ms": round(pct(lat, 95), 1), "p99_ms": round(pct(lat, 99), 1),
        "svc_p50_ms": round(pct(svc, 50), 1), "svc_p95_ms": round(pct(svc, 95), 1),
        "enq_p50_ms": round(pct(enq, 50), 1), "enq_p95_ms": round(pct(enq, 95), 1),
        "enq_p99_ms": round(pct(enq, 99), 1),
        "cpus": os.cpu_count(), "load": os.getloadavg()[0],
    }
    if a.drain:
        result.update(drain(a.drain, info))
    print(json.dumps(result), flush=True)
    if not a.no_write:
        write_results(result, " ".join(["python", "bench/routing/run.py", *sys.argv[1:]]))
    fanout = HERE / "wallboard_fanout.py"
    if fanout.exists() and not a.no_fanout:
        subprocess.call([sys.executable, str(fanout)], cwd=ROOT)
    return 0


HEADER = """# Routing benchmark (issue 7)

Two arrival streams, each written by its own run between its markers:

- **enqueue**: routing alone, from the enqueue. The cases are already open; each arrival is a
  contact entering its queue through the real `enqueue_case` (the issue's "enqueue → offered").
- **case**: each arrival also opens its case through the inbound path (`create_case(by=None)`:
  case, timeline, SLA clocks, audit chain, then the same enqueue), so the stream is bounded by
  opening cases, which issue 6's channel benchmark measures.

Targets: ≥ 200 assignments/s and p95 < 200 ms on 2 cores.
"""


def _section(r: dict[str, object], command: str) -> str:
    opens = "includes opening the case" if r["arrival"] == "case" else "the enqueue call"
    return f"""## Arrival: {r['arrival']}

Command: `{command}`

Machine: {platform.processor() or platform.machine()}, {r['cpus']} CPUs visible, load
average {r['load']:.1f} at the end of the run, PostgreSQL on the same machine.

| measure | value |
| --- | --- |
| mode | {r['mode']} ({r['workers']} routing workers) |
| ready agents | {r['agents']} |
| arrival rate (open loop, per s) | {r['rate']} for {r['seconds']} s, {r['producers']} producers |
| contacts | {r['arrivals']} |
| offered | {r['offered']} |
| **assignments per second** (enqueue → offered, end to end) | **{r['throughput']}** |
| **offer latency enqueue → offered** p50 / **p95** / p99 (ms) | \
{r['enq_p50_ms']} / **{r['enq_p95_ms']}** / {r['enq_p99_ms']} |
| latency from the scheduled arrival p50 / p95 / p99 (ms, open loop, {opens}) | \
{r['p50_ms']} / {r['p95_ms']} / {r['p99_ms']} |
| producer call time p50 / p95 (ms) | {r['svc_p50_ms']} / {r['svc_p95_ms']} |

Routing capacity (queue first, then route): {r.get('drain_n', '-')} contacts entered through
the inbound path at {r.get('enqueue_per_s', '-')}/s with routing off, then one worker's passes
offered {r.get('drain_offered', '-')} of them at **{r.get('drain_per_s', '-')} assignments/s**
({r.get('drain_passes', '-')} passes).
"""


def write_results(r: dict[str, object], command: str) -> None:
    """Replace this arrival stream's section; keep the other's and the hand-written notes."""
    path = HERE / "results.md"
    old = path.read_text() if path.exists() else ""
    notes = old.split(MARKER, 1)[1] if MARKER in old else ""
    sections = {}
    for arrival in ("enqueue", "case"):
        begin, end = f"<!-- arrival:{arrival} -->", f"<!-- /arrival:{arrival} -->"
        if begin in old and end in old:
            sections[arrival] = old.split(begin, 1)[1].split(end, 1)[0].strip("\n")
    sections[str(r["arrival"])] = _section(r, command).strip("\n")
    body = "\n\n".join(f"<!-- arrival:{k} -->\n{sections[k]}\n<!-- /arrival:{k} -->"
                        for k in ("enqueue", "case") if k in sections)
    path.write_text(f"{HEADER}\n{body}\n\n{MARKER}{notes}")


if __name__ == "__main__":
    sys.exit(main())
