"""The `sotay` command line: one subcommand module per feature, each with a `register` function."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from bot.cli import errors
from bot.cli.errors import CliError
from bot.logmask import configure_logging

# Each module exposes `register(subparsers)`; it adds its parsers and sets `func(args) -> int`.
_COMMAND_MODULES = (
    "bot.cli.run",
    "bot.cli.db",
    "bot.cli.demo",
    "bot.cli.ask",
    "bot.cli.content",
    "bot.cli.questions",
    "bot.cli.broadcast",
    "bot.cli.roster",
    "bot.cli.org",
    "bot.cli.role",
    "bot.cli.codes",
    "bot.cli.report",
    "bot.cli.audit",
    "bot.cli.meetings",
    "bot.cli.quiz",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="sotay", description="Sổ tay đảng viên điện tử: chatbot for Telegram and Zalo."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The console chat shares the terminal with the member: only problems are logged there.
    quiet = args.command == "console"
    configure_logging(logging.WARNING if quiet else logging.INFO)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CliError as exc:
        print(f"sotay: {exc}", file=sys.stderr)
        return errors.EXIT_FAILURE
    except KeyboardInterrupt:
        return errors.EXIT_INTERRUPTED
