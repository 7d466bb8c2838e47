"""``satupintu mailserver`` is wired into the CLI, and serve/demo take --smtp-port."""

from __future__ import annotations

from satupintu.cli import build_parser


def test_mailserver_command_parses() -> None:
    args = build_parser().parse_args(["mailserver", "--host", "10.0.0.5", "--port", "2424",
                                      "--lmtp", "--threads", "2", "--reuse-port"])
    assert (args.host, args.port, args.lmtp, args.threads, args.reuse_port) == (
        "10.0.0.5", 2424, True, 2, True)
    assert args.func.__name__ == "run_mailserver"


def test_serve_and_demo_take_an_smtp_port() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", "--smtp-port", "2525"]).smtp_port == 2525
    assert parser.parse_args(["demo", "--serve", "--smtp-port", "2526"]).smtp_port == 2526
    assert parser.parse_args(["serve"]).smtp_port == 0
