"""Picks the handler for an incoming message: by command, by button data, by the account's
flow in its conversation state, or the default for plain text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from bot.button_data import SEPARATOR, ButtonData, Seal
from bot.messages import ChannelTraits, Incoming, Reply

if TYPE_CHECKING:
    from bot.services import Services
    from bot.services.accounts import AccountView
    from bot.services.conversations import FlowState
    from bot.services.files import IncomingFiles


Pressed = TypeVar("Pressed", bound=ButtonData)


@dataclass(frozen=True)
class Context:
    incoming: Incoming
    account: AccountView
    state: FlowState | None
    services: Services
    traits: ChannelTraits
    # Seals button data naming this account's rows (bot/button_data.py).
    seal: Seal
    # The button data, parsed by the kind the handler was registered for.
    button: ButtonData | None = None

    def pressed(self, kind: type[Pressed]) -> Pressed:
        """The button pressed, as the kind this handler was registered for."""
        if not isinstance(self.button, kind):
            raise LookupError(f"the handler was not registered for {kind.__name__}")
        return self.button


Handler = Callable[[Context], Awaitable[list[Reply]]]
Preparer = Callable[[Incoming, "IncomingFiles"], Awaitable[Incoming]]


@dataclass(frozen=True)
class Aside:
    """How a member steps out of a flow for a moment: typed text that is plainly a handbook
    question is answered, and the flow stays where it was, with a one-line `reminder` of
    where it stands. Not at `content_steps`, whose typed text is the flow's own content (a
    meeting's place, a notice), nor for text the step `takes` as its answer (a quiz letter,
    a card number); anything else goes to the step, which gives its hint."""

    reminder: Callable[[Context], Reply]
    content_steps: frozenset[str] = frozenset()
    takes: Callable[[FlowState, str], bool] | None = None


def _register(table: dict[str, Handler], *keys: str) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        for key in keys:
            if key in table:
                raise ValueError(f"{key!r} is registered twice")
            table[key] = handler
        return handler

    return decorate


class Router:
    def __init__(self) -> None:
        self._commands: dict[str, Handler] = {}
        self._kinds: dict[str, tuple[type[ButtonData], Handler]] = {}
        self._flows: dict[str, Handler] = {}
        self._flows_taking_media: set[str] = set()
        self._preparers: dict[str, Preparer] = {}
        self._fallbacks: dict[str, Handler] = {}
        self._asides: dict[str, Aside] = {}
        self._is_question: Callable[[Context], bool] = lambda ctx: False

    def command(self, *names: str) -> Callable[[Handler], Handler]:
        return _register(self._commands, *names)

    def button(self, kind: type[ButtonData]) -> Callable[[Handler], Handler]:
        """Takes the buttons of one kind; the handler finds it parsed in `ctx.pressed(kind)`.
        Kinds may share a first segment ("quiz:start", "quiz:a"); data that none of them
        parses gets the stale-button answer."""

        def decorate(handler: Handler) -> Handler:
            if kind.prefix in self._kinds:
                raise ValueError(f"{kind.prefix!r} is registered twice")
            self._kinds[kind.prefix] = (kind, handler)
            # The longest prefix first: "qs:unit" is tried before a kind "qs" would be.
            self._kinds = dict(sorted(self._kinds.items(), key=lambda item: -len(item[0])))
            return handler

        return decorate

    async def _pressed(self, ctx: Context) -> list[Reply]:
        data = ctx.incoming.button_data or ""
        for prefix, (kind, handler) in self._kinds.items():
            if data == prefix or data.startswith(prefix + SEPARATOR):
                button = kind.parse(data, ctx.seal)
                if button is not None:
                    return await handler(replace(ctx, button=button))
                break
        return await self._fallbacks["stale_button"](ctx)

    def flow(
        self,
        name: str,
        *,
        takes_media: bool = False,
        aside: Aside | None = None,
        prepare: Preparer | None = None,
    ) -> Callable[[Handler], Handler]:
        """Takes text and contacts while an account's conversation state names this flow;
        photos and documents too with `takes_media`. With an `aside`, a handbook question
        typed in it is answered and the flow kept; without, every text is the flow's own
        (a notice, an answer to a member). A `prepare` runs on a message with media before
        the handler's transaction opens (fetching and reading a file), and what it returns
        is the handler's incoming message."""
        if takes_media:
            self._flows_taking_media.add(name)
        if prepare is not None:
            self._preparers[name] = prepare
        if aside is not None:
            self._asides[name] = aside
        return _register(self._flows, name)

    def questions(self, is_question: Callable[[Context], bool]) -> None:
        """What makes typed text plainly a question the "text" fallback answers: a flow
        with an aside lets the member ask it without leaving."""
        self._is_question = is_question

    def aside(self, ctx: Context) -> Aside | None:
        """The flow's aside when this message steps out of it for a moment (see Aside),
        else None: the message goes where `resolve` sends it."""
        state, incoming = ctx.state, ctx.incoming
        if (
            state is None
            or state.flow not in self._flows
            or incoming.text is None
            or incoming.command is not None
            or incoming.button_data is not None
            or incoming.attachment is not None
        ):
            return None
        aside = self._asides.get(state.flow)
        if aside is None or state.step in aside.content_steps:
            return None
        if aside.takes is not None and aside.takes(state, incoming.text):
            return None
        return aside if self._is_question(ctx) else None

    async def answer_aside(self, ctx: Context, aside: Aside) -> list[Reply]:
        """The question's answer, then where the flow stands."""
        return [*await self._fallbacks["text"](ctx), aside.reminder(ctx)]

    def fallback(self, kind: str) -> Callable[[Handler], Handler]:
        """One of: text, unknown_command, stale_button, attachment, empty."""
        return _register(self._fallbacks, kind)

    def preparer(self, flow: str | None) -> Preparer | None:
        return None if flow is None else self._preparers.get(flow)

    def resolve(self, incoming: Incoming, state: FlowState | None) -> Handler:
        if incoming.attachment is not None:
            flow = state.flow if state is not None else None
            if incoming.media is not None and flow is not None and flow in self._flows_taking_media:
                return self._flows[flow]
            return self._fallbacks["attachment"]
        if incoming.command is not None:
            # "/thongbao_chitiet_12" is the tappable form of "/thongbao_chitiet 12".
            name = incoming.command
            if name not in self._commands and name.rpartition("_")[2].isdigit():
                name = name.rpartition("_")[0]
            return self._commands.get(name, self._fallbacks["unknown_command"])
        if incoming.button_data is not None:
            return self._pressed
        if state is not None and state.flow in self._flows:
            return self._flows[state.flow]
        if incoming.text and incoming.text.strip():
            return self._fallbacks["text"]
        return self._fallbacks["empty"]

    @property
    def commands(self) -> list[str]:
        return sorted(self._commands)

    @property
    def buttons(self) -> list[type[ButtonData]]:
        """Every kind of button taken, by prefix."""
        return [self._kinds[prefix][0] for prefix in sorted(self._kinds)]

    @property
    def flows(self) -> list[str]:
        return sorted(self._flows)
