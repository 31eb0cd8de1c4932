"""Buttons as numbered choices, for messengers without buttons (Zalo, the console): the
member types the number (or the button's key, such as a quiz answer's letter) and
`ChatCore` maps it back to the button."""

from __future__ import annotations

from collections.abc import Iterable

from bot.messages import Button, Reply


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
