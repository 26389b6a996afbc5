"""The ASGI entry point granian serves (``core.asgi:app``): settings from the environment and hub.toml."""

from __future__ import annotations

from core.app import create_app
from core.hub import Hub
from core.logs import configure_logging
from core.settings import load_settings

settings = load_settings()
configure_logging(settings.log_level)
app = create_app(Hub(settings), freeze_gc=True)
