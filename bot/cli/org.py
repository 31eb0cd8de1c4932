"""`sotay org list|rename|move|merge`: the organisation tree, and how every command finds a
unit from its names path ("Đảng bộ tỉnh/Đảng bộ xã A/Chi bộ thôn 1")."""

from __future__ import annotations

import argparse
import unicodedata
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.errors import CliError
from bot.cli.session import operator, run_in_transaction
from bot.services.organisations import (
    PATH_SEPARATOR,
    Unit,
    UnitTree,
    load_tree,
    member_counts,
    split_unit_path,
)
from bot.services.unit_changes import UnitChangeError, UnitChangeService

T = TypeVar("T")
PATH_HELP = 'names from the top down, separated by "/", as in the roster\'s "Đơn vị" column'


def unit_at(tree: UnitTree, path_text: str) -> Unit:
    """The active unit at this names path; CliError if there is none."""
    names = split_unit_path(unicodedata.normalize("NFC", path_text))
    if not names:
        raise CliError(f"give a unit path ({PATH_HELP})")
    unit = tree.find(names)
    shown = PATH_SEPARATOR.join(names)
    if unit is None:
        raise CliError(f"no unit “{shown}” (see sotay org list)")
    if not unit.active:
        into = unit.merged_into_id
        raise CliError(
            f"unit “{shown}” was merged into “{tree.names_path(into)}”"
            if into is not None
            else f"unit “{shown}” is no longer active"
        )
    return unit


async def find_unit(session: AsyncSession, path_text: str) -> Unit:
    return unit_at(await load_tree(session), path_text)


def _list(args: argparse.Namespace) -> int:
    async def outline(session: AsyncSession) -> list[str]:
        tree = await load_tree(session)
        top = unit_at(tree, args.unit) if args.unit else None
        counts = tree.subtree_totals(await member_counts(session))
        lines = []
        for unit in tree.subtree(None if top is None else top.id):
            if not unit.active and not args.all:
                continue
            depth = unit.depth - (top.depth if top else 0)
            note = ""
            if unit.merged_into_id is not None:
                note = f"  [merged into {tree.names_path(unit.merged_into_id)}]"
            elif not unit.active:
                note = "  [inactive]"
            count = counts.get(unit.id, 0)
            lines.append(
                f"{'  ' * depth}{unit.name}  ({count} member{'' if count == 1 else 's'}){note}"
            )
        return lines

    lines = run_in_transaction(outline)
    print("\n".join(lines) if lines else "the organisation tree is empty")
    return 0


def _rename(args: argparse.Namespace) -> int:
    async def rename(session: AsyncSession) -> str:
        unit = await find_unit(session, args.path)
        await UnitChangeService(session).rename(unit.id, args.new_name, actor=operator())
        return unit.name

    old = _changing(rename)
    print(f"renamed “{old}” to “{' '.join(args.new_name.split())}”")
    return 0


def _move(args: argparse.Namespace) -> int:
    async def move(session: AsyncSession) -> int:
        tree = await load_tree(session)
        unit = unit_at(tree, args.path)
        top = args.new_parent.strip() == PATH_SEPARATOR
        parent = None if top else unit_at(tree, args.new_parent).id
        return await UnitChangeService(session).move(unit.id, parent, actor=operator())

    moved = _changing(move)
    to_top = args.new_parent.strip() == PATH_SEPARATOR
    print(f"moved {moved} unit(s) " + ("to the top" if to_top else f"under “{args.new_parent}”"))
    return 0


def _merge(args: argparse.Namespace) -> int:
    async def merge(session: AsyncSession) -> str:
        tree = await load_tree(session)
        source, target = unit_at(tree, args.source), unit_at(tree, args.into)
        result = await UnitChangeService(session).merge(source.id, target.id, actor=operator())
        return (
            f"merged “{source.name}” into “{target.name}”: {result.members} member(s), "
            f"{result.units} unit(s), {result.grants} role grant(s), "
            f"{result.meetings} meeting(s) moved"
        )

    print(_changing(merge))
    return 0


def _changing(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run a unit change; its refusal becomes the one error line."""
    try:
        return run_in_transaction(work)
    except UnitChangeError as exc:
        raise CliError(str(exc)) from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    org = subparsers.add_parser(
        "org",
        help="the organisation tree: list, rename, move, merge units",
        description=f"The organisation tree. A PATH is a unit's {PATH_HELP}.",
    )
    actions = org.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        help="print the tree with active member counts",
        description="Print the organisation tree; each unit shows its active members, "
        "counting the units under it.",
    )
    listing.add_argument("--unit", metavar="PATH", help="only this unit and the units under it")
    listing.add_argument("--all", action="store_true", help="also show merged and inactive units")
    listing.set_defaults(func=_list)

    rename = actions.add_parser(
        "rename",
        help="rename a unit",
        description="Rename a unit; its members, the units under it and its history stay.",
    )
    rename.add_argument("path", metavar="PATH", help="the unit")
    rename.add_argument("new_name", metavar="NEW_NAME", help="its new name (one level)")
    rename.set_defaults(func=_rename)

    move = actions.add_parser(
        "move",
        help="put a unit (and everything under it) under another unit",
        description="Put a unit, with its members and every unit under it, under another "
        'parent unit; "/" as NEW_PARENT_PATH makes it a top unit.',
    )
    move.add_argument("path", metavar="PATH", help="the unit to move")
    move.add_argument("new_parent", metavar="NEW_PARENT_PATH", help='its new parent, or "/"')
    move.set_defaults(func=_move)

    merge = actions.add_parser(
        "merge",
        help="merge a unit into another",
        description="Merge SRC_PATH into INTO_PATH: its members, the units under it and its "
        "role grants move to INTO_PATH; SRC_PATH stays in the records as merged (inactive), "
        "so history that names it keeps its meaning.",
    )
    merge.add_argument("source", metavar="SRC_PATH", help="the unit that goes away")
    merge.add_argument("into", metavar="INTO_PATH", help="the unit it goes into")
    merge.set_defaults(func=_merge)
