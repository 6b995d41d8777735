"""A local fake of the Telegram Bot API for end-to-end tests and the sandbox page.

Speaks real Bot API JSON, enforces what Telegram enforces, and simulates users.
"""

from sandbox.botapi.limits import Fault, Faults
from sandbox.botapi.models import Limits, SentRequest, SimUser, StoredMessage, Violation
from sandbox.botapi.server import DEFAULT_TOKEN, BotApiServer

__all__ = [
    "DEFAULT_TOKEN",
    "BotApiServer",
    "Fault",
    "Faults",
    "Limits",
    "SentRequest",
    "SimUser",
    "StoredMessage",
    "Violation",
]
