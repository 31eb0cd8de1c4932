"""The `sotay` command line: one subcommand module per feature, each with a `register` function.

Whatever goes wrong reaches the operator as one line `sotay: …` on stderr and a non-zero exit
code, never a traceback: usage errors (exit 2), refusals and files or databases that cannot be
used (exit 1), Ctrl+C (exit 130). A reader that stops early (`sotay ask … | head -1`) is not
an error: the command exits 0."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from bot.cli.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, CliError, UsageError
from bot.logmask import configure_logging
from bot.migrate import DatabaseNotReady

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
    "bot.cli.web",
)


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line like every other error (subcommand
    parsers are made of the same class)."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("sotay").strip()
        print(
            f"sotay: {where + ': ' if where else ''}{message} (see `{self.prog} --help`)",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_USAGE)


def build_parser() -> Parser:
    parser = Parser(
        prog="sotay", description="Sổ tay đảng viên điện tử: chatbot for Telegram and Zalo."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _say(message: str) -> None:
    print(f"sotay: {message}", file=sys.stderr)


def _os_error(exc: OSError) -> str:
    what = f" {exc.filename}" if exc.filename else ""
    return f"cannot use{what}: {exc.strerror or exc}"


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(logging.INFO)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        code = func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
        return code
    except UsageError as exc:
        _say(str(exc))
        return EXIT_USAGE
    except (CliError, DatabaseNotReady) as exc:
        _say(str(exc))
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise
    except OSError as exc:
        _say(_os_error(exc))
    except Exception as exc:
        # A defect rather than the operator's doing; still one line, naming what failed.
        _say(f"unexpected error ({type(exc).__name__}): {exc}")
    return EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(argv)
    except BrokenPipeError:
        # The reader went away (`| head -1`) after what it wanted. Point stdout at
        # /dev/null so that the interpreter's last flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
