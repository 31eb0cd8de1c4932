"""Picks the handler for an incoming message: by command, by button data, by the account's
stored conversation flow, or the default for plain text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.messages import ChannelTraits, Incoming, Reply

if TYPE_CHECKING:
    from bot.services import Services
    from bot.services.accounts import AccountView
    from bot.services.conversations import FlowState


@dataclass(frozen=True)
class Context:
    incoming: Incoming
    account: AccountView
    state: FlowState | None
    services: Services
    traits: ChannelTraits

    @property
    def button_payload(self) -> str:
        """What follows the prefix in button data: "help:privacy" → "privacy"."""
        return (self.incoming.button_data or "").partition(":")[2]


Handler = Callable[[Context], Awaitable[list[Reply]]]


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
        self._buttons: dict[str, Handler] = {}
        self._flows: dict[str, Handler] = {}
        self._flows_taking_media: set[str] = set()
        self._fallbacks: dict[str, Handler] = {}

    def command(self, *names: str) -> Callable[[Handler], Handler]:
        return _register(self._commands, *names)

    def button(self, prefix: str) -> Callable[[Handler], Handler]:
        """Button data is "prefix:payload"; Telegram allows 64 bytes in all."""
        return _register(self._buttons, prefix)

    def flow(self, name: str, *, takes_media: bool = False) -> Callable[[Handler], Handler]:
        """Takes text and contacts while an account's conversation state names this flow;
        photos and documents too with `takes_media`."""
        if takes_media:
            self._flows_taking_media.add(name)
        return _register(self._flows, name)

    def fallback(self, kind: str) -> Callable[[Handler], Handler]:
        """One of: text, unknown_command, stale_button, attachment, empty."""
        return _register(self._fallbacks, kind)

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
            prefix = incoming.button_data.partition(":")[0]
            return self._buttons.get(prefix, self._fallbacks["stale_button"])
        if state is not None and state.flow in self._flows:
            return self._flows[state.flow]
        if incoming.text and incoming.text.strip():
            return self._fallbacks["text"]
        return self._fallbacks["empty"]

    @property
    def commands(self) -> list[str]:
        return sorted(self._commands)
