"""The simulated CCB server: a ``LocalCcb`` on its own database, served over HTTP in CCB's REST shape.

Routes follow :mod:`core.ccb.rest` (one ``GET`` per port read, ``POST /ccb/ops/{operation}`` per write,
errors as docs/ccb-domain.md §1.18 problem documents). Faults for outage drills are switchable while it runs:

* ``POST /_faults {"latency_ms": M, "error_rate": P, "down": true|false, "drop_responses": N}``;
  ``GET /_faults`` shows them. ``error_rate`` answers a random share of requests 503 *before* any work
  (so a retry is always safe). ``drop_responses`` does the work of the next N writes and then answers 503
  anyway — the lost-answer case that only idempotency keys make safe to retry.
* ``down: true`` answers every request except ``/_faults`` and ``/_health`` with 503. The port stays open
  (so a drill can switch CCB back on through the same server); a refused connection is what stopping the
  process gives, and the connector treats both the same way.

Configuration for ``create_app_from_env`` (what ``ccbhub simulate ccb`` sets before starting granian):
``CCB_SIM_DATABASE`` (SQLAlchemy async URL), ``CCB_SIM_SECRET_KEY`` (the identity-hash key's source),
``CCB_SIM_LATENCY_MS``, ``CCB_SIM_ERROR_RATE``.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.handlers import HTTPRouteHandler

from core.ccb import rest
from core.ccb.errors import CcbError, Invalid
from core.ccb.local import LocalCcb
from core.ccb.port import WRITE_OPERATIONS
from core.ccb.seed import identity_key
from core.clock import Clock, SystemClock
from core.db import Database

__all__ = ["DEFAULT_DATABASE", "DEFAULT_SECRET", "Faults", "app", "create_app", "create_app_from_env"]

DEFAULT_DATABASE = "sqlite+aiosqlite:///var/ccb-sim.db"
# A fixed, public key so the seeded demo codes verify across restarts; this is a simulator, not CCB.
DEFAULT_SECRET = "ccb-simulator-demo-key"
CONTROL_PATHS = ("/_faults", "/_health")
JSON = "application/json"


class FaultUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    latency_ms: int | None = msgspec.field(default=None)
    error_rate: float | None = None
    down: bool | None = None
    drop_responses: int | None = None


@dataclass(slots=True)
class Faults:
    """What the server does wrong on purpose; mutable while it runs."""

    latency_ms: int = 0
    error_rate: float = 0.0
    down: bool = False
    drop_responses: int = 0

    def apply(self, update: FaultUpdate) -> None:
        if update.latency_ms is not None:
            if not 0 <= update.latency_ms <= 60_000:
                raise Invalid("latency_ms", "must be 0 to 60000")
            self.latency_ms = update.latency_ms
        if update.error_rate is not None:
            if not 0.0 <= update.error_rate <= 1.0:
                raise Invalid("error_rate", "must be between 0 and 1")
            self.error_rate = update.error_rate
        if update.down is not None:
            self.down = update.down
        if update.drop_responses is not None:
            if update.drop_responses < 0:
                raise Invalid("drop_responses", "must be 0 or more")
            self.drop_responses = update.drop_responses

    def view(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "down": self.down,
            "drop_responses": self.drop_responses,
        }


def _json(body: Any, status: int = 200) -> Response[bytes]:
    return Response(content=msgspec.json.encode(body), status_code=status, media_type=JSON)


def _problem(exc: CcbError) -> Response[bytes]:
    doc = rest.problem_for(exc)
    return _json(doc, doc.http_status)


def _unavailable(detail: str) -> Response[bytes]:
    doc = rest.Problem(
        http_status=503, problem_type="unavailable", title="Service unavailable", detail=detail
    )
    return _json(doc, 503)


def _read_handler(name: str, route: rest.ReadRoute, ccb: LocalCcb) -> HTTPRouteHandler:
    path = route.path
    for param in route.path_params:
        path = path.replace("{" + param + "}", "{" + param + ":str}")

    async def handler(request: Request[Any, Any, Any]) -> Response[bytes]:
        kwargs: dict[str, Any] = dict(request.path_params)
        for arg in route.query:
            value = request.query_params.get(arg)
            if value is None:
                continue
            if arg in route.int_query:
                if not value.isdigit():
                    return _problem(Invalid(arg, "must be a whole number"))
                kwargs[arg] = int(value)
            else:
                kwargs[arg] = value
        try:
            result = await getattr(ccb, name)(**kwargs)
        except CcbError as exc:
            return _problem(exc)
        return _json(result)

    return get(path, name=f"ccb-read-{name}", opt={"ccb": name})(handler)


def create_app(
    database_url: str,
    *,
    secret_key: str = DEFAULT_SECRET,
    faults: Faults | None = None,
    clock: Clock | None = None,
    migrate: bool = False,
    seed: int | None = None,
) -> Litestar:
    """The simulator as a Litestar app; ``migrate`` brings its own database up to date on start-up."""
    db = Database(database_url)
    ccb = LocalCcb(db, clock or SystemClock(), identity_key(secret_key))
    state = faults or Faults()
    rng = random.Random(seed)

    async def inject(request: Request[Any, Any, Any]) -> Response[bytes] | None:
        if request.url.path.startswith(CONTROL_PATHS):
            return None
        if state.latency_ms:
            await asyncio.sleep(state.latency_ms / 1000)
        if state.down:
            return _unavailable("CCB is down (simulated outage)")
        if state.error_rate and rng.random() < state.error_rate:
            return _unavailable("CCB answered 503 (simulated intermittent fault)")
        return None

    @post("/ccb/ops/{operation:str}", status_code=200)
    async def write(request: Request[Any, Any, Any]) -> Response[bytes]:
        operation = str(request.path_params["operation"])
        types = WRITE_OPERATIONS.get(operation)
        if types is None:
            return _problem(Invalid("operation", f"unknown operation {operation!r}"))
        request_type, _result_type = types
        try:
            body = msgspec.json.decode(await request.body(), type=rest.WriteBody)
            payload = msgspec.json.decode(body.request, type=request_type)
        except msgspec.ValidationError as exc:
            return _problem(Invalid("request", str(exc)))
        except msgspec.DecodeError as exc:
            return _problem(Invalid("body", f"not valid JSON ({exc})"))
        try:
            result = await getattr(ccb, operation)(
                payload, actor=body.actor, idempotency_key=body.idempotency_key
            )
        except CcbError as exc:
            return _problem(exc)
        if state.drop_responses > 0:
            state.drop_responses -= 1
            return _unavailable("CCB applied the write but the answer was lost (simulated)")
        return _json({"result": result})

    @post("/ccb/accounts/{account_id:str}/verify-identity", status_code=200)
    async def verify(request: Request[Any, Any, Any]) -> Response[bytes]:
        account_id = str(request.path_params["account_id"])
        try:
            body = msgspec.json.decode(await request.body(), type=rest.VerifyBody)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return _problem(Invalid("body", str(exc)))
        if body.method not in {"access_code", "ssn_last4"}:
            return _problem(Invalid("method", "must be access_code or ssn_last4"))
        try:
            ok = await ccb.verify_identity(account_id, body.method, body.value, actor=body.actor)  # type: ignore[arg-type]
        except CcbError as exc:
            return _problem(exc)
        return _json(rest.VerifyAnswer(verified=ok))

    @get("/_faults")
    async def show_faults() -> Response[bytes]:
        return _json(state.view())

    @post("/_faults", status_code=200)
    async def set_faults(request: Request[Any, Any, Any]) -> Response[bytes]:
        try:
            state.apply(msgspec.json.decode(await request.body(), type=FaultUpdate))
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return _problem(Invalid("body", str(exc)))
        except Invalid as exc:
            return _problem(exc)
        return _json(state.view())

    @get("/_health")
    async def health() -> Response[bytes]:
        return _json({"status": "ok", "down": state.down})

    async def startup() -> None:
        if migrate:
            from core.migrate import upgrade

            # Alembic's env runs its own event loop, so it must not run on this one.
            await asyncio.to_thread(upgrade, database_url)

    async def shutdown() -> None:
        await db.dispose()

    handlers: list[Any] = [write, verify, show_faults, set_faults, health]
    handlers += [_read_handler(name, route, ccb) for name, route in rest.READ_ROUTES.items()]
    application = Litestar(
        route_handlers=handlers,
        before_request=inject,
        on_startup=[startup],
        on_shutdown=[shutdown],
        openapi_config=None,
    )
    application.state["ccb"] = ccb
    application.state["faults"] = state
    return application


def create_app_from_env(env: dict[str, str] | None = None) -> Litestar:
    """The app configured by ``CCB_SIM_*`` variables (the way the CLI hands options to granian workers)."""
    source = dict(os.environ) if env is None else env
    faults = Faults(
        latency_ms=int(source.get("CCB_SIM_LATENCY_MS", "0")),
        error_rate=float(source.get("CCB_SIM_ERROR_RATE", "0")),
    )
    return create_app(
        source.get("CCB_SIM_DATABASE", DEFAULT_DATABASE),
        secret_key=source.get("CCB_SIM_SECRET_KEY", DEFAULT_SECRET),
        faults=faults,
        migrate=True,
    )


class _LazyApp:
    """Builds the env-configured app on first use, so importing this module opens no database."""

    def __init__(self, factory: Callable[[], Litestar]) -> None:
        self._factory = factory
        self._app: Litestar | None = None

    def __call__(self, scope: Any, receive: Any, send: Any) -> Awaitable[None]:
        if self._app is None:
            self._app = self._factory()
        return self._app(scope, receive, send)


app = _LazyApp(create_app_from_env)
