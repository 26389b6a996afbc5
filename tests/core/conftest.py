"""The browser fixtures for the core's pages (tests/core/contact/test_browser.py and
tests/core/runtime/test_dashboard_browser.py), shared with the plugins' browser tests.

pytest refuses ``pytest_plugins`` outside the root conftest, so the fixtures are imported by name: a
fixture function found in a conftest module serves every test below it.
"""

from tests.e2e.conftest import browser_page, chromium_path, live_hub

__all__ = ["browser_page", "chromium_path", "live_hub"]
