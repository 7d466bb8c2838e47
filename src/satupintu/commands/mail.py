"""``satupintu mailserver``: the SMTP/LMTP receiving endpoint for an MTA to deliver to."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from typing import Any

from django.utils.translation import gettext as _


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mailserver", help=_("Receive e-mail over SMTP or LMTP into cases"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--lmtp", action="store_true",
                        help=_("Speak LMTP (for delivery from Postfix or Dovecot)"))
    parser.add_argument("--threads", type=int, default=4,
                        help=_("Threads that store and process messages"))
    parser.add_argument("--reuse-port", action="store_true",
                        help=_("Let several mailserver processes share the port"))
    parser.set_defaults(func=run_mailserver)


def run_mailserver(args: argparse.Namespace) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from satupintu.mail.server import MailHandler, start

    threads = max(1, args.threads)
    handler = MailHandler(
        lmtp=args.lmtp,
        store_executor=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mail-store"),
        process_executor=ThreadPoolExecutor(max_workers=threads,
                                            thread_name_prefix="mail-process"))
    controller = start(args.host, args.port, lmtp=args.lmtp, handler=handler,
                       reuse_port=args.reuse_port)
    protocol = "LMTP" if args.lmtp else "SMTP"
    print(_("SatuPintu %(protocol)s endpoint listening on %(host)s:%(port)d (Ctrl+C stops it)")
          % {"protocol": protocol, "host": args.host, "port": args.port}, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    controller.stop()
    handler.wait_idle(timeout=30)
    return 0
