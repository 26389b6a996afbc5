"""The ASGI entry point granian serves (``core.asgi:app``): settings from the environment and hub.toml."""

from __future__ import annotations

import logging

from core.app import create_app
from core.hub import Hub
from core.settings import load_settings

settings = load_settings()
logging.basicConfig(
    level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
)
app = create_app(Hub(settings), freeze_gc=True)
