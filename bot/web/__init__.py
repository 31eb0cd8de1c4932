"""The web console under /admin/ for the committee's staff, secretaries and trainers:
server-rendered pages over the same services as the chat, signed in by one-time links."""

from bot.web.app import build_admin_app

__all__ = ["build_admin_app"]
