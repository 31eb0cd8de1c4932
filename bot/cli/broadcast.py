"""`sotay broadcast send` and `sotay dispatcher`: notices from the command line, and the
outbox dispatcher on its own."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tqdm import tqdm

from bot.cli.audit import operator
from bot.cli.errors import CliError
from bot.cli.org import PATH_HELP, find_unit
from bot.cli.settings import load_settings
from bot.db import Database
from bot.runtime import (
    SchemaOutdated,
    dispatch_settings,
    open_database,
    open_senders,
    run_dispatcher,
)
from bot.services import Services, Shared
from bot.services.broadcasts import MAX_NOTICE_CHARS
from bot.services.outbox import FINAL, OutboxService, Status
from bot.settings import Settings
from bot.texts import text
from handlers.notices import render_notice
from jobs.dispatcher import Dispatcher

WATCH_INTERVAL = 0.5


def _notice(path: Path) -> str:
    try:
        body = path.read_text(encoding="utf-8-sig").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    if not body:
        raise CliError(f"{path} is empty")
    if len(body) > MAX_NOTICE_CHARS:
        raise CliError(f"{path} holds {len(body)} characters; a notice takes {MAX_NOTICE_CHARS}")
    return body


async def _send(settings: Settings, unit_path: str, body: str, wait: bool) -> str:
    async with open_database(settings) as database:
        async with database.session() as session, session.begin():
            unit = await find_unit(session, unit_path)
            services = Services.for_session(session, Shared(settings, render=render_notice))
            broadcast_id, counts = await services.broadcasts.send(
                actor=operator(),
                body=body,
                unit_ids=[unit.id],
                signature=text("broadcast.signature_committee"),
            )
        queued = counts[Status.PENDING]
        summary = f"broadcast #{broadcast_id}: {queued} queued, {counts[Status.SKIPPED]} not linked"
        if not wait or not queued:
            return summary
        async with open_senders(settings) as senders:
            if not senders:
                raise CliError(f"{summary}; no messenger token is set, so nothing was sent")
            stop = asyncio.Event()
            worker = Dispatcher(database, senders, settings=dispatch_settings(settings))
            dispatching = asyncio.create_task(worker.run(stop))
            try:
                final = await _watch(database, broadcast_id, queued)
            finally:
                stop.set()
                await dispatching
        parts = ", ".join(f"{status}: {final[status]}" for status in FINAL if final[status])
        return f"broadcast #{broadcast_id} done: {parts}"


async def _watch(database: Database, broadcast_id: int, queued: int) -> dict[Status, int]:
    """A progress bar until no row of the broadcast is left to send."""
    with tqdm(total=queued, unit="msg", file=sys.stderr, disable=None) as bar:
        while True:
            async with database.session() as session:
                counts = await OutboxService(session).counts(broadcast_id)
            done = queued - counts[Status.PENDING] - counts[Status.SENDING]
            bar.update(done - bar.n)
            if done >= queued:
                return counts
            await asyncio.sleep(WATCH_INTERVAL)


def _run_send(args: argparse.Namespace) -> int:
    body = _notice(args.text_file)
    try:
        print(asyncio.run(_send(load_settings(), args.unit, body, not args.no_wait)))
    except SchemaOutdated as exc:
        raise CliError(str(exc)) from None
    return 0


def _run_dispatcher(_args: argparse.Namespace) -> int:
    try:
        asyncio.run(run_dispatcher(load_settings()))
    except SchemaOutdated as exc:
        raise CliError(str(exc)) from None
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    broadcast = subparsers.add_parser(
        "broadcast", help="notices to units", description="Notices to units."
    )
    actions = broadcast.add_subparsers(dest="action", metavar="ACTION", required=True)
    send = actions.add_parser(
        "send",
        help="send a notice to every member of a unit and the units under it",
        description="Queue a notice for every active member of the unit and the units under "
        "it, then send it (with a progress bar) unless --no-wait: a running bot's dispatcher "
        "sends it then. Members not linked are listed in the report as not reached.",
    )
    send.add_argument("--unit", required=True, metavar="PATH", help=PATH_HELP)
    send.add_argument("--text-file", required=True, type=Path, metavar="FILE")
    send.add_argument("--no-wait", action="store_true", help="only queue the notice")
    send.set_defaults(func=_run_send)
    subparsers.add_parser(
        "dispatcher",
        help="run only the outbox dispatcher",
        description="Send queued messages (notices, reminders, invitations) on every "
        "messenger that has a token, until stopped. `sotay run` includes it.",
    ).set_defaults(func=_run_dispatcher)
