"""`sotay web login-link`: a one-time sign-in link to the web console for a member with a
role, for an operator at the shell (the bot's /dangnhap sends the same to a linked member)."""

from __future__ import annotations

import argparse

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.errors import CliError
from bot.cli.session import operator, run_in_transaction, services_for
from bot.cli.settings import load_settings
from bot.services.web_logins import LINK_VALID_FOR, NoConsoleAccess


def _login_link(args: argparse.Namespace) -> int:
    base = args.base_url or load_settings().web_base_url

    async def issue(session: AsyncSession) -> str:
        logins = services_for(session).web_logins
        try:
            member_id = await logins.member_by_card(args.card)
            return await logins.link(member_id, issued_by=operator(), base_url=base)
        except NoConsoleAccess:
            # The card is not repeated: it may be a mistyped real number.
            raise CliError(
                "no active member with a secretary, trainer or admin role has that card"
            ) from None

    print(run_in_transaction(issue))
    print(f"(single use, valid {int(LINK_VALID_FOR.total_seconds() // 60)} minutes)")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    web = subparsers.add_parser(
        "web", help="the web console under /admin/", description="The web console."
    )
    actions = web.add_subparsers(dest="action", metavar="ACTION", required=True)
    link = actions.add_parser(
        "login-link",
        help="print a one-time sign-in link for a member with a role",
        description="Print a sign-in link to the web console for the member with this card "
        "(a secretary, trainer or admin). It works once, for "
        f"{int(LINK_VALID_FOR.total_seconds() // 60)} minutes; only its hash is stored.",
    )
    link.add_argument("--card", required=True, metavar="CARD", help="the member's card number")
    link.add_argument(
        "--base-url",
        metavar="URL",
        help="where the console is reached (default SOTAY_WEB_URL, else "
        "http://127.0.0.1:SOTAY_HTTP_PORT)",
    )
    link.set_defaults(func=_login_link)
