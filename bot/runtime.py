"""Wiring for a running process: the database, the conversation core, the messengers that
have tokens, the outbox dispatcher and the web app, until a stop signal."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.console import ConsoleChat
from bot.channels.delivery import RateLimits, Sender
from bot.channels.telegram import TelegramChannel, TelegramFiles, TelegramSender
from bot.channels.webapp import build_web_app
from bot.channels.zalo import ZaloChannel, ZaloSender
from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Channel
from bot.migrate import current_revision, head_revision
from bot.services import Shared
from bot.services.handbook import load_index
from bot.settings import Settings
from handlers import build_router
from handlers.notices import render_notice
from jobs.dispatcher import Dispatcher, DispatchSettings
from jobs.nudges import SecretaryNudges, schedule_nudges
from jobs.quizzes import QuizScheduler
from jobs.reminders import ReminderScheduler

log = logging.getLogger(__name__)


class SchemaOutdated(RuntimeError):
    """The database is missing tables this version needs."""


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    try:
        if await current_revision(database.engine) != head_revision(settings.database_url):
            raise SchemaOutdated("the database schema is not up to date: run `sotay db upgrade`")
        yield database
    finally:
        await database.dispose()


@asynccontextmanager
async def open_senders(settings: Settings) -> AsyncIterator[dict[str, Sender]]:
    """A sender per messenger that has a token, for the outbox dispatcher."""
    senders: dict[str, TelegramSender | ZaloSender] = {}
    if settings.telegram_token:
        limits = RateLimits(settings.telegram_rate_per_second, settings.telegram_burst, 1.0)
        senders[Channel.TELEGRAM] = TelegramSender(settings, limits=limits)
    if settings.zalo_token:
        senders[Channel.ZALO] = ZaloSender(settings)
    started = []
    try:
        for sender in senders.values():
            await sender.start()
            started.append(sender)
        yield dict(senders)
    finally:
        for sender in started:
            await sender.stop()


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def dispatch_settings(settings: Settings) -> DispatchSettings:
    return DispatchSettings(claim_timeout=timedelta(seconds=settings.outbox_claim_timeout))


async def run_messengers(settings: Settings, *, host: str, stop: asyncio.Event) -> None:
    """Runs Telegram and Zalo (polling or webhook), the dispatcher and the web app until
    `stop`."""
    async with open_database(settings) as database, open_senders(settings) as senders:
        dispatcher = Dispatcher(database, senders, settings=dispatch_settings(settings))
        scheduler = AsyncIOScheduler(timezone=settings.timezone)
        reminders = ReminderScheduler(
            database, settings, notify_outbox=dispatcher.wake, scheduler=scheduler
        )
        quizzes = QuizScheduler(
            database, settings, notify_outbox=dispatcher.wake, scheduler=scheduler
        )
        shared = Shared(
            settings,
            load_index(),
            notify_outbox=dispatcher.wake,
            notify_schedule=quizzes.poke,
            render=render_notice,
        )
        core = ChatCore(database, build_router(), shared)
        telegram = TelegramChannel(settings, core) if settings.telegram_token else None
        if telegram is not None:
            # Handlers fetch files members send (question sheets) through the shared services.
            shared.files.register(Channel.TELEGRAM, TelegramFiles(telegram.application.bot))
        zalo = ZaloChannel(settings, core) if settings.zalo_token else None
        runner: web.AppRunner | None = None
        if settings.serves_http:
            app = build_web_app(
                telegram,
                settings.telegram_webhook_secret,
                zalo=zalo,
                zalo_secret=settings.zalo_webhook_secret,
            )
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, host, settings.http_port).start()
            log.info("web app listening on %s:%s", host, settings.http_port)
        dispatching = asyncio.create_task(dispatcher.run(stop))
        nudges = SecretaryNudges(database, settings, notify_outbox=dispatcher.wake)
        schedule_nudges(scheduler, nudges)
        try:
            await reminders.start()
            await quizzes.start()
            await nudges.run()  # catches up a day the process was down
            if telegram is not None:
                await telegram.start()
            if zalo is not None:
                await zalo.start()
            await stop.wait()
        finally:
            stop.set()
            reminders.stop()
            await dispatching
            if telegram is not None:
                await telegram.stop()
            if zalo is not None:
                await zalo.stop()
            if runner is not None:
                await runner.cleanup()


async def run(settings: Settings, *, host: str) -> None:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await run_messengers(settings, host=host, stop=stop)


async def run_dispatcher(settings: Settings) -> None:
    """The dispatcher alone, for a deployment that runs it in its own process."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    async with open_database(settings) as database, open_senders(settings) as senders:
        await Dispatcher(database, senders, settings=dispatch_settings(settings)).run(stop)


async def run_console(settings: Settings) -> None:
    async with open_database(settings) as database:
        shared = Shared(settings, load_index(), render=render_notice)
        core = ChatCore(database, build_router(), shared)
        await ConsoleChat(core, sys.stdin, sys.stdout).run()
