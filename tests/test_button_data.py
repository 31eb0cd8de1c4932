"""Button data declared once per kind: packed and parsed in one place, within Telegram's 64
bytes, and sealed to the account where it names that account's rows."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import pytest

from bot.button_data import ButtonData, Seal
from handlers import build_router


class Answer(StrEnum):
    ATTEND = "a"
    ABSENT = "v"


class Rsvp(ButtonData, prefix="test:rsvp"):
    meeting: int
    at: datetime
    answer: Answer


class Pick(ButtonData, prefix="test:pick"):
    index: int
    page: int = 0


class Named(ButtonData, prefix="test:named"):
    name: str


class Owned(ButtonData, prefix="test:owned", sealed=True):
    row: int


AT = datetime(2026, 12, 4, 12, 30, tzinfo=UTC)


def test_fields_are_packed_in_order_and_parsed_back_typed() -> None:
    packed = Rsvp(12, AT, Answer.ABSENT).pack()
    assert packed == f"test:rsvp:12:{int(AT.timestamp())}:v"
    assert Rsvp.parse(packed) == Rsvp(12, AT, Answer.ABSENT)


def test_trailing_defaults_are_left_out() -> None:
    assert Pick(3).pack() == "test:pick:3"
    assert Pick(3, 2).pack() == "test:pick:3:2"
    assert Pick.parse("test:pick:3") == Pick(3, 0)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "test:rsvp",
        "test:rsvp:12",
        "test:rsvp:12:1764500000",  # a field missing
        "test:rsvp:12:1764500000:v:extra",
        "test:rsvp:x:1764500000:v",
        "test:rsvp:-1:1764500000:v",
        "test:rsvp:12:1764500000:maybe",  # not an answer
        "test:rsvp:١٢:1764500000:v",  # digits, but not ASCII ones
        "test:rsvp:12:99999999999999999:v",  # no such moment
        f"test:rsvp:{'9' * 19}:1764500000:v",  # more than a bigint holds
        "other:rsvp:12:1764500000:v",
        "test:pick:3",
    ],
)
def test_data_that_is_not_the_kinds_parses_to_none(data: str | None) -> None:
    assert Rsvp.parse(data) is None


def test_the_64_byte_limit_is_checked_when_packing() -> None:
    assert Named("x" * 53).pack() == "test:named:" + "x" * 53
    with pytest.raises(ValueError, match="64 bytes"):
        Named("x" * 54).pack()
    with pytest.raises(ValueError, match="64 bytes"):
        Named("đ" * 27).pack()  # two bytes each


@pytest.mark.parametrize("value", ["", "a:b"])
def test_text_that_would_not_parse_back_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        Named(value).pack()


def test_sealed_data_opens_only_for_its_account_and_row() -> None:
    mine, theirs = Seal(b"key", 7), Seal(b"key", 8)
    packed = Owned(41).pack(mine)
    assert packed.startswith("test:owned:41:")
    assert Owned.parse(packed, mine) == Owned(41)
    assert Owned.parse(packed, theirs) is None
    assert Owned.parse(packed.replace(":41:", ":42:"), mine) is None
    assert Owned.parse("test:owned:41", mine) is None
    assert Owned.parse(packed, Seal(b"another key", 7)) is None
    with pytest.raises(ValueError, match="seal"):
        Owned(41).pack()


def test_every_kind_the_router_takes_has_one_prefix() -> None:
    prefixes = [kind.prefix for kind in build_router().buttons]
    assert len(prefixes) == len(set(prefixes))
    # A kind's prefix never starts another kind's fields: "quiz:a" is not read as "quiz".
    for prefix in prefixes:
        assert not any(other.startswith(f"{prefix}:") for other in prefixes), prefix
