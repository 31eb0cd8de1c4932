"""Buttons as numbered choices, for messengers without buttons (Zalo, the console): the
member types the number and `ChatCore` maps it back to the button."""

from __future__ import annotations

from collections.abc import Iterable

from bot.messages import Reply


def numbered(replies: Iterable[Reply]) -> list[tuple[Reply, list[str]]]:
    """Each reply with its buttons as lines "1. Đồng ý". Numbers run on across the replies
    of one answer, because `ChatCore` stores the choices of all of them as one list."""
    paired: list[tuple[Reply, list[str]]] = []
    number = 1
    for reply in replies:
        labels = [button.label for button in reply.flat_buttons]
        paired.append((reply, [f"{number + i}. {label}" for i, label in enumerate(labels)]))
        number += len(labels)
    return paired
