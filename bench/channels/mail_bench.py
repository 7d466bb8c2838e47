"""Sustained inbound e-mail over real SMTP into the case timeline, on PostgreSQL.

    python bench/channels/mail_bench.py [--seconds 20] [--concurrency 16] [--processes 2]

Uses a dedicated database (``BENCH_MAIL_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/satupintu_bench_channels``), dropped, created and
migrated by the script. Starts ``satupintu mailserver --reuse-port`` ``--processes`` times on
one port; ``--concurrency`` client threads keep SMTP connections (smtplib) busy for
``--seconds``. Each message comes from one of ``--customers`` senders; ``--reply-share`` of
them (default half) reply to the sender's previous message (``In-Reply-To``, threaded onto its
case), the others open a new case. ``--seed-customers`` first sends one message per sender.
The endpoint answers 250 once the raw message is committed and processes it afterwards, so
"visible in the case timeline" is measured from the moment the client starts sending a
message to the ``processed_at`` of its row (same clock, same machine). Writes its figures to
bench/channels/results.md between the ``<!-- mail -->`` markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/satupintu_bench_channels"
ADDRESS = "halo@bench-bank.example"
START, END = "<!-- mail -->", "<!-- /mail -->"


def _env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": url, "SECRET_KEY": "bench-mail-not-a-secret",
        "SATUPINTU_DATA_DIR": str(Path(tempfile.gettempdir()) / "satupintu-bench-mail"),
        "DJANGO_SETTINGS_MODULE": "satupintu.config.settings", "SATUPINTU_TESTING": "0",
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", ""),
    })
    return env


def prepare_database(url: str) -> None:
    """Drop, create and migrate the bench database; one client with one receiving address."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    script = f"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from satupintu.accounts.models import Client, ContactCenter, Site, Team
