"""The dispatch every multi-step setup conversation shares (/taohop, /taoquiz...): a button
names an action, taken only at the steps that offer it; typed text goes to the current
step if it takes text. The steps' data lives in the account's conversation state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.messages import Reply
from bot.router import Context, Handler
from bot.texts import text
from handlers.guards import members_only

Data = dict[str, Any]
ButtonStep = Callable[[Context, Data, str], Awaitable[list[Reply]]]
TypedStep = Callable[[Context, Data], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Wizard:
    flow: str
    # Action: (the steps it may be taken at, the step function given the button's argument).
    buttons: Mapping[str, tuple[tuple[str, ...], ButtonStep]]
    typed: Mapping[str, TypedStep]
    # What to say to text typed at a step that only takes buttons.
    use_buttons: str

    async def _on_button(self, ctx: Context) -> list[Reply]:
        state = ctx.state
        if state is None or state.flow != self.flow:
            return [Reply(text("fallback.stale_button"))]
        action, _, argument = ctx.button_payload.partition(":")
        if action == "stop":
            await ctx.services.conversations.clear(ctx.account.id)
            return [Reply(text("cancel.done"))]
        entry = self.buttons.get(action)
        if entry is None or state.step not in entry[0]:
            return [Reply(text("fallback.stale_button"))]
        return await entry[1](ctx, dict(state.data), argument)

    async def _on_text(self, ctx: Context) -> list[Reply]:
        assert ctx.state is not None and ctx.state.step is not None
        typed_step = self.typed.get(ctx.state.step)
        if typed_step is None:
            return [Reply(text(self.use_buttons))]
        return await typed_step(ctx, dict(ctx.state.data))

    @property
    def on_button(self) -> Handler:
        return members_only(self._on_button)

    @property
    def on_text(self) -> Handler:
        return members_only(self._on_text)
