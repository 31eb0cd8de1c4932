"""SQL statements per message, counted through the real conversation core on the demo data.

A linked member asks a handbook question (on a messenger with buttons and on one that numbers
them); a secretary takes two steps of /taohop (a button, then typed text) and, as a trainer of
the Party committee above, ticks a unit in /taphuan's menu of three. Each figure is
the statements one message costs once the account exists, counted with SQLAlchemy's
`before_cursor_execute` event.

    .venv/bin/python benchmarks/statements.py [--database-url URL]

Without a URL it runs on a fresh SQLite file; a PostgreSQL database is migrated and must be a
throwaway one (its rows are deleted). Prints one `name: value` line per figure."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select, update  # noqa: E402

from bot.chat import ChatCore  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.demo import seed_demo  # noqa: E402
from bot.messages import Channel, ChannelTraits, Incoming  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import Base, ChannelAccount, Member, Organisation, RoleGrant, utcnow  # noqa: E402
from bot.services import Shared  # noqa: E402
from bot.services.handbook import load_index  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers import build_router  # noqa: E402

BUTTONS = ChannelTraits(has_buttons=True, text_limit=4096, can_share_contact=True)
NUMBERED = ChannelTraits(has_buttons=False, text_limit=2000)
MEMBER, SECRETARY = "90000003", "90000001"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
QUESTION = "đảng phí bao nhiêu"


async def prepare(database: Database) -> None:
    """The demo data, emptied first; the member and the secretary linked on Telegram and on
    Zalo; the secretary granted Chi bộ Văn phòng, and trainer of the Party committee above."""
    async with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
    async with database.session() as session, session.begin():
        await seed_demo(session)
        await session.execute(update(ChannelAccount).values(member_id=None))
        for card in (MEMBER, SECRETARY):
            member = await session.scalar(select(Member).where(Member.card_number == card))
            assert member is not None
            for channel in (Channel.TELEGRAM, Channel.ZALO):
                session.add(
                    ChannelAccount(
                        channel=channel,
                        external_id=card,
                        chat_id=card,
                        member_id=member.id,
                        linked_at=utcnow(),
                    )
                )
            if card == SECRETARY:
                unit = await session.get(Organisation, member.organisation_id)
                assert unit is not None
                for role, unit_id in (("secretary", unit.id), ("trainer", unit.parent_id)):
                    session.add(
                        RoleGrant(
                            member_id=member.id,
                            role=role,
                            organisation_id=unit_id,
                            granted_by="benchmark",
                        )
                    )


class Counter:
    def __init__(self, database: Database) -> None:
        self.count = 0
        event.listen(database.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def measure(
    core: ChatCore,
    counter: Counter,
    card: str,
    traits: ChannelTraits,
    *,
    body: str | None = None,
    button: str | None = None,
) -> int:
    channel = Channel.TELEGRAM if traits.has_buttons else Channel.ZALO
    before = counter.count
    await core.handle(Incoming(channel, card, card, text=body, button_data=button), traits)
    return counter.count - before


def _button(replies: list[Any], prefix: str) -> str:
    return next(b.data for r in replies for b in r.flat_buttons if b.data.startswith(prefix))


async def run(url: str) -> dict[str, int]:
    database = Database(url)
    try:
        await prepare(database)
        settings = Settings.from_mapping({"SOTAY_DATABASE_URL": url})
        core = ChatCore(database, build_router(), Shared(settings, load_index(), lambda: NOW))
        counter = Counter(database)
        figures: dict[str, int] = {}
        # A first message of each account, not counted: it may create rows once.
        for traits in (BUTTONS, NUMBERED):
            await measure(core, counter, MEMBER, traits, body=QUESTION)
        figures["statements_handbook_question"] = await measure(
            core, counter, MEMBER, BUTTONS, body=QUESTION
        )
        figures["statements_handbook_question_numbered"] = await measure(
            core, counter, MEMBER, NUMBERED, body=QUESTION
        )
        channel = Channel.TELEGRAM
        menu = await core.handle(Incoming(channel, SECRETARY, SECRETARY, text="/taohop"), BUTTONS)
        figures["statements_wizard_button_step"] = await measure(
            core, counter, SECRETARY, BUTTONS, button=_button(menu, "mt:kind")
        )
        repeat = await core.handle(
            Incoming(channel, SECRETARY, SECRETARY, text="12/12/2026 19:30"), BUTTONS
        )
        await core.handle(
            Incoming(channel, SECRETARY, SECRETARY, button_data=_button(repeat, "mt:repeat")),
            BUTTONS,
        )
        figures["statements_wizard_text_step"] = await measure(
            core, counter, SECRETARY, BUTTONS, body="Hội trường tầng 2"
        )
        menu = await core.handle(Incoming(channel, SECRETARY, SECRETARY, text="/taphuan"), BUTTONS)
        figures["statements_unit_menu_toggle"] = await measure(
            core, counter, SECRETARY, BUTTONS, button=_button(menu, "mt:unit")
        )
        return figures
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a throwaway database (default: a SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'statements.db'}"
        url = Settings.from_mapping({"SOTAY_DATABASE_URL": url}).database_url
        upgrade(url)
        for name, value in asyncio.run(run(url)).items():
            print(f"{name}: {value}")


if __name__ == "__main__":
    main()
