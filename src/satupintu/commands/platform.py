"""Platform commands: serve, demo, migrate, check, audit verify, manage."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from django.core.management import call_command, execute_from_command_line
from django.utils.translation import gettext as _


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help=_("Serve SatuPintu (HTTP and WebSockets)"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=run_serve)

    demo = subparsers.add_parser("demo", help=_("Create the database and load the demo data"))
    demo.add_argument("--serve", action="store_true", help=_("Serve afterwards"))
    demo.add_argument("--reset", action="store_true",
                      help=_("Delete the demo database first and build it again"))
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-worker", action="store_true",
                      help=_("Do not run background jobs in this process"))
    demo.set_defaults(func=run_demo)

    serve.add_argument("--no-worker", action="store_true",
                       help=_("Do not run background jobs in this process"))
    for command in (serve, demo):
        command.add_argument("--smtp-port", type=int, default=0,
                             help=_("Also receive e-mail over SMTP on this port (0: off)"))
    worker = subparsers.add_parser("worker", help=_("Run the background jobs (task queue)"))
    worker.add_argument("--workers", type=int, default=2)
    worker.set_defaults(func=run_worker)

    migrate = subparsers.add_parser("migrate", help=_("Bring the database schema up to date"))
    migrate.set_defaults(func=run_migrate)

    check = subparsers.add_parser("check", help=_("Check the configuration"))
    check.add_argument("--deploy", action="store_true", help=_("Also run the deployment checks"))
    check.set_defaults(func=run_check)

    audit = subparsers.add_parser("audit", help=_("Audit trail tools"))
    audit_sub = audit.add_subparsers(dest="audit_command")
    verify = audit_sub.add_parser("verify", help=_("Verify the audit hash chain"))
    verify.set_defaults(func=run_audit_verify)

    manage = subparsers.add_parser("manage", help=_("Run a Django management command"))
    manage.add_argument("args", nargs=argparse.REMAINDER)
    manage.set_defaults(func=run_manage)


def _prepare() -> None:
    from django.conf import settings

    from satupintu.i18n import compile_messages

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    compile_messages()


def run_migrate(args: argparse.Namespace) -> int:
    _prepare()
    call_command("migrate", interactive=False, verbosity=0)
    print(_("The database is up to date."))
    return 0


def run_check(args: argparse.Namespace) -> int:
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=args.deploy, fail_level="WARNING")
    except SystemCheckError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def _embedded_worker() -> object:
    """The embedded default: background jobs in threads of the web process (DESIGN.md)."""
    from huey.contrib.djhuey import HUEY

    consumer = HUEY.create_consumer(workers=1, worker_type="thread", periodic=True)
    consumer.start()
    return consumer


def run_worker(args: argparse.Namespace) -> int:
    from huey.contrib.djhuey import HUEY

    _prepare()
    if args.workers < 1:
        print(_("--workers must be at least 1."), file=sys.stderr)
        return 2
    print(_("SatuPintu worker: %(n)d thread(s), periodic jobs on") % {"n": args.workers},
          flush=True)
    HUEY.create_consumer(workers=args.workers, worker_type="thread", periodic=True).run()
    return 0


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    _prepare()
    if not getattr(args, "no_worker", False):
        _embedded_worker()
    if getattr(args, "smtp_port", 0):
        from satupintu.mail.server import start as start_smtp

        start_smtp(args.host, args.smtp_port)
        from satupintu.mail.models import MailAddress

        addresses = ", ".join(MailAddress.objects.filter(is_active=True)
                              .values_list("address", flat=True)[:5])
        print(_("E-mail (SMTP) is received at %(host)s:%(port)d for: %(addresses)s") % {
            "host": args.host, "port": args.smtp_port, "addresses": addresses or "-"},
            flush=True)
    print(_("SatuPintu is running at http://%(host)s:%(port)d/ (Ctrl+C stops it)")
          % {"host": args.host, "port": args.port}, flush=True)
    uvicorn.run("satupintu.config.asgi:application", host=args.host, port=args.port,
                log_level="warning", lifespan="off")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from django.conf import settings

    from satupintu.demo import DEMO_PASSWORD, build, demo_logins, is_loaded

    _prepare()
    if args.reset:
        from django.db import connection

        if connection.vendor != "sqlite":
            print(_("--reset only works on the embedded SQLite database."), file=sys.stderr)
            return 2
        connection.close()
        db_path = settings.DATABASES["default"]["NAME"]
        for suffix in ("", "-wal", "-shm"):
            target = f"{db_path}{suffix}"
            import os

            if os.path.exists(target):
                os.remove(target)
    call_command("migrate", interactive=False, verbosity=0)
    if is_loaded():
        print(_("Demo data already loaded; reusing it."))
    else:
        print(_("Loading demo data…"), flush=True)
        build()
    url = f"http://{args.host}:{args.port}/"
    print()
    print(_("SatuPintu: %(url)s") % {"url": url})
    print(_("Demo log-ins (password for all: %(password)s):") % {"password": DEMO_PASSWORD})
    for role, username, note in demo_logins():
        print(f"  {role:<22} {username:<16} {note}")
    print(_("Supervisors and above set up two-factor authentication at their first log-in."))
    from satupintu.demo.portal import public_urls
    from satupintu.demo.webchat import start_message

    print(_("Public contact forms and case status: %(urls)s")
          % {"urls": ", ".join(public_urls(url))})
    print(start_message(url))
    print(_("Simulated WhatsApp customer (administrator): %(url)swhatsapp/sandbox/")
          % {"url": url})
    print(_("Live wallboard (supervisor): %(url)swallboard/") % {"url": url})
    print(flush=True)
    if args.serve:
        return run_serve(args)
    return 0


def run_audit_verify(args: argparse.Namespace) -> int:
    from satupintu.audit.services import verify_chain

    checked, problems = verify_chain()
    if problems:
        first = problems[0]
        where = (_("at entry %(id)d") % {"id": first.entry_id}) if first.entry_id else _(
            "at the head of the chain (entries removed from the end?)")
        print(_("TAMPERED: the audit chain is broken %(where)s; %(n)d problem(s) in %(checked)d "
                "entries.") % {"where": where, "n": len(problems), "checked": checked},
              file=sys.stderr)
        return 1
    print(_("OK: %(checked)d audit entries, chain intact.") % {"checked": checked})
    return 0


def run_manage(args: argparse.Namespace) -> int:
    execute_from_command_line(["satupintu manage", *args.args])
    return 0
