"""The ASGI entry point granian serves (``core.asgi:app``): settings from the environment and hub.toml."""

from __future__ import annotations

import logging

from core.app import create_app
from core.hub import Hub
from core.redact import install_log_redaction
from core.settings import load_settings

settings = load_settings()
logging.basicConfig(
    level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
)
# After the handlers exist: every record any logger writes goes out with card numbers and SSNs masked.
install_log_redaction()
app = create_app(Hub(settings), freeze_gc=True)
