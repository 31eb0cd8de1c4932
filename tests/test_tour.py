"""The first-run tour through the chat core: /huongdan replays it, each step has «Tiếp
theo» and «Bỏ qua», the last offers secretaries and trainers their own tour, and a forged
press of a role's tour is refused. (Right after linking it follows the welcome: see
tests/test_linking_e2e.py and tests/test_zalo_e2e.py.)"""

from __future__ import annotations

from sqlalchemy import select

from bot.chat import ChatCore
from bot.db import Database
from bot.models import ChannelAccount
from bot.texts import text
from handlers.tour import Tour, TourEnd, TourStep
from tests.harness import button, grant, labels, say
from tests.secretaries_harness import MEMBER, SECRETARY, SIBLING


def step(tour: str, number: int, total: int) -> str:
    return text("tour.step", number=number, total=total, body=text(f"tour.{tour}_{number}"))


async def test_a_member_walks_the_tour_to_the_end(core: ChatCore, units: dict[str, int]) -> None:
    (first,) = await say(core, MEMBER, "/huongdan")
    assert first.text == step("member", 1, 5)
    assert labels(first) == [
        text("tour.button_try_entry"),
        text("tour.button_next"),
        text("tour.button_skip"),
    ]
    # Trying the handbook shows an answer from it.
    (entry,) = await say(core, MEMBER, button=button(first, text("tour.button_try_entry")))
    assert entry.text.startswith("Cách đóng và thời hạn đóng đảng phí")
    reply = first
    for number in range(2, 6):
        (reply,) = await say(core, MEMBER, button=button(reply, text("tour.button_next")))
        assert reply.text == step("member", number, 5)
    # A plain member's last step offers no role's tour.
    assert labels(reply) == [text("tour.button_done")]
    (done,) = await say(core, MEMBER, button=button(reply, text("tour.button_done")))
    assert done.text == text("tour.done")


async def test_skipping_ends_the_tour(core: ChatCore, units: dict[str, int]) -> None:
    (first,) = await say(core, MEMBER, "/huongdan")
    (done,) = await say(core, MEMBER, button=button(first, text("tour.button_skip")))
    assert done.text == text("tour.done")


async def test_secretaries_and_trainers_are_offered_their_own_tour(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    await grant(database, SECRETARY, "trainer", "Chi bộ Văn phòng")
    (last,) = await say(core, SECRETARY, button=TourStep(Tour.MEMBER, 5).pack())
    assert labels(last) == [
        text("tour.button_secretary"),
        text("tour.button_trainer"),
        text("tour.button_done"),
    ]
    (reply,) = await say(core, SECRETARY, button=button(last, text("tour.button_secretary")))
    assert reply.text == step("secretary", 1, 4)
    for number in range(2, 5):
        (reply,) = await say(core, SECRETARY, button=button(reply, text("tour.button_next")))
        assert reply.text == step("secretary", number, 4)
    assert labels(reply) == [text("tour.button_done")]
    (trainer,) = await say(core, SECRETARY, button=button(last, text("tour.button_trainer")))
    assert trainer.text == step("trainer", 1, 3)


async def test_forged_presses_are_refused(core: ChatCore, units: dict[str, int]) -> None:
    (secretary,) = await say(core, MEMBER, button=TourStep(Tour.SECRETARY, 1).pack())
    assert secretary.text == text("secretary.not_allowed")
    (trainer,) = await say(core, MEMBER, button=TourStep(Tour.TRAINER, 2).pack())
    assert trainer.text == text("quiz_setup.trainers_only")
    (beyond,) = await say(core, MEMBER, button=TourStep(Tour.MEMBER, 6).pack())
    assert beyond.text == text("fallback.stale_button")
    (stranger,) = await say(core, "555", button=TourEnd().pack())
    assert stranger.text == text("link.required")
    (replay,) = await say(core, "555", "/huongdan")
    assert replay.text == text("link.required")


async def test_the_adoption_report_counts_members_who_never_asked_after_linking(
    core: ChatCore, database: Database, units: dict[str, int]
) -> None:
    def never_asked(count: int) -> str:
        return "\n".join(
            [
                text("secretary.never_asked_title"),
                text("secretary.never_asked_line", unit="Chi bộ Văn phòng", count=count),
            ]
        )

    (report,) = await say(core, SECRETARY, "/baocao")
    assert report.text.endswith("\n\n" + never_asked(2))
    await say(core, MEMBER, "đảng phí đóng bao nhiêu")
    (report,) = await say(core, SECRETARY, "/baocao")
    assert report.text.endswith("\n\n" + never_asked(1))
    # Commands and buttons are not questions; a handbook question is.
    await say(core, SECRETARY, "/lichhop")
    (report,) = await say(core, SECRETARY, "/baocao")
    assert report.text.endswith("\n\n" + never_asked(1))
    await say(core, SECRETARY, "dang vien du bi may thang")
    (report,) = await say(core, SECRETARY, "/baocao")
    assert text("secretary.never_asked_title") not in report.text
    async with database.session() as session:
        asked = await session.execute(
            select(ChannelAccount.external_id, ChannelAccount.asked_at)
            .where(ChannelAccount.member_id.is_not(None))
            .order_by(ChannelAccount.external_id)
        )
        # Only when, not what: the Sở Tư pháp secretary asked nothing.
        assert [(card, at is not None) for card, at in asked] == [
            (SECRETARY, True),
            (MEMBER, True),
            (SIBLING, False),
        ]
