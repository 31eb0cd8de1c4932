"""The first-run tour: right after linking (and on /huongdan), a few steps, one message each
with a button to go on or to skip. Secretaries and trainers are offered their own tour of
their commands at the end. The step is in the button, so the tour keeps no state."""

from __future__ import annotations

from enum import StrEnum

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.permissions import Action
from bot.texts import text
from handlers.guards import members_only
from handlers.handbook import ShowEntry


class Tour(StrEnum):
    MEMBER = "member"
    SECRETARY = "secretary"
    TRAINER = "trainer"


STEPS = {Tour.MEMBER: 5, Tour.SECRETARY: 4, Tour.TRAINER: 3}
# Who may take a role's tour, and what the others are told.
NEEDS = {
    Tour.SECRETARY: (Action.MANAGE_MEETINGS, "secretary.not_allowed"),
    Tour.TRAINER: (Action.SCHEDULE_QUIZ, "quiz_setup.trainers_only"),
}
# The first step shows an answer from the handbook to try.
SAMPLE_ENTRY = "dang-phi-cach-dong"


class TourStep(ButtonData, prefix="tour:go"):
    tour: Tour
    step: int  # from 1


class TourEnd(ButtonData, prefix="tour:end"):
    pass


async def _role_tours(ctx: Context, member: MemberView) -> list[Tour]:
    permissions = ctx.services.permissions
    return [
        tour
        for tour, (action, _) in NEEDS.items()
        if not (await permissions.scope(member.id, action)).empty
    ]


async def step_reply(ctx: Context, member: MemberView, tour: Tour, step: int) -> Reply:
    """The tour's step `step`: its text, «Tiếp theo» and «Bỏ qua», or at the last step
    «Xong» and the role tours the member may take."""
    total = STEPS[tour]
    body = text("tour.step", number=step, total=total, body=text(f"tour.{tour}_{step}"))
    rows: list[tuple[Button, ...]] = []
    if tour is Tour.MEMBER and step == 1:
        rows.append((Button(text("tour.button_try_entry"), ShowEntry(SAMPLE_ENTRY).pack()),))
    if step < total:
        rows.append(
            (
                Button(text("tour.button_next"), TourStep(tour, step + 1).pack()),
                Button(text("tour.button_skip"), TourEnd().pack()),
            )
        )
        return Reply(body, buttons=tuple(rows))
    if tour is Tour.MEMBER:
        for role in await _role_tours(ctx, member):
            rows.append((Button(text(f"tour.button_{role}"), TourStep(role, 1).pack()),))
    rows.append((Button(text("tour.button_done"), TourEnd().pack()),))
    return Reply(body, buttons=tuple(rows))


@members_only
async def replay(ctx: Context, member: MemberView) -> list[Reply]:
    return [await step_reply(ctx, member, Tour.MEMBER, 1)]


@members_only
async def go(ctx: Context, member: MemberView) -> list[Reply]:
    pressed = ctx.pressed(TourStep)
    if not 1 <= pressed.step <= STEPS[pressed.tour]:
        return [Reply(text("fallback.stale_button"))]
    if pressed.tour in NEEDS:
        action, refusal = NEEDS[pressed.tour]
        if (await ctx.services.permissions.scope(member.id, action)).empty:
            return [Reply(text(refusal))]
    return [await step_reply(ctx, member, pressed.tour, pressed.step)]


@members_only
async def end(ctx: Context, member: MemberView) -> list[Reply]:
    return [Reply(text("tour.done"))]


def register(router: Router) -> None:
    router.command("huongdan")(replay)
    router.button(TourStep)(go)
    router.button(TourEnd)(end)
