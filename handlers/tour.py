"""The first-run tour: right after linking, five short steps (ask the handbook, the meetings,
answering a reminder, a practice question, the messenger for notices), each one message with
«Tiếp» and «Bỏ qua». A secretary's and a trainer's tours of their own commands follow the
member's. /huongdan replays it. The tour keeps no state but the step in its buttons."""

from __future__ import annotations

from enum import StrEnum

from bot.button_data import ButtonData
from bot.messages import Button, Reply
from bot.router import Context, Router
from bot.services.accounts import MemberView
from bot.services.permissions import Action
from bot.texts import text
from handlers.guards import members_only


class Track(StrEnum):
    """A tour, in the order they follow one another; each has the texts tour.<track>_<n>."""

    MEMBER = "member"
    SECRETARY = "secretary"
    TRAINER = "trainer"


STEPS = {Track.MEMBER: 5, Track.SECRETARY: 4, Track.TRAINER: 4}
# Who gets a track beside the member's: a grant allowing this action somewhere.
TRACK_ACTION = {Track.SECRETARY: Action.BROADCAST, Track.TRAINER: Action.SCHEDULE_QUIZ}


class TourStep(ButtonData, prefix="tour"):
    """«Tiếp»: show step `step` (from 0) of `track`."""

    track: Track
    step: int


class TourSkip(ButtonData, prefix="tourend"):
    """«Bỏ qua»: the tour ends here."""


async def _tracks(ctx: Context, member: MemberView) -> list[Track]:
    tracks = [Track.MEMBER]
    for track, action in TRACK_ACTION.items():
        if not (await ctx.services.permissions.scope(member.id, action)).empty:
            tracks.append(track)
    return tracks


def _step(tracks: list[Track], track: Track, step: int) -> Reply:
    """The step's message, with «Tiếp» to the next step (of this track or the next one)
    and «Bỏ qua»; the very last step has «Xong»."""
    following = tracks[tracks.index(track) + 1 :]
    if step + 1 < STEPS[track]:
        onward: TourStep | TourSkip = TourStep(track, step + 1)
    elif following:
        onward = TourStep(following[0], 0)
    else:
        onward = TourSkip()
    last = isinstance(onward, TourSkip)
    head = text("tour.step", number=step + 1, total=STEPS[track], title=text(f"tour.title_{track}"))
    buttons = [Button(text("tour.button_done" if last else "tour.button_next"), onward.pack())]
    if not last:
        buttons.append(Button(text("tour.button_skip"), TourSkip().pack()))
    return Reply(f"{head}\n\n{text(f'tour.{track}_{step + 1}')}", buttons=(tuple(buttons),))


async def first_step(ctx: Context, member: MemberView) -> Reply:
    """The tour's first message, for linking to send after its welcome."""
    return _step(await _tracks(ctx, member), Track.MEMBER, 0)


@members_only
async def replay(ctx: Context, member: MemberView) -> list[Reply]:
    return [Reply(text("tour.replay")), await first_step(ctx, member)]


@members_only
async def next_step(ctx: Context, member: MemberView) -> list[Reply]:
    pressed = ctx.pressed(TourStep)
    tracks = await _tracks(ctx, member)
    if pressed.track not in tracks or not 0 <= pressed.step < STEPS[pressed.track]:
        return [Reply(text("fallback.stale_button"))]
    return [_step(tracks, pressed.track, pressed.step)]


@members_only
async def skip(ctx: Context, member: MemberView) -> list[Reply]:
    return [Reply(text("tour.ended"))]


def register(router: Router) -> None:
    router.command("huongdan")(replay)
    router.button(TourStep)(next_step)
    router.button(TourSkip)(skip)
