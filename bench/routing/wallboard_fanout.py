"""Issue 7: wallboard update fan-out to connected browsers.

    python bench/routing/wallboard_fanout.py [--clients 200] [--rate 2] [--seconds 30]
                                             [--servers 1] [--no-redis] [--history 2000]

Starts ``--servers`` daphne processes (the real ASGI application) on a fresh database
(SQLite in a temporary directory, or the PostgreSQL database named by
``BENCH_FANOUT_DATABASE_URL``, dropped and created afresh), with the Redis channel layer
when Redis answers at ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/13``, its own
database number so other runs do not cross-talk) and the in-memory layer with one server
otherwise. It seeds one client with ``--agents`` agents, four queues and ``--history``
contacts earlier in the day (so every frame is a real day's computation), then opens
``--clients`` WebSocket connections as a supervisor (a verified session each) and has the
agents change presence through the real API (``PUT /api/v1/routing/presence``) at ``--rate``
per second. For every change it measures, per connection, the time from sending the write
to receiving the first frame that shows the agent's new state: p50 / p95 / max, and the
updates delivered per second. The wallboard throttles its frames to one per 300 ms per
connection (the first change of a burst goes out at once).

Appends its figures to ``bench/routing/results.md`` (replacing its own earlier section).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results.md"
sys.path.insert(0, str(ROOT / "src"))


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))] if s else float("nan")


def redis_reachable(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup_django(data_dir: Path, redis_url: str | None) -> None:
    os.environ["SATUPINTU_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "satupintu.config.settings"
    # Its own fresh database, never the caller's (run.py hands down its routing bench DB).
    url = os.environ.get("BENCH_FANOUT_DATABASE_URL") or f"sqlite:///{data_dir / 'fanout.sqlite3'}"
    if url.startswith("postgres"):
        fresh_postgres(url)
    os.environ["DATABASE_URL"] = url
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fresh_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def seed(n_agents: int, n_sessions: int, history: int) -> dict[str, Any]:
    """One client, its team, agents with API tokens, a supervisor with verified sessions and a
    day of routing history."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils import timezone
    from django.utils.module_loading import import_string
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from satupintu.accounts.models import Client, ContactCenter, Site, Team, User
    from satupintu.accounts.services import tokens
    from satupintu.cases import services as cases
    from satupintu.customers import services as customers
    from satupintu.routing.models import (
        Queue,
        ReasonCode,
        RoutingEvent,
        WorkItem,
        WorkStatus,
    )
    from satupintu.routing.services import presence, rules

    center = ContactCenter.objects.create(name="Fan-out")
    site = Site.objects.create(center=center, code="fan", name="Fan-out site")
    client = Client.objects.create(center=center, code="fanout", name="Fan-out Bank")
    team = Team.objects.create(site=site, name="Fan-out team")
    team.clients.set([client])
    ReasonCode.objects.get_or_create(client=None, code="break", defaults={
        "name_id": "Istirahat", "name_en": "Break", "max_minutes": 15})
    sup = User.objects.create_user(username="fan_sup", password="x" * 20, role="supervisor",
                                   site=site, language="en")
    sup.clients.set([client])
    queues = [Queue.objects.create(client=client, code=f"q{i}", name_id=f"Antrean {i}",
                                   name_en=f"Queue {i}", channel="chat", is_default=i == 0)
              for i in range(4)]
    agents = []
    for i in range(n_agents):
        u = User.objects.create_user(username=f"fan_agent{i:03d}", password="x" * 20,
                                     role="agent", team=team, site=site, language="en")
        u.clients.set([client])
        _, secret = tokens.create(u, "bench")
        presence.set_state(u, "ready")
        agents.append({"username": u.username, "token": secret, "state": "ready"})
    # a day of history: contacts entered, answered (or abandoned) and done since midnight
    version = rules.current_rules(client)
    customer = customers.create_customer(client, "Dewi Lestari", by=sup)
    case = cases.create_case(client, customer, "Kartu", by=sup)
    now = timezone.now()
    start = now.astimezone(timezone.get_current_timezone()).replace(hour=0, minute=0,
                                                                    second=0, microsecond=0)
    span = max(60.0, (now - start).total_seconds() - 60)
    agent_users = list(User.objects.filter(team=team))
    rng = random.Random(7)
    items, events = [], []
    for _ in range(history):
        enq = start + timedelta(seconds=rng.uniform(0, span))
        abandoned = rng.random() < 0.08
        wait = timedelta(seconds=rng.expovariate(1 / 25))
        agent = None if abandoned else rng.choice(agent_users)
        talk = timedelta(seconds=rng.uniform(60, 400))
        acw = timedelta(seconds=rng.uniform(5, 90))
        end = enq + wait if abandoned else enq + wait + talk + acw
        items.append(WorkItem(case=case, queue=rng.choice(queues), client=client, channel="chat",
                              rules=version, agent=agent,
                              status=WorkStatus.ABANDONED if abandoned else WorkStatus.DONE,
                              enqueued_at=enq, place_at=enq, accepted_at=None if abandoned
                              else enq + wait, ended_at=min(end, now)))
    WorkItem.objects.bulk_create(items)
    for item in WorkItem.objects.filter(client=client).order_by("pk"):
        q, enq = item.queue_id, item.enqueued_at
        events.append(RoutingEvent(item=item, queue_id=q, kind="enqueued", at=enq))
        if item.status == WorkStatus.ABANDONED:
            events.append(RoutingEvent(item=item, queue_id=q, kind="abandoned",
                                       at=item.ended_at))
            continue
        events += [RoutingEvent(item=item, queue_id=q, kind="accepted", agent_id=item.agent_id,
                                at=item.accepted_at),
                   RoutingEvent(item=item, queue_id=q, kind="done", agent_id=item.agent_id,
                                at=item.ended_at)]
    RoutingEvent.objects.bulk_create(events, batch_size=500)
    device = TOTPDevice.objects.create(user=sup, name="bench", confirmed=True)
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")
    sessions = []
    for _ in range(n_sessions):
        s = store()
        s[SESSION_KEY] = str(sup.pk)
        s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = sup.get_session_auth_hash()
        s[DEVICE_ID_SESSION_KEY] = device.persistent_id
        s.create()
        sessions.append(s.session_key)
    from django.db import connections

    connections.close_all()
    return {"agents": agents, "sessions": sessions, "cookie": settings.SESSION_COOKIE_NAME,
            "events": len(events)}


