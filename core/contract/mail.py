"""Mail for plugins: ``ctx.mail.queue(...)`` writes to the outbox in the caller's transaction."""

from __future__ import annotations

import re

__all__ = ["ADDRESS", "MailError"]

# A plain address check (one @, a dot in the domain, no spaces or angle brackets); delivery proves the rest.
ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class MailError(ValueError):
    """A mail that cannot be queued; ``field`` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