from satupintu.mail import services
center = ContactCenter.objects.create(name="Bench")
site = Site.objects.create(center=center, code="jkt", name="Jakarta")
client = Client.objects.create(center=center, code="bench", name="Bench Bank")
team = Team.objects.create(site=site, name="Bench team")
team.clients.set([client])
services.save_address(client, "{ADDRESS}", by=None, default_team=team)
"""
    subprocess.run([sys.executable, "-c", script], env=_env(url), check=True, cwd=ROOT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def message(n: int, customer: int, reply_to: str | None, run: str) -> tuple[str, bytes]:
    msg = EmailMessage()
    msg["From"] = f"Pelanggan {customer} <pelanggan{customer}@surel.example>"
    msg["To"] = ADDRESS
    msg["Subject"] = (f"Re: Pertanyaan {customer}" if reply_to
                      else f"Pertanyaan {customer} nomor {n}")
    message_id = f"bench.{run}.{n}@surel.example"
    msg["Message-ID"] = f"<{message_id}>"
    if reply_to:
        msg["In-Reply-To"] = f"<{reply_to}>"
    msg.set_content(f"Selamat siang, ini pesan nomor {n} dari pelanggan {customer}. "
                    "Mohon bantuannya untuk mengecek tagihan bulan ini.\n")
    return message_id, msg.as_bytes()


def drive(port: int, seconds: float, concurrency: int, customers: int, run: str,
          seed: int, *, reply_share: float = 0.5, last: dict[int, str] | None = None,
          each_once: bool = False,
          rate: float = 0.0) -> tuple[dict[str, float], list[float], int, float]:
    """Send for ``seconds`` (or, with ``each_once``, one new message per customer); returns
    {message_id: send start (epoch)}, SMTP round-trip ms, refusals and elapsed seconds.
    ``last`` (customer → their latest Message-ID) is updated as messages go out."""
    sent: dict[str, float] = {}
    rtts: list[float] = []
    refused = [0]
    lock = threading.Lock()
    counter = iter(range(10**9))
    last = last if last is not None else {}
    todo = iter(range(customers)) if each_once else None
    t0 = time.perf_counter()
    deadline = t0 + (1e9 if each_once else seconds)

    def worker(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=60)
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
                if todo is not None:
                    customer = next(todo, -1)
                    if customer < 0:
                        break
                else:
                    customer = rng.randrange(customers)
                previous = (last.get(customer) if todo is None and rng.random() < reply_share
                            else None)
            message_id, raw = message(n, customer, previous, run)
            if rate > 0:  # an open-loop offered load: message n leaves at t0 + n / rate
                delay = t0 + n / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            t_wall, t = time.time(), time.perf_counter()
            try:
                smtp.sendmail(f"pelanggan{customer}@surel.example", [ADDRESS], raw)
            except (smtplib.SMTPException, OSError):
                with lock:
                    refused[0] += 1
                smtp.close()
                smtp = smtplib.SMTP("127.0.0.1", port, timeout=60)
                continue
            with lock:
                rtts.append((time.perf_counter() - t) * 1000)
                sent[message_id] = t_wall
                last[customer] = message_id
        smtp.quit()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sent, rtts, refused[0], time.perf_counter() - started


def wait_processed(url: str, run: str, expected: int, timeout: float) -> dict[str, tuple]:
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            rows = conn.execute(
                "SELECT external_id, status, extract(epoch from processed_at), event_id "
                "FROM inbox_inboundmessage WHERE channel = 'email' AND external_id LIKE %s",
                [f"bench.{run}.%"]).fetchall()
            done = [r for r in rows if r[1] != "received" and r[1] != "failed"]
            if len(done) >= expected or time.monotonic() > deadline:
                return {r[0]: (r[1], float(r[2]) if r[2] is not None else None, r[3])
                        for r in rows}
            time.sleep(0.5)


def count_new_cases(url: str, since: float) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM cases_case WHERE created_at >= "
                           "to_timestamp(%s)", [since]).fetchone()
    return int(row[0]) if row else 0


def count_timeline(url: str, run: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM cases_caseevent e JOIN inbox_inboundmessage m "
            "ON m.event_id = e.id WHERE m.external_id LIKE %s AND e.kind = 'inbound'",
            [f"bench.{run}.%"]).fetchone()
    return int(row[0]) if row else 0


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))] if s else 0.0


def write_results(text: str, label: str = "") -> None:
    start, end = (f"<!-- mail {label} -->", f"<!-- /mail {label} -->") if label else (START, END)
    path = HERE / "results.md"
    current = path.read_text(encoding="utf-8") if path.exists() else (
        "# Channels benchmarks\n\n")
    section = f"{start}\n{text.rstrip()}\n{end}\n"
    if start in current and end in current:
        before, rest = current.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        current = before + section + ("\n" + after if after else "")
    else:
        current = current.rstrip("\n") + "\n\n" + section
    path.write_text(current, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--warmup", type=float, default=3)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--processes", type=int, default=2, help="mailserver processes")
    p.add_argument("--threads", type=int, default=4, help="threads per mailserver process")
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--reply-share", type=float, default=0.5,
                   help="share of messages that reply to the sender's previous one")
    p.add_argument("--seed-customers", action="store_true",
                   help="first send one message per customer (their cases exist before)")
    p.add_argument("--no-write", action="store_true", help="do not touch results.md")
    p.add_argument("--label", default="", help="a second results section (another mix)")
    p.add_argument("--rate", type=float, default=0.0,
                   help="offered messages/second (0: as fast as the endpoint accepts)")
    a = p.parse_args(argv)
    url = os.environ.get("BENCH_MAIL_DATABASE_URL", DEFAULT_URL)
    print(f"preparing {url}", flush=True)
    prepare_database(url)
    port = free_port()
    servers = [subprocess.Popen(
        [sys.executable, "-m", "satupintu.cli", "mailserver", "--host", "127.0.0.1",
         "--port", str(port), "--threads", str(a.threads), "--reuse-port"],
        env=_env(url), cwd=ROOT, stdout=subprocess.DEVNULL) for _ in range(a.processes)]
    run = f"{int(time.time())}"
    try:
        for _ in range(120):
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=2) as s:
                    s.noop()
                break
            except OSError:
                time.sleep(0.5)
        else:
            print("the mail server did not start", file=sys.stderr)
            return 1
        time.sleep(1.0 if a.processes > 1 else 0)  # let every process bind
        last: dict[int, str] = {}
        warm, *_rest = drive(port, a.warmup, a.concurrency, a.customers, f"w{run}", seed=1,
                             reply_share=a.reply_share, last=last,
                             each_once=a.seed_customers)
        wait_processed(url, f"w{run}", len(warm), timeout=600)
        sent, rtts, refused, elapsed = drive(port, a.seconds, a.concurrency, a.customers, run,
                                             seed=2, reply_share=a.reply_share, last=last,
                                             rate=a.rate)
        rows = wait_processed(url, run, len(sent), timeout=300)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=60)
    latencies = [(rows[m][1] - t) * 1000 for m, t in sent.items()
                 if m in rows and rows[m][1] is not None]
    statuses: dict[str, int] = {}
    for status, _at, _event in rows.values():
        statuses[status] = statuses.get(status, 0) + 1
    processed = statuses.get("processed", 0)
    first = min(sent.values()) if sent else 0.0
    last_done = max((r[1] for r in rows.values() if r[1] is not None), default=first)
    span = max(last_done - first, 1e-9)
    rate = processed / span
    accepted = len(sent) / elapsed if elapsed else 0.0
    visible = count_timeline(url, run)
    new_cases = count_new_cases(url, first)
    lost = len(sent) - len(rows)
    print(f"{len(sent)} e-mails accepted (250) in {elapsed:.1f} s = {accepted:.0f}/s; "
          f"{processed} in the timeline after {span:.1f} s = {rate:.0f}/s; visible p50 "
          f"{pct(latencies, 50):.0f} ms, p95 {pct(latencies, 95):.0f} ms, p99 "
          f"{pct(latencies, 99):.0f} ms; SMTP p95 {pct(rtts, 95):.0f} ms; statuses {statuses}; "
          f"refused {refused}; lost {lost}; timeline entries {visible}; new cases {new_cases}",
          flush=True)
    ok = lost == 0 and processed == len(sent) and visible == processed
    if not ok:
        print("MISMATCH: an accepted e-mail without its timeline entry", file=sys.stderr)
    if not a.no_write:
        load = os.getloadavg()
        write_results(f"""## E-mail over SMTP → case timeline{f" ({a.label})" if a.label else ""}

