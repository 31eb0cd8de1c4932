"""`sotay run` and `sotay console`."""

from __future__ import annotations

import argparse
import asyncio
import logging

from bot.cli.errors import CliError
from bot.cli.settings import load_settings
from bot.runtime import SchemaOutdated, run, run_console

log = logging.getLogger(__name__)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        if not settings.has_messenger and not settings.serves_http:
            log.info("no messenger token is set: starting the console chat")
            asyncio.run(run_console(settings))
        else:
            asyncio.run(run(settings, host=args.host))
    except SchemaOutdated as exc:
        raise CliError(str(exc)) from None
    return 0


def _console(_args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        asyncio.run(run_console(settings))
    except SchemaOutdated as exc:
        raise CliError(str(exc)) from None
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run_parser = subparsers.add_parser(
        "run",
        help="run the bot on every messenger that has a token (the console chat if none has)",
        description="Run the bot: Telegram and Zalo, each polling or, when its webhook URL "
        "is set, on the web app's webhook; with no messenger token, the console chat.",
    )
    run_parser.add_argument(
        "--host",
        default="0.0.0.0",
        help="address the web app listens on (default 0.0.0.0)",
    )
    run_parser.set_defaults(func=_run)
    console_parser = subparsers.add_parser(
        "console",
        help="chat with the bot in this terminal as a demo member",
        description="Chat with the bot in this terminal, as the demo member the demo data "
        "links to the console. Buttons show as numbers; type a number to press one.",
    )
    console_parser.set_defaults(func=_console)
