"""The adoption report: members who linked Telegram or Zalo, per unit, with totals."""

from __future__ import annotations

import asyncio
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from bot.channels.console import CONSOLE_TRAITS
from bot.chat import ChatCore
from bot.cli import main
from bot.db import Database
from bot.demo import seed_activity, seed_demo
from bot.messages import Channel, Incoming
from bot.models import ChannelAccount, Member, utcnow
from bot.services import Shared
from bot.services.adoption import AdoptionRow, AdoptionService
from bot.services.handbook import HandbookIndex
from bot.services.organisations import OrganisationService
from bot.settings import Settings
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from tests.secret import TEST_SECRET_KEY

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _cli_database(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("SOTAY_DATABASE_URL", database_url)


async def sotay(*args: str | Path) -> int:
    return await asyncio.to_thread(main, [str(arg) for arg in args])


# (chi bộ path, [(telegram?, zalo?, active?)])
_PEOPLE: list[tuple[str, list[tuple[bool, bool, bool]]]] = [
    (
        "Tỉnh/Xã A/Chi bộ 1",
        [(True, False, True), (True, True, True), (False, True, True), (False, False, True)],
    ),
    ("Tỉnh/Xã A/Chi bộ 2", [(False, False, True), (True, False, False)]),
    ("Tỉnh/Xã B/Chi bộ 3", [(True, False, True), (False, True, True), (True, True, True)]),
]


@pytest.fixture
async def units(database: Database) -> dict[str, int]:
    """A small known dataset; an inactive member and a console account count for nothing,
    nor does Xã C, which has no members."""
    ids: dict[str, int] = {}
    async with database.session() as session, session.begin():
        organisations = OrganisationService(session)
        card = 0
        for path, people in _PEOPLE:
            names = path.split("/")
            for depth in range(1, len(names) + 1):
                ids[names[depth - 1]] = (await organisations.ensure_path(names[:depth])).id
            for telegram, zalo, active in people:
                card += 1
                member = Member(
                    card_number=str(card),
                    full_name=f"Người {card}",
                    organisation_id=ids[names[-1]],
                    active=active,
                )
                session.add(member)
                await session.flush()
                for channel, linked in (("telegram", telegram), ("zalo", zalo)):
                    if linked:
                        session.add(
                            ChannelAccount(
                                channel=channel,
                                external_id=f"{channel}{card}",
                                chat_id=str(card),
                                member_id=member.id,
                            )
                        )
        ids["Xã C"] = (await organisations.ensure_path(["Tỉnh", "Xã C"])).id
        await organisations.ensure_path(["Tỉnh", "Xã C", "Chi bộ 4"])
        first = await session.scalar(select(Member.id).where(Member.card_number == "4"))
        session.add(
            ChannelAccount(channel="console", external_id="c", chat_id="c", member_id=first)
        )
    return ids


def figures(rows: list[AdoptionRow]) -> list[tuple[str, int, bool, int, int, int, int, float]]:
    return [
        (r.unit_name, r.depth, r.is_total, r.members, r.telegram, r.zalo, r.linked, r.rate)
        for r in rows
    ]


async def test_report_for_the_whole_tree(database: Database, units: dict[str, int]) -> None:
    async with database.session() as session:
        rows = await AdoptionService(session).report(None)
    assert figures(rows) == [
        ("Tỉnh", 0, True, 8, 4, 4, 6, 0.75),
        ("Xã A", 1, True, 5, 2, 2, 3, 0.6),
        ("Chi bộ 1", 2, False, 4, 2, 2, 3, 0.75),
        ("Chi bộ 2", 2, False, 1, 0, 0, 0, 0.0),
        ("Xã B", 1, True, 3, 2, 2, 3, 1.0),
        ("Chi bộ 3", 2, False, 3, 2, 2, 3, 1.0),
    ]


async def test_report_for_one_unit(database: Database, units: dict[str, int]) -> None:
    async with database.session() as session:
        service = AdoptionService(session)
        assert figures(await service.report(units["Xã A"])) == [
            ("Xã A", 0, True, 5, 2, 2, 3, 0.6),
            ("Chi bộ 1", 1, False, 4, 2, 2, 3, 0.75),
            ("Chi bộ 2", 1, False, 1, 0, 0, 0, 0.0),
        ]
        assert figures(await service.report(units["Chi bộ 3"])) == [
            ("Chi bộ 3", 0, False, 3, 2, 2, 3, 1.0)
        ]
        assert await service.report(units["Xã C"]) == []


async def test_cli_writes_the_sheet_and_the_chart(
    database: Database, units: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, chart = tmp_path / "bao-cao.xlsx", tmp_path / "bao-cao.png"

    assert await sotay("report", "adoption", "--out", out, "--chart", chart) == 0

    assert capsys.readouterr().out == (
        f"6 row(s) written to {out}, chart to {chart}\nlinked: 6 of 8 member(s) (75.0%)\n"
    )
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows == [
        [
            "Đơn vị",
            "Đảng viên",
            "Telegram",
            "Zalo",
            "Đã liên kết",
            "Tỷ lệ",
            "Liên kết nhưng chưa hỏi gì sau hướng dẫn",
        ],
        ["Tỉnh", 8, 4, 4, 6, 0.75, 0],
        ["Xã A", 5, 2, 2, 3, 0.6, 0],
        ["Chi bộ 1", 4, 2, 2, 3, 0.75, 0],
        ["Chi bộ 2", 1, 0, 0, 0, 0, 0],
        ["Xã B", 3, 2, 2, 3, 1, 0],
        ["Chi bộ 3", 3, 2, 2, 3, 1, 0],
    ]
    assert sheet["A1"].font.b and sheet["A2"].font.b and not sheet["A4"].font.b
    assert sheet["F2"].number_format == "0.0%"
    assert sheet["A4"].alignment.indent == 2
    png = chart.read_bytes()
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 5000


async def test_cli_for_one_unit_and_refusals(
    database: Database, units: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.xlsx"
    assert await sotay("report", "adoption", "--unit", "Tỉnh/Xã B", "--out", out) == 0
    assert capsys.readouterr().out.endswith("linked: 3 of 3 member(s) (100.0%)\n")
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None and sheet.max_row == 3
    assert await sotay("report", "adoption", "--unit", "Tỉnh/Xã C", "--out", out) == 1
    assert capsys.readouterr().err == "sotay: no active members there: nothing to report\n"
    assert await sotay("report", "adoption", "--out", out, "--chart", tmp_path / "c.jpg") == 1
    assert capsys.readouterr().err == "sotay: --chart must name a .png file\n"


def test_a_chart_of_many_units_shows_a_higher_level(tmp_path: Path) -> None:
    from bot.exports.charts import MAX_BARS, chart_rows, write_adoption_chart

    rows = [AdoptionRow(1, "Tỉnh", 0, True, 600, 300, 0, 300)]
    for commune in range(6):
        rows.append(AdoptionRow(100 + commune, f"Xã {commune}", 1, True, 100, 50, 0, 50))
        rows.extend(
            AdoptionRow(
                1000 + commune * 10 + i,
                "Chi bộ thôn 1" if i == 0 else f"Chi bộ {i}",
                2,
                False,
                10,
                5,
                0,
                5,
            )
            for i in range(10)
        )
    assert len([r for r in rows if not r.is_total]) > MAX_BARS
    assert [r.unit_name for r in chart_rows(rows)] == [f"Xã {i}" for i in range(6)]
    write_adoption_chart(tmp_path / "c.png", rows, "Tỷ lệ")
    assert (tmp_path / "c.png").read_bytes().startswith(PNG_MAGIC)


async def test_console_accounts_count_when_asked(database: Database, units: dict[str, int]) -> None:
    """Where the console is the bot's one messenger (no token: the demo)."""
    async with database.session() as session:
        rows = await AdoptionService(session).report(units["Xã A"], console=True)
    assert [(r.unit_name, r.members, r.linked, r.console, r.rate) for r in rows] == [
        ("Xã A", 5, 4, 1, 0.8),
        ("Chi bộ 1", 4, 4, 1, 1.0),
        ("Chi bộ 2", 1, 0, 0, 0.0),
    ]


async def _demo_report(database: Database, settings: Settings, handbook: HandbookIndex) -> str:
    """/baocao as the demo secretary, at the console."""
    async with database.session() as session, session.begin():
        await seed_demo(session)
        await seed_activity(session, Shared(settings, handbook, render=render_notice))
    core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
    incoming = Incoming(Channel.CONSOLE, "demo-90000001", "demo-90000001", text="/baocao")
    (reply,) = await core.handle(incoming, CONSOLE_TRAITS)
    return reply.text


async def test_the_demo_secretarys_report_counts_the_console_without_a_token(
    database: Database, settings: Settings, handbook: HandbookIndex
) -> None:
    report = await _demo_report(database, settings, handbook)
    assert report.splitlines()[:3] == [
        text("secretary.report_title"),
        text("secretary.report_console"),
        "Chi bộ Văn phòng: 2/3 (67%) · Telegram 0 · Zalo 0 · dòng lệnh 2",
    ]


async def test_with_a_token_console_accounts_reach_no_one_and_count_for_nothing(
    database: Database, database_url: str, handbook: HandbookIndex
) -> None:
    settings = Settings.from_mapping(
        {
            "SOTAY_DATABASE_URL": database_url,
            "TELEGRAM_TOKEN": "123:abc",
            "SOTAY_SECRET_KEY": TEST_SECRET_KEY,
        }
    )
    report = await _demo_report(database, settings, handbook)
    assert report.splitlines() == [
        text("secretary.report_title"),
        "Chi bộ Văn phòng: 0/3 (0%) · Telegram 0 · Zalo 0",
    ]


async def test_members_linked_who_never_asked_anything_after_the_tour_per_unit(
    database: Database, units: dict[str, int], tmp_path: Path
) -> None:
    """Every account here linked with the tour; in Chi bộ 1 one member asked a question
    on Zalo (their Telegram account asked nothing: the member still asked), in Chi bộ 3
    one asked; accounts linked before the tour existed count for nothing."""
    async with database.session() as session, session.begin():
        accounts = list(
            await session.scalars(
                select(ChannelAccount)
                .join(Member, Member.id == ChannelAccount.member_id)
                .where(ChannelAccount.channel != "console")
                .order_by(Member.card_number, ChannelAccount.channel)
            )
        )
        for account in accounts:
            account.tour_started_at = utcnow()
        by_card: dict[str, list[ChannelAccount]] = {}
        for account in accounts:
            card = await session.scalar(
                select(Member.card_number).where(Member.id == account.member_id)
            )
            assert card is not None
            by_card.setdefault(card, []).append(account)
        # Card 2: Telegram and Zalo in Chi bộ 1; card 7: Telegram in Chi bộ 3.
        [zalo] = [a for a in by_card["2"] if a.channel == "zalo"]
        zalo.asked_at = utcnow()
        by_card["7"][0].asked_at = utcnow()
        by_card["8"][0].tour_started_at = None  # Chi bộ 3: linked before the tour existed
    async with database.session() as session:
        rows = await AdoptionService(session).report(None)
    assert [(r.unit_name, r.linked, r.idle_after_tour) for r in rows] == [
        ("Tỉnh", 6, 3),
        ("Xã A", 3, 2),
        ("Chi bộ 1", 3, 2),
        ("Chi bộ 2", 0, 0),
        ("Xã B", 3, 1),
        ("Chi bộ 3", 3, 1),
    ]
    out = tmp_path / "r.xlsx"
    assert await sotay("report", "adoption", "--out", out) == 0
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    assert [row[6] for row in sheet.iter_rows(min_row=2, values_only=True)] == [3, 2, 2, 0, 1, 1]
