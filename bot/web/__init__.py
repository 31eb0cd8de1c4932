"""The web console under /admin/ for the committee's staff, secretaries and trainers:
server-rendered pages over the same services as the chat, signed in by one-time links
(bot.web.app builds it; bot.web.paths says where it lives)."""
