"""The checks every versioned Connect REST request passes, in the order a client meets them.

1. The version: ``/services/rest/connect/{version}`` must name one of :data:`model.VERSIONS`; another is
   404 with OSC-CREST-00003 ("An unsupported version of Connect REST API was used").
2. The credentials (REST API for Accessing Data, "Authentication"): HTTP Basic with an account's login and
   password, or ``Authorization: Session <token>`` with a session token an agent session hands to an
   add-in. This site knows one API account and, optionally, one session token. Anything else is 401
   with OSC-CREST-00014 and a Basic challenge.
3. The application context ("Custom Headers"): from CCOM v1.4 onwards ``OSvC-CREST-Application-Context``
   is required and a request without it fails with 400; its text may be at most 40 characters, longer is
   400 too. Earlier versions accept a request without it but still refuse an over-long one. The
   simulator enforces the v1.4 requirement when ``SimulatorConfig.require_app_context`` is set.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from simulators.customer_connect import model
from simulators.customer_connect.errors import ConnectProblem

__all__ = ["APP_CONTEXT_HEADER", "MAX_APP_CONTEXT", "connect_guard", "requires_app_context"]

APP_CONTEXT_HEADER = "OSvC-CREST-Application-Context"
MAX_APP_CONTEXT = 40
# The versions from which the header is required ("latest" is v1.4 here).
_CONTEXT_VERSIONS = frozenset({"v1.4", "latest"})


def requires_app_context(version: str) -> bool:
    return version in _CONTEXT_VERSIONS


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


def _authenticated(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    config = connection.app.state.config
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    scheme, token = scheme.lower(), token.strip()
    if scheme == "session" and token:
        return config.session_token is not None and _same(token, config.session_token)
    if scheme != "basic" or not token:
        return False
    try:
        user, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        user, password = "", ""
    # Compare both parts every time so a wrong user and a wrong password take the same path.
    user_ok = _same(user, config.user)
    password_ok = _same(password, config.password)
    return user_ok and password_ok


def connect_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """Version, then credentials, then the application-context rule (see the module docstring)."""
    version = str(connection.path_params.get("version", ""))
    if version not in model.VERSIONS:
        raise ConnectProblem(
            404,
            f"version {version!r} is not supported; use one of {', '.join(model.VERSIONS)}",
            "OSC-CREST-00003",
        )
    if not _authenticated(connection):
        raise ConnectProblem(
            401,
            "valid credentials are required (HTTP Basic or an agent session)",
            "OSC-CREST-00014",
            headers={"WWW-Authenticate": 'Basic realm="Connect"'},
        )
    context = connection.headers.get(APP_CONTEXT_HEADER)
    if context is not None and len(context) > MAX_APP_CONTEXT:
        raise ConnectProblem(
            400, f"{APP_CONTEXT_HEADER} is limited to {MAX_APP_CONTEXT} characters", "OSC-CREST-00016"
        )
    if not context and requires_app_context(version) and connection.app.state.config.require_app_context:
        raise ConnectProblem(
            400, f"the {APP_CONTEXT_HEADER} header is required from version v1.4 on", "OSC-CREST-00016"
        )
