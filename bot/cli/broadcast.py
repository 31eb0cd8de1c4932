"""`sotay broadcast send` and `sotay dispatcher`: notices from the command line, and the
outbox dispatcher on its own."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tqdm import tqdm

from bot.cli.errors import CliError
from bot.cli.org import PATH_HELP, find_unit
from bot.cli.session import operator, services_for
from bot.cli.settings import load_settings
from bot.db import Database
from bot.migrate import open_database
from bot.services.broadcasts import MAX_NOTICE_CHARS
from bot.services.outbox import FINAL, Status
from bot.settings import Settings
from bot.texts import text

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
    # The messengers' wiring is imported only when a notice is sent from here.
    from bot.runtime import dispatch_settings, open_senders
    from jobs.dispatcher import Dispatcher

    async with open_database(settings) as database:
        async with database.session() as session, session.begin():
            unit = await find_unit(session, unit_path)
            broadcast_id, counts = await services_for(session).broadcasts.send(
                actor=operator(),
                body=body,
                unit_ids=[unit.id],
                signature=text("broadcast.signature_committee"),
            )
        summary = (
            f"broadcast #{broadcast_id}: {counts[Status.PENDING]} queued, "
            f"{counts[Status.SKIPPED]} not linked"
        )
        if not wait or not counts[Status.PENDING]:
            return summary
        async with open_senders(settings) as senders:
            if not senders:
                raise CliError(f"{summary}; no messenger token is set, so nothing was sent")
            async with database.session() as session:
                mine = await services_for(session).outbox.counts(broadcast_id, list(senders))
            stop = asyncio.Event()
            worker = Dispatcher(database, senders, settings=dispatch_settings(settings))
            dispatching = asyncio.create_task(worker.run(stop))
            try:
                await _watch(database, broadcast_id, list(senders), mine[Status.PENDING])
            finally:
                stop.set()
                await dispatching
        async with database.session() as session:
            final = await services_for(session).outbox.counts(broadcast_id)
        parts = ", ".join(f"{status}: {final[status]}" for status in FINAL if final[status])
        return f"broadcast #{broadcast_id} done: {parts}"


async def _watch(database: Database, broadcast_id: int, channels: list[str], queued: int) -> None:
    """A progress bar until no row of the broadcast is left to send on these messengers
    (rows for console accounts wait for `sotay console`)."""
    with tqdm(total=queued, unit="msg", file=sys.stderr, disable=None) as bar:
        while True:
            async with database.session() as session:
                counts = await services_for(session).outbox.counts(broadcast_id, channels)
            done = queued - counts[Status.PENDING] - counts[Status.SENDING]
            bar.update(done - bar.n)
            if done >= queued:
                return
            await asyncio.sleep(WATCH_INTERVAL)


def _run_send(args: argparse.Namespace) -> int:
    body = _notice(args.text_file)
    print(asyncio.run(_send(load_settings(), args.unit, body, not args.no_wait)))
    return 0


def _run_dispatcher(_args: argparse.Namespace) -> int:
    from bot.runtime import run_dispatcher

    asyncio.run(run_dispatcher(load_settings()))
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
