"""`sotay role grant|revoke|list`: who is secretary, deputy secretary, trainer or admin."""

from __future__ import annotations

import argparse

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.errors import CliError
from bot.cli.org import PATH_HELP, unit_at
from bot.cli.session import operator, run_in_transaction
from bot.models import Member
from bot.services.organisations import UnitTree, load_tree
from bot.services.permissions import Role
from bot.services.roles import RoleError, RoleService
from bot.services.roster_file import canonical_card

_ROLE_NAMES = {
    Role.SECRETARY: "bí thư",
    Role.DEPUTY_SECRETARY: "phó bí thư",
    Role.TRAINER: "tập huấn viên",
    Role.ADMIN: "quản trị",
}


def _where(tree: UnitTree, unit_id: int | None) -> str:
    return "everywhere" if unit_id is None else tree.names_path(unit_id)


async def member_by_card(session: AsyncSession, card: str) -> tuple[int, str]:
    """The id and name of the member with this card number; CliError if none."""
    found = (
        await session.execute(
            select(Member.id, Member.full_name).where(Member.card_number == canonical_card(card))
        )
    ).one_or_none()
    if found is None:
        raise CliError("no member with that card number on the roster")
    return found[0], found[1]


def _change(args: argparse.Namespace, grant: bool) -> int:
    role = Role(args.role)

    async def change(session: AsyncSession) -> tuple[bool, str, str]:
        member_id, name = await member_by_card(session, args.card)
        tree = await load_tree(session)
        unit_id = None if args.unit is None else unit_at(tree, args.unit).id
        roles = RoleService(session)
        try:
            if grant:
                done = await roles.grant(member_id, role, unit_id, actor=operator())
            else:
                done = await roles.revoke(member_id, role, unit_id, actor=operator())
        except RoleError as exc:
            raise CliError(str(exc)) from None
        return done, name, _where(tree, unit_id)

    done, name, where = run_in_transaction(change)
    if grant:
        print(f"{name}: {role} ({where}) {'granted' if done else 'was already granted'}")
    else:
        print(f"{name}: {role} ({where}) {'revoked' if done else 'was not granted'}")
    return 0


def _list(args: argparse.Namespace) -> int:
    async def listing(session: AsyncSession) -> list[str]:
        tree = await load_tree(session)
        path = unit_at(tree, args.unit).path if args.unit else None
        grants = await RoleService(session).list_grants(path)
        # Admins first, then by unit as the tree names it.
        rows = sorted(
            (g.unit_id is not None, _where(tree, g.unit_id), g.role, g.full_name) for g in grants
        )
        return [f"{role:<17} {where}  {name}" for _, where, role, name in rows]

    lines = run_in_transaction(listing)
    print("\n".join(lines) if lines else "no roles granted")
    return 0


def _add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("card", metavar="CARD", help="the member's Party card number")
    parser.add_argument(
        "--role",
        required=True,
        choices=[str(role) for role in Role],
        help="; ".join(f"{role} ({name})" for role, name in _ROLE_NAMES.items()),
    )
    parser.add_argument(
        "--unit", metavar="PATH", help=f"the unit ({PATH_HELP}); required except for admin"
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    role = subparsers.add_parser(
        "role",
        help="grant, revoke and list roles",
        description="Roles: a secretary or deputy secretary of a unit, a trainer for a unit "
        "(repeat the grant for each further unit), or an admin over everything. A role on "
        "a unit covers every unit under it.",
    )
    actions = role.add_subparsers(dest="action", metavar="ACTION", required=True)
    grant = actions.add_parser("grant", help="give a member a role", description="Give a role.")
    _add_target(grant)
    grant.set_defaults(func=lambda args: _change(args, grant=True))
    revoke = actions.add_parser(
        "revoke", help="take a role away", description="Take a role away from a member."
    )
    _add_target(revoke)
    revoke.set_defaults(func=lambda args: _change(args, grant=False))
    listing = actions.add_parser(
        "list",
        help="list granted roles",
        description="List granted roles: role, unit, member name.",
    )
    listing.add_argument(
        "--unit", metavar="PATH", help="only roles on this unit and the units under it"
    )
    listing.set_defaults(func=_list)
