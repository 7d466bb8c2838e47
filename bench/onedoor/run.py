"""Issue 5: server-side render time of the queue pages and the case page, and phone lookup
through the blind index, on the large PostgreSQL data set of ``generate.py``.

    python bench/onedoor/run.py [--n 200] [--lookups 1000]

Uses ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/satupintu_bench``); loads
the small default data set first when that database has no cases. Views are called
in-process with ``RequestFactory`` as ``bench_agent`` (all middleware skipped: this is the view,
its queries and its template). Writes ``bench/onedoor/results.md``; text below the
``<!-- notes -->`` marker of an existing results.md is kept.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate

HERE = Path(__file__).resolve().parent
MARKER = "<!-- notes -->"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--lookups", type=int, default=1000)
    p.add_argument("--explain", type=int, default=3, help="slowest queries to EXPLAIN per page")
    a = p.parse_args(argv)
    os.environ.setdefault("DATABASE_URL", generate.DEFAULT_URL)
    generate.ensure_database()
    generate.setup_django()
    from django.db import connection
    from django.db.utils import ProgrammingError

    try:
        with connection.cursor() as c:
            c.execute("SELECT count(*) FROM cases_case")
            empty = c.fetchone()[0] == 0
    except ProgrammingError:
        connection.close()
        empty = True
    if empty:
        print("satupintu_bench is empty: loading the default small data set", flush=True)
        generate.main([])

    from django.contrib.messages.storage import default_storage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from satupintu.accounts.models import Client, User
    from satupintu.cases import views
    from satupintu.customers.services import find_by_identity

    with connection.cursor() as c:
        c.execute("SELECT (SELECT count(*) FROM cases_case), (SELECT count(*) FROM "
                  "cases_caseevent), (SELECT count(*) FROM customers_customer), (SELECT count(*) "
                  "FROM customers_customeridentity), (SELECT count(*) FROM sla_casesla)")
        n_cases, n_events, n_cust, n_ident, n_sla = c.fetchone()
    agent = User.objects.get(username="bench_agent")
    agent_clients = sorted(agent.clients.values_list("id", flat=True))
    rf = RequestFactory()

    def request(path: str):
        req = rf.get(path)
        req.user = agent
        req.session = SessionStore()
        req._messages = default_storage(req)
        return req

    rng = random.Random(1)
    max_id = n_cases
    with connection.cursor() as c:
        c.execute("SELECT reference FROM cases_case WHERE id = ANY(%s) AND client_id = ANY(%s)",
                  [[rng.randint(1, max_id) for _ in range(a.n * 2)], agent_clients])
        refs = [r[0] for r in c.fetchall()][:a.n]
    pages = {
        "My cases (/cases/mine/)": (views.my_cases, lambda i: "/cases/mine/"),
        "Team queue (/cases/)": (views.team_queue, lambda i: "/cases/"),
        "Case page (/cases/<ref>/)": (views.case_detail, lambda i: refs[i % len(refs)]),
    }
    rows, explains = [], []
    for name, (view, arg) in pages.items():
        def call(i: int, view=view, arg=arg):
            if view is views.case_detail:
                return view(request(f"/cases/{arg(i)}/"), reference=arg(i))
            return view(request(arg(i)))

        for i in range(10):  # warm-up
            assert call(i).status_code == 200
        times = []
        for i in range(a.n):
            t = time.perf_counter()
            resp = call(i)
            times.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200, resp.status_code
        with CaptureQueriesContext(connection) as ctx:
            call(0)
        queries = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))
        rows.append((name, a.n, times, len(ctx.captured_queries)))
        for q in queries[:a.explain]:
            with connection.cursor() as c:
                c.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                plan = "\n".join(r[0] for r in c.fetchall())
            explains.append((name, float(q["time"]) * 1000, q["sql"], plan))
        print(f"{name:28} p50 {pct(times, 50):7.1f}  p95 {pct(times, 95):7.1f}  "
              f"p99 {pct(times, 99):7.1f} ms  ({len(ctx.captured_queries)} queries)", flush=True)

    # Phone lookup through the blind index, written the way agents type it (0812...).
    clients = list(Client.objects.filter(code__startswith="bench").order_by("id"))
    times = []
    found = 0
    for k in range(a.lookups + 20):
        i = rng.randrange(n_cust)
        client = clients[[0, 0, 0, 0, 0, 0, 1, 1, 1, 2][i % 10]]
        raw = "0" + generate.phone(i)[3:]
        t = time.perf_counter()
        customer = find_by_identity(client, "phone", raw)
        if k >= 20:
            times.append((time.perf_counter() - t) * 1000)
            found += customer is not None and customer.pk == i + 1
    rows.append(("find_by_identity (phone)", a.lookups, times, 1))
    print(f"{'find_by_identity (phone)':28} p50 {pct(times, 50):7.2f}  p95 {pct(times, 95):7.2f}"
          f"  p99 {pct(times, 99):7.2f} ms  (found {found}/{a.lookups})", flush=True)
    bi = connection.cursor()
    bi.execute("EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM customers_customeridentity i JOIN "
               "customers_customer c ON c.id = i.customer_id WHERE i.client_id = %s AND "
               "i.kind = 'phone' AND i.blind_index = %s ORDER BY i.kind, i.id LIMIT 1",
               [clients[0].pk, "0" * 64])
    explains.append(("find_by_identity (phone)", 0.0, "(equivalent of the ORM query)",
                     "\n".join(r[0] for r in bi.fetchall())))

    write_results(a, rows, explains, (n_cases, n_events, n_cust, n_ident, n_sla), found)
    return 0


def write_results(a, rows, explains, sizes, found) -> None:
    from django.db import connection

    n_cases, n_events, n_cust, n_ident, n_sla = sizes
    with connection.cursor() as c:
        c.execute("SHOW server_version")
        psql = f"PostgreSQL {c.fetchone()[0]}"
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    out = [
        "# onedoor: queue page, case page and phone lookup at scale (issue 5)", "",
        f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"Django in-process against local {psql or 'PostgreSQL'} (`{os.environ['DATABASE_URL']}`).",
        f"Data: {n_cases:,} cases, {n_events:,} case events, {n_cust:,} customers, {n_ident:,} "
        f"phone identities, {n_sla:,} CaseSla rows.", "",
        "Times are server-side, view + queries + template, in milliseconds "
        "(RequestFactory, logged in as `bench_agent`, whose two clients hold 90% of the cases; "
        "middleware not included).", "",
        "| what | N | p50 ms | p95 ms | p99 ms | queries | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, n, times, nq in rows:
        target = 10 if name.startswith("find") else 100
        ok = "met" if pct(times, 95) < target else "**missed**"
        out.append(f"| {name} | {n} | {pct(times, 50):.1f} | {pct(times, 95):.1f} | "
                   f"{pct(times, 99):.1f} | {nq} | p95 < {target} ms: {ok} |")
    out += ["", f"Phone lookups that found the right customer: {found}/{a.lookups}.", "",
            "## Slowest queries, EXPLAIN (ANALYZE, BUFFERS)", ""]
    for name, ms, sql, plan in explains:
        out += [f"### {name}: {ms:.1f} ms", "", "```sql", sql[:1500], "```", "", "```", plan,
                "```", ""]
    path = HERE / "results.md"
    notes = ""
    if path.exists() and MARKER in path.read_text():
        notes = path.read_text().split(MARKER, 1)[1]
    path.write_text("\n".join(out) + "\n" + MARKER + notes)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
