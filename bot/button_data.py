"""Button data, declared once per kind of button (like aiogram's CallbackData): a prefix
and typed fields, packed into "prefix:field:field" where the button is made and parsed back
where it is pressed. Telegram carries at most 64 bytes of it; packing checks the limit, so
a button that could not be sent fails where it is made, not on a member's phone.

Button data comes back from the member's device and can be forged. Where a button names a
row that belongs to the account it was shown to (a logged question), its kind is `sealed`:
the data ends in a short keyed hash of the account and the data, so it is refused from any
other account or with another row's id."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import types
import typing
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Self, dataclass_transform

MAX_BYTES = 64
SEPARATOR = ":"
# Ids fit PostgreSQL's bigint; longer digit runs are refused before they reach a query.
MAX_DIGITS = 18
SEAL_CHARS = 12


class Seal:
    """Signs button data for one account with the deployment's key."""

    def __init__(self, key: bytes, account_id: int) -> None:
        self._key = key
        self._account = account_id

    def of(self, packed: str) -> str:
        digest = hmac.new(self._key, f"{self._account}|{packed}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).decode()[:SEAL_CHARS]

    def opened(self, data: str) -> str | None:
        """The data without its seal, if the seal is this account's."""
        packed, separator, seal = data.rpartition(SEPARATOR)
        if not separator or not hmac.compare_digest(seal, self.of(packed)):
            return None
        return packed


def _plain_type(hint: Any) -> Any:
    """`int | None` → int: a field's default is what an omitted value means."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        (kind,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return kind
    return hint


def _encode(value: Any) -> str:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, bool):
        raise TypeError("button data holds no booleans; use an enum")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"button data holds no negative numbers: {value}")
        return str(value)
    if isinstance(value, datetime):
        return str(int(value.timestamp()))
    if isinstance(value, str):
        if not value or SEPARATOR in value:
            raise ValueError(f"button data text must be non-empty without {SEPARATOR!r}: {value!r}")
        return value
    raise TypeError(f"button data cannot hold {type(value).__name__}")


def _digits(raw: str) -> int | None:
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_DIGITS:
        return None
    return int(raw)


def _decode(raw: str, kind: Any) -> Any:
    """The field's value, or None when the text is not one."""
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        try:
            return kind(raw)
        except ValueError:
            return None
    if kind is int:
        return _digits(raw)
    if kind is datetime:
        seconds = _digits(raw)
        try:
            return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if kind is str:
        return raw or None
    raise TypeError(f"button data cannot hold {kind}")


@dataclass_transform(frozen_default=True)
class ButtonData:
    """Subclass with `prefix=` and annotated fields (int, str, a StrEnum, a datetime kept to
    the second); fields with defaults go last and are left out of the data when default."""

    prefix: ClassVar[str]
    sealed: ClassVar[bool]
    _fields: ClassVar[tuple[tuple[str, Any, Any], ...]]

    def __init_subclass__(cls, *, prefix: str, sealed: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.prefix, cls.sealed = prefix, sealed
        dataclasses.dataclass(frozen=True)(cls)
        hints = typing.get_type_hints(cls)
        cls._fields = tuple(
            (field.name, _plain_type(hints[field.name]), field.default)
            for field in dataclasses.fields(cls)  # type: ignore[arg-type]
        )

    def pack(self, seal: Seal | None = None) -> str:
        """The data a button carries; a sealed kind needs the seal of the account it is
        shown to."""
        values = [getattr(self, name) for name, _, _ in self._fields]
        while values and values[-1] == self._fields[len(values) - 1][2]:
            values.pop()
        packed = SEPARATOR.join([self.prefix, *(_encode(value) for value in values)])
        if self.sealed:
            if seal is None:
                raise ValueError(f"{type(self).__name__} is packed with the account's seal")
            packed = f"{packed}{SEPARATOR}{seal.of(packed)}"
        if len(packed.encode()) > MAX_BYTES:
            raise ValueError(f"button data {packed!r} is longer than {MAX_BYTES} bytes")
        return packed

    @classmethod
    def parse(cls, data: str | None, seal: Seal | None = None) -> Self | None:
        """The button's values, or None when the data is not this kind's (or its seal is
        not this account's)."""
        if data is None:
            return None
        if cls.sealed:
            opened = None if seal is None else seal.opened(data)
            if opened is None:
                return None
            data = opened
        prefix = cls.prefix.split(SEPARATOR)
        parts = data.split(SEPARATOR)
        if parts[: len(prefix)] != prefix:
            return None
        raw = parts[len(prefix) :]
        required = sum(default is dataclasses.MISSING for _, _, default in cls._fields)
        if not required <= len(raw) <= len(cls._fields):
            return None
        values = {}
        for (name, kind, _), text in zip(cls._fields, raw, strict=False):
            value = _decode(text, kind)
            if value is None:
                return None
            values[name] = value
        return cls(**values)
