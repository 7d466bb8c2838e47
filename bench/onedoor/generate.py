"""Load a large synthetic contact center into PostgreSQL with COPY, for bench/onedoor/run.py.

    python bench/onedoor/generate.py --cases 1000000 --events 5000000 --customers 300000

Writes into the database named by ``DATABASE_URL`` (default: the dedicated
``postgres://postgres@127.0.0.1:5432/satupintu_bench``, created if missing), migrates it, empties
the bench tables and loads: 3 clients, one team, 20 agents (``bench_agent`` first), customers
with a Fernet-encrypted name and phone identity whose blind index comes from
``satupintu.customers.crypto`` (so ``find_by_identity`` finds them), cases, case events
(inbound / outbound / notes) and a CaseSla row for every active case.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/satupintu_bench"
AGENTS = 20
CLIENT_SHARE = (0.6, 0.3, 0.1)  # bench_agent serves the first two clients: 90% of cases
T0 = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_MIN = 2 * 365 * 24 * 60  # two years of cases


def setup_django() -> None:
    """Same environment for generate.py and run.py: the keys must agree."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("SECRET_KEY", "bench-onedoor-not-a-secret")
    os.environ.setdefault("SATUPINTU_DATA_DIR",
                          str(Path(tempfile.gettempdir()) / "satupintu-onedoor"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "satupintu.config.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def phone(i: int) -> str:
    return f"+62812{10000000 + i:08d}"


def _customer_rows(args: tuple[int, int, list[int]]) -> tuple[str, str]:
    """Encrypt one chunk of customers (runs in a worker process)."""
    start, stop, clients = args
    setup_django()
    from satupintu.customers.crypto import blind_index, encrypt

    ts = T0.isoformat()
    cust, ident = [], []
    for i in range(start, stop):
        cid = i + 1
        client = customer_client(i, clients)
        cust.append(f"{cid}\tperson\t{encrypt(f'Pelanggan {i}')}\t\t\t\tid\t{ts}\t{ts}\t{client}\n")
        ident.append(f"{cid}\tphone\t{encrypt(phone(i))}\t{blind_index('phone', phone(i))}\t"
                     f"t\t{ts}\t{client}\t{cid}\n")
    return "".join(cust), "".join(ident)


def customer_client(i: int, clients: list[int]) -> int:
    return clients[0 if i % 10 < 6 else (1 if i % 10 < 9 else 2)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=20000)
    p.add_argument("--events", type=int, default=100000)
    p.add_argument("--customers", type=int, default=6000)
    p.add_argument("--seed", type=int, default=5)
    a = p.parse_args(argv)
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    ensure_database()
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    t_all = time.perf_counter()
    call_command("migrate", verbosity=0)
    rng = random.Random(a.seed)
    from satupintu.accounts.models import Client, ContactCenter, Site, Team, User

    with connection.cursor() as c:
        c.execute("TRUNCATE cases_caseevent, sla_casesla, cases_case_tags, cases_caselink, "
                  "cases_case, customers_customeridentity, customers_customer, "
                  "accounts_user_clients, accounts_user, accounts_team_clients, accounts_team, "
                  "accounts_client, accounts_site, accounts_contactcenter RESTART IDENTITY CASCADE")
    center = ContactCenter.objects.create(name="Bench center")
    site = Site.objects.create(center=center, code="bench", name="Bench site")
    clients = [Client.objects.create(center=center, code=f"bench{k}", name=f"Bench client {k}")
               for k in range(3)]
    team = Team.objects.create(site=site, name="Bench team")
    team.clients.set(clients[:2])
    agents = []
    for k in range(AGENTS):
        u = User.objects.create_user(username="bench_agent" if k == 0 else f"bench_agent{k}",
                                     password="bench-pass-123",  # noqa: S106 role="agent", team=team,
                                     site=site, full_name=f"Agent {k}")
        u.clients.set(clients[:2])
        agents.append(u.pk)
    cids = [c.pk for c in clients]
    raw = connection.connection  # psycopg 3
    timings = {}

    # Customers and their phone identities, encrypted in two worker processes.
    t = time.perf_counter()
    step = 5000
    chunks = [(s, min(s + step, a.customers), cids) for s in range(0, a.customers, step)]
    with raw.cursor() as cur, Pool(2) as pool:
        for cust, ident in pool.imap(_customer_rows, chunks):
            with cur.copy("COPY customers_customer (id, kind, name, nik, nik_index, address, "
                          "language, created_at, updated_at, client_id) FROM STDIN") as cp:
                cp.write(cust)
            with cur.copy("COPY customers_customeridentity (customer_id, kind, value, "
                          "blind_index, verified, created_at, client_id, id) FROM STDIN") as cp:
                cp.write(ident)
    raw.commit()
    timings["customers+identities"] = time.perf_counter() - t

    # Cases, their events and the SLA row of active ones.
    t = time.perf_counter()
    active = ["new", "open", "pending_customer", "pending_internal"]
    prios = ["low", "normal", "normal", "normal", "high", "urgent"]
    chans = ["email", "phone", "whatsapp", "chat", "web"]
    kinds = ["inbound", "outbound", "note", "inbound", "outbound"]
    mean = a.events / max(a.cases, 1)
    hi = max(1, round(2 * mean - 1))
    n_events = 0
    batch = 20000
    with raw.cursor() as cur:
        for s in range(0, a.cases, batch):
            cases, events, slas = [], [], []
            for i in range(s, min(s + batch, a.cases)):
                case_id = i + 1
                cust = rng.randrange(a.customers)
                client = customer_client(cust, cids)
                created = T0 + timedelta(minutes=SPAN_MIN * i / a.cases)
                r = rng.random()
                status = ("closed" if r < 0.75 else "resolved" if r < 0.8
                          else active[int((r - 0.8) * 20) % 4])
                assignee = agents[rng.randrange(AGENTS)] if status != "new" else "\\N"
                team_id = team.pk if (client != cids[2] and rng.random() < 0.7) else "\\N"
                n = rng.randint(1, hi) if mean >= 1 else int(rng.random() < mean)
                last = created
                for k in range(n):
                    last = created + timedelta(minutes=7 * k + 1)
                    kind = kinds[(k + rng.randrange(2)) % 5] if k else "inbound"
                    actor = assignee if kind != "inbound" else "\\N"
                    events.append(f"{case_id}\t{kind}\temail\tBench message {k} of case "
                                  f"{case_id}: lorem ipsum dolor sit amet\t{{}}\t"
                                  f"{last.isoformat()}\t{actor}\n")
                n_events += n
                ch = chans[i % 5]
                pr = prios[rng.randrange(6)]
                res = last.isoformat() if status in ("resolved", "closed") else "\\N"
                clo = last.isoformat() if status == "closed" else "\\N"
                cases.append(f"{case_id}\tB{case_id:010d}\tBench subject {case_id}\t{status}\t"
                             f"{pr}\t{ch}\t1\t{created.isoformat()}\t{last.isoformat()}\t{res}\t"
                             f"{clo}\t{assignee}\t{client}\t{cust + 1}\t{team_id}\n")
                if status in active:
                    due = (created + timedelta(hours=8)).isoformat()
                    slas.append(f"{case_id}\t{due}\t\\N\t{due}\t{due}\t[]\t[]\tf\tf\t\t\t\t"
                                f"{created.isoformat()}\n")
            with cur.copy("COPY cases_case (id, reference, subject, status, priority, channel, "
                          "version, created_at, updated_at, resolved_at, closed_at, assignee_id, "
                          "client_id, customer_id, team_id) FROM STDIN") as cp:
                cp.write("".join(cases))
            with cur.copy("COPY cases_caseevent (case_id, kind, channel, body, data, "
                          "created_at, actor_id) FROM STDIN") as cp:
                cp.write("".join(events))
            with cur.copy("COPY sla_casesla (case_id, first_response_due, next_response_due, "
                          "resolution_due, next_due, warned_keys, breached_keys, warned, "
                          "breached, first_response_state, next_response_state, resolution_state, "
                          "computed_at) FROM STDIN "
                          "WITH (FORMAT text)") as cp:
                cp.write("".join(slas))
            raw.commit()
            print(f"  cases {min(s + batch, a.cases):>9,} / {a.cases:,}  events {n_events:,}  "
                  f"{time.perf_counter() - t:.0f}s", flush=True)
    timings["cases+events+sla"] = time.perf_counter() - t
    t = time.perf_counter()
    with raw.cursor() as cur:
        for table in ("customers_customer", "customers_customeridentity", "cases_case",
                      "cases_caseevent"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT coalesce(max(id), 1) FROM {table}))")
    raw.commit()
    raw.autocommit = True
    with raw.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    timings["vacuum analyze"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t_all
    print(f"loaded {a.customers:,} customers, {a.cases:,} cases, {n_events:,} events; "
          + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
