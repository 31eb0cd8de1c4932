"""Buttons as numbered choices, for messengers without buttons (Zalo, the console): the one
place that says how they are shown, kept and picked. The member types the number (or the
button's key, such as a quiz answer's letter); the choices shown last are kept in the
account's conversation state, by `ChatCore` for answers and by the outbox dispatcher for
messages it sends, and a number typed later maps back to the button."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot.messages import Button, Incoming, Reply

# Separates a button's key from its data in the stored choices; button data never holds it.
KEY_SEPARATOR = "\x1f"


def _line(number: int, button: Button) -> str | None:
    """ "1. Đồng ý"; a keyed button shows its key, and nothing more when its label is just
    the key (the text lists what it stands for)."""
    if button.key is None:
        return f"{number}. {button.label}"
    return None if button.label == button.key else f"{button.key}. {button.label}"


def numbered(replies: Iterable[Reply]) -> list[tuple[Reply, list[str]]]:
    """Each reply with its buttons as lines "1. Đồng ý". Numbers run on across the replies
    of one answer, because `ChatCore` stores the choices of all of them as one list."""
    paired: list[tuple[Reply, list[str]]] = []
    number = 1
    for reply in replies:
        buttons = reply.flat_buttons
        lines = [_line(number + i, button) for i, button in enumerate(buttons)]
        paired.append((reply, [line for line in lines if line is not None]))
        number += len(buttons)
    return paired


def _stored(button: Button) -> str:
    """How a button is kept among the choices shown last: its data, after its key if any."""
    return button.data if button.key is None else f"{button.key}{KEY_SEPARATOR}{button.data}"


def stored(replies: Iterable[Reply]) -> list[str]:
    """The choices the replies show, numbered as `numbered` shows them, to keep."""
    return [_stored(button) for reply in replies for button in reply.flat_buttons]


def picked(incoming: Incoming, choices: Sequence[str]) -> Incoming:
    """A bare number typed picks from the choices shown last, and so does a button's key,
    in any case ("b" for «B»): the message becomes that button's press."""
    if not choices or incoming.text is None:
        return incoming
    typed = incoming.text.strip()
    kept = [choice.partition(KEY_SEPARATOR) for choice in choices]
    by_key = {key.casefold(): data for key, separator, data in kept if separator}
    if typed.casefold() in by_key:
        return replace(incoming, text=None, button_data=by_key[typed.casefold()])
    if typed.isdigit() and 1 <= int(typed) <= len(kept):
        key, separator, data = kept[int(typed) - 1]
        return replace(incoming, text=None, button_data=data if separator else key)
    return incoming
