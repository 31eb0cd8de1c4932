"""A notice with a photo, end to end on Telegram: composed in chat, previewed, and delivered
by the dispatcher as the photo then the text to each member."""

from __future__ import annotations

from bot.channels.console import render as console_render
from bot.channels.zalo import render as zalo_render
from bot.chat import ChatCore
from bot.db import Database
from bot.messages import Attachment, Channel, Media, Reply
from bot.services import Shared
from bot.services.handbook import HandbookIndex
from bot.texts import text
from handlers import build_router
from handlers.notices import render_notice
from tests.fakes.telegram_api import FakeTelegramServer
from tests.outbox_harness import dispatcher, telegram_sender
from tests.secretaries_harness import MEMBER, SECRETARY
from tests.telegram_harness import running_channel, telegram_settings

CAPTION = "Ảnh giấy mời hội nghị học tập nghị quyết, sáng thứ Hai tuần sau."


async def test_a_photo_notice_reaches_every_linked_member(
    database: Database, database_url: str, handbook: HandbookIndex, units: dict[str, int]
) -> None:
    secretary, member = int(SECRETARY), int(MEMBER)
    async with FakeTelegramServer() as server:
        settings = telegram_settings(server, database_url)
        core = ChatCore(database, build_router(), Shared(settings, handbook, render=render_notice))
        async with running_channel(settings, core):
            server.push_message(secretary, "/thongbao")
            await server.wait_for("sendMessage", chat_id=secretary)
            photo_update = server.push_photo(secretary, caption=CAPTION)
            file_id = photo_update["message"]["photo"][-1]["file_id"]
            (menu,) = (await server.wait_for("sendMessage", 2, chat_id=secretary))[1:]
            assert "☑ Chi bộ Văn phòng" in str(menu.params["reply_markup"])
            server.push_callback(secretary, "bc:preview")
            await server.wait_for("sendMessage", 3, chat_id=secretary)
            (preview_photo,) = server.calls_to("sendPhoto", chat_id=secretary)
            assert preview_photo.params["photo"] == file_id
            assert CAPTION in server.sent_messages(secretary)[-1]["text"]
            server.push_callback(secretary, "bc:send")
            await server.wait_for("sendMessage", 4, chat_id=secretary)
        sender = telegram_sender(server, database_url)
        await sender.start()
        worker = dispatcher(database, sender)
        # Batches until the outbox is empty: the notice, then the sender's report.
        assert await worker.drain_once()
        assert await worker.drain_once()
        assert await worker.drain_once() == 0
        await sender.stop()
        photos = server.calls_to("sendPhoto", chat_id=member)
        texts = server.sent_messages(member)
    assert [p.params["photo"] for p in photos] == [file_id]
    assert len(texts) == 1 and CAPTION in texts[0]["text"]
    assert photos[0].time <= server.calls_to("sendMessage", chat_id=member)[0].time


def test_zalo_and_the_console_say_a_photo_was_attached() -> None:
    photo = Media(Attachment.PHOTO, "AgACAgIAAx0", Channel.TELEGRAM)
    (zalo_text,) = zalo_render(Reply(CAPTION, media=photo), [])
    assert zalo_text == f"{CAPTION}\n\n{text('zalo.no_media')}"
    assert console_render(Reply(CAPTION, media=photo), []).startswith(text("console.media"))
