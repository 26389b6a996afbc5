"""ASGI entry point for serving the simulator with granian: configuration comes from the environment,
because granian imports the app in its worker process and cannot pass arguments to it.

``CC_SIM_DATABASE`` (required), ``CC_SIM_USER``, ``CC_SIM_PASSWORD`` (required), ``CC_SIM_GENERATE``,
``CC_SIM_SEED``, ``CC_SIM_SESSION_TOKEN`` (optional) and ``CC_SIM_REQUIRE_APP_CONTEXT`` (``1``, the
default, refuses v1.4 requests without the application-context header; ``0`` accepts them). The
``simulate customer-connect`` command sets them.
"""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar

from simulators.customer_connect.app import SimulatorConfig, create_app


def app_from_env() -> Litestar:
    env = os.environ
    return create_app(
        SimulatorConfig(
            database=Path(env["CC_SIM_DATABASE"]),
            user=env.get("CC_SIM_USER", "admin"),
            password=env["CC_SIM_PASSWORD"],
            generate=int(env.get("CC_SIM_GENERATE", "0")),
            seed=int(env.get("CC_SIM_SEED", "0")),
            session_token=env.get("CC_SIM_SESSION_TOKEN") or None,
            require_app_context=env.get("CC_SIM_REQUIRE_APP_CONTEXT", "1") == "1",
        )
    )
