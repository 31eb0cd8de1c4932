"""Messages from different chats are answered at the same time; messages from one chat one
after another, in the order they came (a double tap, or a contact after the card number,
must not overtake the message before it). The intake (bot/channels/intake.py) keeps that
order: it takes a chat's next update only once the one before is finished."""

from __future__ import annotations

# How many messages a process answers at once. Each holds a database connection while its
# transaction runs; the rest wait their turn in the intake table.
CONCURRENT_UPDATES = 64
