"""An ASGI app for browser tests: the hub from the environment plus the example plugin (not installed)."""

from __future__ import annotations

from core.app import create_app
from core.hub import Hub
from core.settings import load_settings
from tests import example_plugin

app = create_app(Hub(load_settings(), extra_plugins=[example_plugin]))
