"""Answers by letter, shared by quizzes, practice and the question a day: A to F, a button
each, which a member on Zalo answers by typing the letter."""

from __future__ import annotations

from collections.abc import Callable

from bot.messages import Button

LETTERS = "ABCDEF"


def choice_buttons(count: int, data: Callable[[int], str]) -> tuple[tuple[Button, ...], ...]:
    """One row of letter buttons, each answerable by typing its letter on Zalo."""
    return (tuple(Button(LETTERS[i], data(i), key=LETTERS[i]) for i in range(count)),)