def compute_time() -> float:
    """Median time of one computation of the client's day (what each burst costs a server)."""
    from django.db import connections

    from satupintu.accounts.models import Client
    from satupintu.wallboard import kpis

    client = Client.objects.get(code="fanout")
    times = []
    for _ in range(5):
        t = time.perf_counter()
        kpis.day_figures(client)
        times.append(time.perf_counter() - t)
    connections.close_all()
    return pct(times, 50) * 1000


def start_servers(n: int, log_dir: Path) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    procs, ports = [], []
    daphne = shutil.which("daphne", path=str(Path(sys.executable).parent)) or "daphne"
    for _ in range(n):
        port = free_port()
        procs.append(subprocess.Popen(
            [daphne, "-b", "127.0.0.1", "-p", str(port), "--websocket_connect_timeout", "60",
             "satupintu.config.asgi:application"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            stdout=subprocess.DEVNULL,
            stderr=(log_dir / f"daphne-{port}.log").open("wb")))
        ports.append(port)
    deadline = time.monotonic() + 60
    for port, proc in zip(ports, procs, strict=True):
        while True:
            if proc.poll() is not None:
                log = (log_dir / f"daphne-{port}.log").read_text()[-2000:]
                raise SystemExit(f"daphne exited: {log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status < 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("daphne did not start")
            time.sleep(0.2)
    return procs, ports


def put_presence(port: int, token: str, state: str) -> int:
    body = {"state": state, "reason": "break"} if state == "not_ready" else {"state": state}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("PUT", "/api/v1/routing/presence", body=json.dumps(body),
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.status


async def run(args: argparse.Namespace, data: dict[str, Any], ports: list[int]) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    agents = data["agents"]
    # the pending change per agent: (expected state, sent at, trigger no.)
    pending: dict[str, tuple[str, float, int]] = {}
    latencies: list[float] = []
    seen: set[tuple[int, int]] = set()  # (connection, trigger) delivered
    frames = 0
    connected = asyncio.Event()
    ready_count = 0

    async def browser(i: int, session_key: str) -> None:
        nonlocal frames, ready_count
        port = ports[i % len(ports)]
        headers = [("Cookie", f"{data['cookie']}={session_key}")]
        async with connect(f"ws://127.0.0.1:{port}/ws/wallboard/", additional_headers=headers,
                           origin=f"http://127.0.0.1:{port}", max_size=None,  # type: ignore[arg-type]
                           open_timeout=60, ping_interval=None, compression=None) as ws:
            first = True
            async for raw in ws:
                received = time.perf_counter()
                frame = json.loads(raw)
                if frame.get("type") != "figures":
                    continue
                frames += 1
                if first:
                    first = False
                    ready_count += 1
                    if ready_count == len(data["sessions"]):
                        connected.set()
                if not pending:
                    continue
                states = {a["username"]: a["state"] for t in frame["teams"] for a in t["agents"]}
                for username, (state, sent, no) in list(pending.items()):
                    if states.get(username) == state and (i, no) not in seen and received > sent:
                        seen.add((i, no))
                        latencies.append(received - sent)

    tasks: list[asyncio.Task[None]] = []
    try:
        # browsers open the page over a few seconds, not in the same millisecond
        for i, key in enumerate(data["sessions"]):
            tasks.append(asyncio.create_task(browser(i, key)))
            if len(tasks) % args.ramp == 0:
                deadline = time.monotonic() + 60
                while ready_count < len(tasks) and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
        await asyncio.wait_for(connected.wait(), timeout=120)
    except TimeoutError:
        failed = [t.exception() for t in tasks if t.done() and not t.cancelled()]
        raise SystemExit(f"only {ready_count} of {len(tasks)} connections got figures; "
                         f"{len(failed)} failed, e.g. {failed[:1]!r}") from None
    await asyncio.sleep(6)  # let the first periodic refreshes pass
    frames_before = frames
    n_triggers = int(args.rate * args.seconds)
    began = time.perf_counter()
    statuses: list[int] = []
    for k in range(n_triggers):
        await asyncio.sleep(max(0.0, began + k / args.rate - time.perf_counter()))
        agent = agents[k % len(agents)]
        new = "not_ready" if agent["state"] == "ready" else "ready"
        agent["state"] = new
        pending[agent["username"]] = (new, time.perf_counter(), k)
        statuses.append(await asyncio.to_thread(put_presence, ports[0], agent["token"], new))
    last_sent = time.perf_counter()
    expected = n_triggers * len(tasks)
    while len(seen) < expected and time.perf_counter() - last_sent < 10:
        await asyncio.sleep(0.1)
    finished = time.perf_counter()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "triggers": n_triggers, "expected": expected, "delivered": len(seen),
        "p50": pct(latencies, 50), "p95": pct(latencies, 95),
        "max": max(latencies) if latencies else float("nan"),
        "updates_per_s": len(seen) / (finished - began),
        "frames_per_s": (frames - frames_before) / (finished - began),
        "http_errors": sum(1 for s in statuses if s >= 400),
    }


def write_results(text: str, key: str) -> None:
    """Replace this configuration's own section (one per layer and server count)."""
    begin, end = f"<!-- wallboard-fanout:{key}:begin -->", f"<!-- wallboard-fanout:{key}:end -->"
    old = RESULTS.read_text() if RESULTS.exists() else "# Routing benchmarks\n"
    if "<!-- notes -->" not in old:  # run.py rewrites what is above this marker
        old = old.rstrip() + "\n\n<!-- notes -->\n"
    if begin in old and end in old:
        old = old[:old.index(begin)].rstrip() + "\n" + old[old.index(end) + len(end):].lstrip()
    RESULTS.write_text(old.rstrip() + "\n\n" + begin + "\n" + text.rstrip() + "\n" + end + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--agents", type=int, default=50)
    p.add_argument("--rate", type=float, default=2.0, help="presence changes per second")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--servers", type=int, default=1)
    p.add_argument("--history", type=int, default=2000, help="contacts earlier today")
    p.add_argument("--ramp", type=int, default=20, help="connections opened at a time")
    p.add_argument("--no-redis", action="store_true")
    p.add_argument("--no-write", action="store_true", help="print only; leave results.md")
    a = p.parse_args(argv)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    use_redis = not a.no_redis and redis_reachable(redis_url)
    if not use_redis and a.servers > 1:
        print("no Redis: one server process (the in-memory layer is per process)")
        a.servers = 1
    data_dir = Path(tempfile.mkdtemp(prefix="sp-fanout-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if use_redis:
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        setup_django(data_dir, redis_url if use_redis else None)
        data = seed(a.agents, a.clients, a.history)
        data["compute_ms"] = compute_time()
        procs, ports = start_servers(a.servers, data_dir)
        r = asyncio.run(run(a, data, ports))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    from django.db import connection

    layer = "Redis (channels_redis)" if use_redis else "in-memory"
    command = "python bench/routing/wallboard_fanout.py " + " ".join(argv or sys.argv[1:])
    if os.environ.get("BENCH_FANOUT_DATABASE_URL"):
        command = f"BENCH_FANOUT_DATABASE_URL={os.environ['BENCH_FANOUT_DATABASE_URL']} {command}"
    load = os.getloadavg()[0]
    text = f"""## Wallboard fan-out (issue 7): {layer} layer, {a.servers} server process(es)

`{command.strip()}` — {platform.machine()}, {os.cpu_count()} CPUs (shared), Python
{platform.python_version()}, {connection.vendor} database, {layer} channel layer, {a.servers}
daphne process(es); load average {load:.1f} at the end (the machine is shared).

{a.clients} supervisor WebSocket connections on `/ws/wallboard/`; {a.agents} agents change
presence through `PUT /api/v1/routing/presence` at {a.rate:g}/s for {a.seconds:g} s
({r['triggers']} writes, {r['http_errors']} HTTP errors) on a day with {a.history} earlier
contacts ({data['events']} routing events). Latency = from sending the write to a connection
receiving the first frame that shows the agent's new state (frames throttled to one per
300 ms per connection).

| measure | value |
| --- | --- |
| updates expected (writes × connections) | {r['expected']} |
| updates delivered | {r['delivered']} |
| latency p50 | {r['p50'] * 1000:.0f} ms |
| latency p95 | {r['p95'] * 1000:.0f} ms |
| latency max | {r['max'] * 1000:.0f} ms |
| updates delivered per second | {r['updates_per_s']:.0f} |
| one computation of the day's figures (median of 5, in-process) | {data['compute_ms']:.0f} ms |
| frames sent per second (incl. 5 s refreshes) | {r['frames_per_s']:.0f} |
"""
    print(text)
    if not a.no_write:
        write_results(text, f"{'redis' if use_redis else 'memory'}-{a.servers}")
    return 0 if r["delivered"] == r["expected"] and not r["http_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