Command: `python bench/channels/mail_bench.py --seconds {a.seconds:g} --concurrency \
{a.concurrency} --processes {a.processes} --threads {a.threads} --customers {a.customers} \
--reply-share {a.reply_share:g}{" --seed-customers" if a.seed_customers else ""}\
{f" --rate {a.rate:g}" if a.rate else ""}{f" --label {a.label}" if a.label else ""}`

{a.concurrency} client threads (smtplib, one connection each) send for {a.seconds:g} s \
({f"offered at {a.rate:g}/s" if a.rate else "as fast as the endpoint accepts"}) to
`satupintu mailserver --reuse-port` ({a.processes} processes on one port, {a.threads} store
and {a.threads} processing threads each) on PostgreSQL. {a.customers} senders\
{" (each wrote once before the timed run, so their cases exist)" if a.seed_customers else ""};
{a.reply_share:.0%} of the messages reply to the sender's previous one when there is one
(threaded by In-Reply-To onto its case), the others open a new case. 250 is answered after the raw
message is committed; processing follows.
"Visible" is from the start of the client's send to the row's `processed_at` (the commit of
its case timeline entry). Measured {time.strftime('%Y-%m-%d %H:%M')} on {platform.node()}
({os.cpu_count()} CPUs visible, shared with the load generator and the database; load
average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}).

| measure | value |
| --- | --- |
| e-mails accepted (250) | {len(sent)} in {elapsed:.1f} s ({accepted:.0f}/s) |
| throughput to the timeline | **{rate:.0f} e-mails/s** (target ≥ 200/s on 2 cores) |
| visible in the timeline p50 / p95 / p99 | {pct(latencies, 50):.0f} / \
**{pct(latencies, 95):.0f}** / {pct(latencies, 99):.0f} ms |
| SMTP round trip (to 250) p50 / p95 | {pct(rtts, 50):.0f} / {pct(rtts, 95):.0f} ms |
| outcome of the accepted e-mails | {statuses} |
| new cases opened / threaded onto a case | {new_cases} / {processed - new_cases} |
| refused or failed sends | {refused} |
| accepted but lost | {lost} |
| timeline entries | {visible} (equal to processed: {"yes" if visible == processed else "NO"}) |
""", a.label)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
