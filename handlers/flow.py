"""A flow: a conversation of several steps (/taohop, /taoquiz...) whose step and data live in
the account's conversation state. Each kind of button is taken only at the steps that offer
it, and what it does may depend on the step; typed text goes to the current step if it
takes text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.button_data import ButtonData
from bot.messages import Reply
from bot.router import Aside, Context, Router
from bot.services.accounts import MemberView
from bot.texts import text
from handlers.guards import MemberHandler, members_only

Data = dict[str, Any]
# A step gets the member (the flow is for linked members only) and a copy of the flow's data.
Step = Callable[[Context, MemberView, Data], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Steps:
    """What a flow's steps take: per kind of button, the step function at each step that
    offers it; per step that takes typed text, its function."""

    buttons: Mapping[type[ButtonData], Mapping[str, Step]]
    typed: Mapping[str, Step]

    def __or__(self, other: Steps) -> Steps:
        """Both flows' steps in one conversation; a step named twice is a mistake."""
        buttons = {kind: dict(at) for kind, at in self.buttons.items()}
        for kind, at in other.buttons.items():
            taken = buttons.setdefault(kind, {})
            if taken.keys() & at.keys():
                raise ValueError(f"{kind.prefix} is taken twice at {taken.keys() & at.keys()}")
            taken.update(at)
        if self.typed.keys() & other.typed.keys():
            raise ValueError(f"typed text is taken twice at {self.typed.keys() & other.typed}")
        return Steps(buttons, {**self.typed, **other.typed})


@dataclass(frozen=True)
class Flow:
    flow: str
    steps: Steps
    # The button that leaves the flow at any step.
    stop: type[ButtonData]
    # What to say to text typed at a step that only takes buttons.
    use_buttons: str
    # The line after a handbook question answered at such a step: the flow waits.
    aside: str = "flow.aside"

    def register(self, router: Router) -> None:
        router.button(self.stop)(members_only(self._stop))
        for kind, at in self.steps.buttons.items():
            router.button(kind)(members_only(self._on_button(at)))
        # Typed text at a step that takes it is the flow's content (a place, a title).
        aside = Aside(lambda ctx: Reply(text(self.aside)), frozenset(self.steps.typed))
        router.flow(self.flow, aside=aside)(members_only(self._on_text))

    def _in_flow(self, ctx: Context) -> bool:
        return ctx.state is not None and ctx.state.flow == self.flow

    async def _stop(self, ctx: Context, member: MemberView) -> list[Reply]:
        if not self._in_flow(ctx):
            return [Reply(text("fallback.stale_button"))]
        await ctx.services.conversations.clear(ctx.account.id)
        return [Reply(text("cancel.done"))]

    def _on_button(self, at: Mapping[str, Step]) -> MemberHandler:
        async def pressed(ctx: Context, member: MemberView) -> list[Reply]:
            state = ctx.state
            if state is None or state.flow != self.flow or state.step not in at:
                return [Reply(text("fallback.stale_button"))]
            return await at[state.step](ctx, member, dict(state.data))

        return pressed

    async def _on_text(self, ctx: Context, member: MemberView) -> list[Reply]:
        assert ctx.state is not None and ctx.state.step is not None
        typed_step = self.steps.typed.get(ctx.state.step)
        if typed_step is None:
            return [Reply(text(self.use_buttons))]
        return await typed_step(ctx, member, dict(ctx.state.data))
