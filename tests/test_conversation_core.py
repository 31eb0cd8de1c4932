"""The shared conversation, driven through the core as any adapter would."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.chat import ChatCore
from bot.db import Database
from bot.demo import seed_demo
from bot.logmask import MaskingFormatter
from bot.messages import Attachment, Channel, ChannelTraits, Contact, Incoming, Reply
from bot.models import ChannelAccount, ConversationState
from bot.router import Context, Router
from bot.services import Shared
from bot.texts import text
from handlers import basics, build_router

BUTTONS = ChannelTraits(has_buttons=True, text_limit=4096)
NUMBERED = ChannelTraits(has_buttons=False, text_limit=2000)


def message(body: str | None = None, **fields: object) -> Incoming:
    return Incoming(Channel.TELEGRAM, "1001", "1001", text=body, **fields)  # type: ignore[arg-type]


async def ask(core: ChatCore, incoming: Incoming, traits: ChannelTraits = BUTTONS) -> list[Reply]:
    return await core.handle(incoming, traits)


async def test_start_welcomes_an_unknown_account_and_remembers_it(
    core: ChatCore, database: Database
) -> None:
    replies = await ask(core, message("/start"))
    assert [r.text for r in replies] == [text("start.welcome"), text("link.consent")]
    assert "liên kết tài khoản" in replies[0].text
    assert [b.label for b in replies[1].flat_buttons] == ["Đồng ý", "Không đồng ý"]
    async with database.session() as session:
        accounts = (await session.scalars(select(ChannelAccount))).all()
    assert [(a.channel, a.external_id, a.member_id) for a in accounts] == [
        ("telegram", "1001", None)
    ]


async def test_start_greets_a_linked_member_by_name_and_unit(
    core: ChatCore, database: Database
) -> None:
    async with database.session() as session, session.begin():
        await seed_demo(session)
    replies = await ask(core, Incoming(Channel.CONSOLE, "demo", "demo", text="/start"))
    assert "Trần Thị Bình" in replies[0].text
    assert "Chi bộ Văn phòng" in replies[0].text


async def test_help_offers_buttons_and_each_button_answers(core: ChatCore) -> None:
    (menu,) = await ask(core, message("/help"))
    assert [b.label for b in menu.flat_buttons] == [
        "Hỏi đáp Sổ tay",
        "Lịch họp",
        "Trắc nghiệm",
        "Liên kết tài khoản",
        "Quyền riêng tư",
        "Dành cho bí thư",
        "Giới thiệu bot",
    ]
    for button in menu.flat_buttons:
        (answer,) = await ask(core, message(button_data=button.data))
        assert answer.text not in (text("fallback.stale_button"), text("errors.internal"))
    (privacy,) = await ask(core, message(button_data="help:privacy"))
    assert privacy.text == text("help.privacy")


async def test_command_with_bot_username_and_case(core: ChatCore) -> None:
    (reply,) = await ask(core, message("/HELP@SotayBot"))
    assert reply.text == text("help.menu")


async def test_numbered_choices_select_buttons_without_buttons(core: ChatCore) -> None:
    (menu,) = await ask(core, message("/help"), NUMBERED)
    assert len(menu.flat_buttons) == 7
    (answer,) = await ask(core, message(" 5 "), NUMBERED)
    assert answer.text == text("help.privacy")
    # The list shown last had no buttons, so a digit now is just text: a handbook question,
    # which an account that is not linked may not ask.
    (again,) = await ask(core, message("5"), NUMBERED)
    assert again.text == text("handbook.members_only")
    (out_of_range,) = await ask(core, message("/help"), NUMBERED)
    assert out_of_range.flat_buttons
    (nine,) = await ask(core, message("9"), NUMBERED)
    assert nine.text == text("handbook.members_only")


@pytest.mark.parametrize(
    ("incoming", "expected"),
    [
        (message("/khongcolenhnay"), text("fallback.unknown_command", command="khongcolenhnay")),
        (message("/"), text("fallback.unknown_command", command="")),
        (message(button_data="help:nothing-here"), text("fallback.stale_button")),
        (message(button_data="gone:42"), text("fallback.stale_button")),
        (message(button_data=""), text("fallback.stale_button")),
        (message(attachment=Attachment.STICKER), text("fallback.attachment")),
        (message(attachment=Attachment.PHOTO), text("fallback.attachment")),
        (message(attachment=Attachment.UNSUPPORTED), text("fallback.unsupported")),
        (message(""), text("fallback.empty")),
        (message("   \n "), text("fallback.empty")),
        (message(contact=Contact("0900000001", "1001")), text("fallback.contact")),
        (message("🙂🙂🙂"), text("handbook.members_only")),
        (message("x" * 10_000), text("errors.too_long", limit=2000)),
    ],
)
async def test_bad_input_gets_a_polite_vietnamese_reply(
    core: ChatCore, incoming: Incoming, expected: str
) -> None:
    replies = await ask(core, incoming)
    assert [r.text for r in replies] == [expected]


async def test_cancel_leaves_a_flow(core: ChatCore, database: Database) -> None:
    await ask(core, message("/start"))  # starts the linking flow
    (reply,) = await ask(core, message("/cancel"))
    assert reply.text == text("cancel.done")
    (reply,) = await ask(core, message("/huy"))
    assert reply.text == text("cancel.nothing")
    async with database.session() as session:
        state = await session.scalar(select(ConversationState))
    assert state is not None and state.flow is None


async def test_a_failing_handler_apologises_and_stores_nothing(
    database: Database, shared: Shared, caplog: pytest.LogCaptureFixture
) -> None:
    router = Router()
    basics.register(router)

    async def explode(ctx: Context) -> list[Reply]:
        await ctx.services.audit.record("test", "half.done")
        raise RuntimeError("boom 0912345678")

    router.command("boom")(explode)
    core = ChatCore(database, router, shared)
    replies = await core.handle(message("/boom 0912345678"), BUTTONS)
    assert [r.text for r in replies] == [text("errors.internal")]
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(ChannelAccount)) == 0
    (record,) = [r for r in caplog.records if r.name == "bot.chat"]
    assert "handler failed" in record.getMessage()
    assert "0912345678" not in MaskingFormatter().format(record)


async def _topics_then(core: ChatCore, database: Database, interruption: str) -> str:
    """A linked console member reads an answer with numbered topics, sends `interruption`,
    then types "3": the text of the reply to the "3"."""
    async with database.session() as session, session.begin():
        await seed_demo(session)

    async def console(body: str) -> list[Reply]:
        return await core.handle(Incoming(Channel.CONSOLE, "demo", "demo", text=body), NUMBERED)

    (answer,) = await console("dang phi bao nhieu")
    topic = answer.flat_buttons[2].label
    await console(interruption)
    (reply,) = await console("3")
    assert not reply.text.startswith(topic)
    return reply.text


async def test_numbers_after_a_too_long_message_pick_no_older_topic(
    core: ChatCore, database: Database
) -> None:
    await _topics_then(core, database, "x" * 3000)


async def test_numbers_after_a_failure_pick_no_older_topic(
    database: Database, shared: Shared
) -> None:
    router = build_router()

    async def explode(ctx: Context) -> list[Reply]:
        raise RuntimeError("boom")

    router.command("boom")(explode)
    await _topics_then(ChatCore(database, router, shared), database, "/boom")


def test_every_router_slot_is_filled() -> None:
    router = build_router()
    for incoming in (
        message("/nope"),
        message(button_data="x:y"),
        message(attachment=Attachment.OTHER),
        message("hi"),
        message(""),
    ):
        assert router.resolve(incoming, None) is not None
