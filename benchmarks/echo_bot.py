"""The yardstick of benchmarks/throughput.py: python-telegram-bot's echo bot as its examples
write it (defaults: HTTPX, one update at a time), polling TELEGRAM_BASE_URL with
TELEGRAM_TOKEN. Stops on SIGTERM."""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


def main() -> None:
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_TOKEN"])
        .base_url(f"{os.environ['TELEGRAM_BASE_URL']}/bot")
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_polling(timeout=10, allowed_updates=[Update.MESSAGE])


if __name__ == "__main__":
    main()
