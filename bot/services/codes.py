"""Single-use activation codes a secretary hands to members to link a messenger account.

Only an HMAC of each code, keyed by a key derived from SOTAY_SECRET_KEY, is stored: someone
who reads the database can neither link an account with it nor, without the secret, try the
2^40 possible codes against it offline. A code is 8 characters from an alphabet without
look-alikes, shown as "ABCD-EFGH"."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, delete, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.keys import Keys, Purpose
from bot.models import ActivationCode, ChannelAccount, Member, Organisation
from bot.services.handbook.normalize import fold

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
VALID_FOR = timedelta(days=14)
_CHUNK = 1000


def generate_code() -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def normalise_code(text: str) -> str:
    return "".join(text.split()).replace("-", "").upper()


def hash_code(keys: Keys, code: str) -> str:
    return keys.digest(Purpose.CODES, normalise_code(code))


def _looks_like_code(normalised: str) -> bool:
    return len(normalised) == CODE_LENGTH and all(ch in ALPHABET for ch in normalised)


def _list_order(row: Row[tuple[int, str, int, str]]) -> tuple[str, str, str]:
    """By unit, then as Vietnamese lists go: by given name (the last word), then full name."""
    _, full_name, _, unit_name = row
    return (
        fold(unit_name).lower(),
        fold(full_name.rpartition(" ")[2]).lower(),
        fold(full_name).lower(),
    )


@dataclass(frozen=True)
class IssuedCode:
    member_id: int
    full_name: str
    unit_id: int
    unit_name: str
    code: str  # as shown: "ABCD-EFGH"
    expires_at: datetime


class CodeService:
    def __init__(self, session: AsyncSession, keys: Keys) -> None:
        self._session = session
        self._keys = keys

    async def issue_for_unit(
        self, unit_id: int, *, issued_by: str, now: datetime, include_linked: bool = False
    ) -> list[IssuedCode]:
        """A new code for each active member of the unit and the units under it who has no
        linked account (or every active member, with include_linked); each replaces the
        member's unused older codes. Sorted by unit, then given name."""
        unit_path = await self._session.scalar(
            select(Organisation.path).where(Organisation.id == unit_id)
        )
        if unit_path is None:
            raise ValueError(f"no unit with id {unit_id}")
        query = (
            select(Member.id, Member.full_name, Organisation.id, Organisation.name)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(Member.active, Organisation.path.startswith(unit_path))
            .order_by(Member.id)
        )
        if not include_linked:
            query = query.where(~exists().where(ChannelAccount.member_id == Member.id))
        members = sorted((await self._session.execute(query)).all(), key=_list_order)
        member_ids = [row[0] for row in members]
        for start in range(0, len(member_ids), _CHUNK):
            chunk = member_ids[start : start + _CHUNK]
            await self._session.execute(
                delete(ActivationCode).where(
                    ActivationCode.member_id.in_(chunk), ActivationCode.used_at.is_(None)
                )
            )
        codes = await self._fresh_codes(len(members))
        expires_at = now + VALID_FOR
        rows = [
            {
                "member_id": member_id,
                "code_hash": hash_code(self._keys, code),
                "created_at": now,
                "expires_at": expires_at,
                "issued_by": issued_by,
            }
            for member_id, code in zip(member_ids, codes, strict=True)
        ]
        for start in range(0, len(rows), _CHUNK):
            await self._session.execute(insert(ActivationCode), rows[start : start + _CHUNK])
        return [
            IssuedCode(member_id, full_name, org_id, org_name, code, expires_at)
            for (member_id, full_name, org_id, org_name), code in zip(members, codes, strict=True)
        ]

    async def _fresh_codes(self, count: int) -> list[str]:
        """`count` distinct codes whose hashes are not stored yet (a clash is rare, but with
        used codes kept it is not impossible)."""
        codes: dict[str, str] = {}
        while len(codes) < count:
            batch = {
                hash_code(self._keys, c): c
                for c in (generate_code() for _ in range(count - len(codes)))
            }
            batch = {h: c for h, c in batch.items() if h not in codes}
            hashes = list(batch)
            for start in range(0, len(hashes), _CHUNK):
                chunk = hashes[start : start + _CHUNK]
                taken = await self._session.scalars(
                    select(ActivationCode.code_hash).where(ActivationCode.code_hash.in_(chunk))
                )
                for code_hash in taken:
                    del batch[code_hash]
            codes.update(batch)
        return list(codes.values())

    async def redeem(self, code: str, *, now: datetime) -> int | None:
        """The member a valid code belongs to, marking the code used; None for a code that is
        unknown, used, expired, or whose member left the roster. Atomic: of two concurrent
        redemptions only one gets the member."""
        normalised = normalise_code(code)
        if not _looks_like_code(normalised):
            return None
        return await self._session.scalar(
            update(ActivationCode)
            .where(
                ActivationCode.code_hash == hash_code(self._keys, normalised),
                ActivationCode.used_at.is_(None),
                ActivationCode.expires_at > now,
                ActivationCode.member_id.in_(select(Member.id).where(Member.active)),
            )
            .values(used_at=now)
            .returning(ActivationCode.member_id)
            .execution_options(synchronize_session=False)
        )
