"""`sotay run` and `sotay console`. The process's wiring (bot/runtime.py: messengers,
schedulers, the web app) is imported by these commands only, so that the others start
quickly."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.channels.console import ROLES
from bot.cli.errors import CliError
from bot.cli.settings import load_settings
from bot.logmask import configure_logging
from bot.settings import Settings


def _console_chat(settings: Settings, role: str | None) -> int:
    from bot.runtime import NoSeat, run_console

    # The chat shares the terminal with the person typing: only problems are logged there.
    configure_logging(logging.WARNING)
    try:
        asyncio.run(run_console(settings, role, sys.stdin, sys.stdout))
    except NoSeat:
        raise CliError(f"no demo {role} in this database: run `sotay demo seed`") from None
    return 0


def _prepare_demo() -> None:
    """`--demo`: what `make run` needs before the bot starts, in this process (one start
    of the interpreter instead of three): the schema migrated, demo data in an empty
    roster."""
    from bot.cli.db import upgrade_database
    from bot.cli.demo import seed_demo_data

    # As in `sotay demo seed`: the services' lines (a quiz opened) say nothing new here.
    configure_logging(logging.WARNING)
    upgrade_database()
    seed_demo_data(if_empty=True)
    configure_logging(logging.INFO)
    print()


def _run(args: argparse.Namespace) -> int:
    if args.demo:
        _prepare_demo()
    settings = load_settings()
    if args.web and not settings.serves_http:
        # Not the console chat: an operator starting a worker wants to hear what is missing.
        raise CliError(
            "run --web: nothing to answer: set TELEGRAM_WEBHOOK_URL or ZALO_WEBHOOK_URL "
            "(with its token), or SOTAY_HTTP_PORT for the web console"
        )
    if not settings.has_messenger and not settings.serves_http and not args.jobs:
        return _console_chat(settings, None)
    from bot.runtime import PollingOnWebWorker, Role, run

    role = Role.WEB if args.web else Role.JOBS if args.jobs else Role.ALL
    try:
        asyncio.run(run(settings, host=args.host, role=role))
    except PollingOnWebWorker as error:
        raise CliError(str(error)) from None
    return 0


def _console(args: argparse.Namespace) -> int:
    if args.demo:
        _prepare_demo()
    return _console_chat(load_settings(), args.seat)


def _add_demo_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo",
        action="store_true",
        help="first migrate the database and add the demo data to an empty roster "
        "(`make run` does)",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run_parser = subparsers.add_parser(
        "run",
        help="run the bot on every messenger that has a token (the console chat if none has)",
        description="Run the bot: Telegram and Zalo, each polling or, when its webhook URL "
        "is set, on the web app's webhook, with the outbox dispatcher and the schedulers; "
        "with no messenger token, the console chat as the demo member. Stops on Ctrl+C.",
    )
    run_parser.add_argument(
        "--host",
        default="0.0.0.0",
        help="address the web app listens on (default 0.0.0.0)",
    )
    _add_demo_option(run_parser)
    roles = run_parser.add_mutually_exclusive_group()
    roles.add_argument(
        "--web",
        action="store_true",
        help="answer webhooks only (a worker behind nginx); never dispatches nor schedules",
    )
    roles.add_argument(
        "--jobs",
        action="store_true",
        help="only stand for the elected work (dispatcher and schedulers), with /healthz, "
        "/readyz and /metrics on SOTAY_HTTP_PORT",
    )
    run_parser.set_defaults(func=_run)
    console_parser = subparsers.add_parser(
        "console",
        help="chat with the bot in this terminal as a demo member",
        description="Chat with the bot in this terminal as one of the demo members "
        "(`sotay demo seed`), over the same outbox dispatcher and schedulers as `sotay run`: "
        "reminders, notices and quiz invitations for you show in the chat as they arrive. "
        "Buttons show as numbers; type a number to press one. /demo ROLE changes seat; "
        "Ctrl+D or Ctrl+C leaves.",
    )
    console_parser.add_argument(
        "--as",
        dest="seat",
        choices=ROLES,
        help="chat as the demo member holding this role (default: member)",
    )
    _add_demo_option(console_parser)
    console_parser.set_defaults(func=_console)
