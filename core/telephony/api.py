"""HTTP API of the telephony state (mounted at ``/api/phone``): Finesse-style agents, dialogs and queues.

Each resource is a Litestar ``Controller``; the part's service and the bus reach the handlers through
``Provide`` (:mod:`core.telephony.deps`), so no handler closes over a hub.

Commands answer ``202 Accepted`` with an empty body, as Finesse does (docs/telephony.md §1.1): the outcome is
an event — the new agent or dialog snapshot, or a ``hub.phone.agent.error`` — on the bus and on the
caller's server-sent-event stream (``GET /events``).  Only malformed requests fail at once (400), along
with 403 (not yours to act on) and 404 (no such agent or dialog).  The optional ``requestId`` header is
echoed on the response and carried by any asynchronous error it causes (§1.1).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.enums import MediaType
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.params import FromPath, JSONBody, QueryParameter, SkipValidation
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_202_ACCEPTED

from core.bus import Bus, Envelope, Subscription, encode_envelope
from core.contract.scope import CONTACT, NONE
from core.security import current_staff
from core.telephony.deps import provide_bus, provide_service
from core.telephony.events import ALL_EVENTS, AgentSnapshot, DialogSnapshot, visible_to
from core.telephony.service import PHONE_NUMBER, Actor, PhoneRequestError, QueueStats, TelephonyService

STAFF = {"access": "staff"}
# The simulated phone system announces calls and acts for outside parties; leads and admins may play it.
PHONE_SYSTEM = {"roles": ["lead", "admin"]}
# A stream sends a comment this often so proxies keep an idle connection open.
KEEPALIVE_S = 15.0
# Events buffered for a slow stream reader before the stream is told it fell behind.
STREAM_BUFFER = 1000

StateName = Literal[
    "LOGIN",
    "LOGOUT",
    "NOT_READY",
    "READY",
    "RESERVED",
    "TALKING",
    "HOLD",
    "WORK",
    "WORK_READY",
]
ActionName = Literal[
    "ANSWER",
    "HOLD",
    "RETRIEVE",
    "DROP",
    "CONSULT_CALL",
    "TRANSFER",
    "CONFERENCE",
    "TRANSFER_SST",
    "UPDATE_CALL_DATA",
]
Address = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
VariableValue = Annotated[str, msgspec.Meta(max_length=200)]


class StateRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``PUT /agents/{id}/state``.  Only READY, NOT_READY and LOGOUT can be asked for (§1.3); LOGIN with an
    ``extension`` signs in, as Finesse's ``PUT User`` does (§1.2)."""

    state: StateName
    reasonCodeId: int | None = None
    extension: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class SignInRequest(msgspec.Struct, forbid_unknown_fields=True):
    extension: Annotated[str, msgspec.Meta(max_length=32)]


class InboundCallRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A call the phone system delivers to a queue (name or number); ``ani`` is the caller's number."""

    ani: Annotated[str, msgspec.Meta(pattern=PHONE_NUMBER)]
    queue: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    dnis: Annotated[str, msgspec.Meta(pattern=PHONE_NUMBER)] | None = None
    callVariables: dict[Annotated[str, msgspec.Meta(max_length=64)], VariableValue] = {}


class DialogRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``PUT /dialogs/{id}`` (§1.7): ``targetMediaAddress`` is the acting participant (default: your own
    extension); ``toAddress`` the destination of CONSULT_CALL and TRANSFER_SST — a queue name or number,
    an agent's extension, or an external directory label or number (§4)."""

    action: ActionName
    targetMediaAddress: Address | None = None
    toAddress: Address | None = None
    callVariables: dict[Annotated[str, msgspec.Meta(max_length=64)], VariableValue] | None = None
    wrapUpReason: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None


class DirectoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    number: str


def _actor(request: Request[Any, Any, Any]) -> Actor:
    staff = current_staff(request)
    return Actor(staff.name, staff.role.value)


def _request_id(request: Request[Any, Any, Any]) -> str | None:
    value = request.headers.get("requestid")
    if value is not None and not (0 < len(value) <= 64 and value.isprintable()):
        raise ValidationException("requestId: at most 64 printable characters", extra=[{"key": "requestId"}])
    return value


def _accepted(request_id: str | None, location: str | None = None) -> Response[bytes]:
    headers: dict[str, str] = {}
    if request_id is not None:
        headers["requestId"] = request_id
    if location is not None:
        headers["Location"] = location
    return Response(b"", status_code=HTTP_202_ACCEPTED, media_type=MediaType.TEXT, headers=headers)


def _http_error(exc: PhoneRequestError) -> HTTPException:
    if exc.status == 403:
        return PermissionDeniedException(exc.message)
    if exc.status == 404:
        return NotFoundException(exc.message)
    if exc.status == 409:
        return ClientException(exc.message, status_code=409)
    if exc.field:
        return ValidationException(str(exc), extra=[{"key": exc.field, "message": exc.message}])
    return ValidationException(exc.message)


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    """Turn the service's synchronous refusals into their HTTP answers."""
    try:
        yield
    except PhoneRequestError as exc:
        raise _http_error(exc) from None


class _EventStream:
    """One SSE client's view of ``hub.phone.>``: its own agent's (and, for a lead, the team's) events."""

    def __init__(self, service: Service, visible: frozenset[str] | None, limit: int | None) -> None:
        self.service = service
        self.visible = visible
        self.limit = limit
        self.queue: asyncio.Queue[Envelope] = asyncio.Queue(maxsize=STREAM_BUFFER)
        self.overflow = False

    async def deliver(self, env: Envelope) -> None:
        if not visible_to(env, self.visible):
            return
        try:
            self.queue.put_nowait(env)
        except asyncio.QueueFull:
            self.overflow = True

    async def messages(self, subscription: Subscription) -> AsyncIterator[ServerSentEventMessage]:
        sent = 0
        try:
            while self.limit is None or sent < self.limit:
                if self.overflow and self.queue.empty():
                    # Events were dropped: tell the client to fetch fresh snapshots and reconnect.
                    yield ServerSentEventMessage(event="overflow", data="events were dropped; resync")
                    return
                try:
                    async with asyncio.timeout(KEEPALIVE_S):
                        env = await self.queue.get()
                except TimeoutError:
                    yield ServerSentEventMessage(data=None, comment="keep-alive")
                    continue
                yield ServerSentEventMessage(id=env.id, event=env.subject, data=encode_envelope(env).decode())
                sent += 1
        finally:
            self.service.open_streams -= 1
            # Shielded: a client going away cancels this stream, but the subscription must still go.
            await asyncio.shield(subscription.unsubscribe())


# What every telephony handler may ask for by parameter name.  Access policies stay on the handlers, not the
# Controllers, so the OPTIONS handlers Litestar adds keep declaring none (the guard refuses them, as before).
DEPENDENCIES = {"service": Provide(provide_service), "bus": Provide(provide_bus)}
Service = NamedDependency[TelephonyService]
# The bus is a Protocol, which cannot be checked at run time; the hub's own bus is passed as it is.
EventBus = NamedDependency[SkipValidation[Bus]]


# Finesse answers any bad input with 400 (Invalid Input / Invalid State, docs/telephony.md §1.1), and so does
# this API; the app's body decoding keeps that status for these controllers.
FINESSE_BAD_INPUT = {"bad_input_status": 400}


class AgentController(Controller):
    """Agents (§1.2-§1.5): state requests, sign-in, snapshots and their current calls."""

    path = "/agents"
    tags = ["phone"]
    opt = FINESSE_BAD_INPUT
    dependencies = DEPENDENCIES

    @put("/{agent_id:str}/state", status_code=HTTP_202_ACCEPTED, opt=STAFF, customer_data=NONE)
    async def set_state(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        agent_id: FromPath[str],
        data: JSONBody[StateRequest],
    ) -> Response[bytes]:
        """Ask for READY, NOT_READY (with ``reasonCodeId``) or LOGOUT; the outcome arrives as an event."""
        request_id = _request_id(request)
        with _answers():
            await service.set_state(
                _actor(request),
                agent_id,
                data.state,
                data.reasonCodeId,
                extension=data.extension,
                request_id=request_id,
            )
        return _accepted(request_id)

    @post("/{agent_id:str}/sign-in", status_code=HTTP_202_ACCEPTED, opt=STAFF, customer_data=NONE)
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        agent_id: FromPath[str],
        data: JSONBody[SignInRequest],
    ) -> Response[bytes]:
        """Sign in on an extension; an unusable one gives an Invalid Device (or Device Busy) error event."""
        request_id = _request_id(request)
        with _answers():
            await service.sign_in(_actor(request), agent_id, data.extension, request_id=request_id)
        return _accepted(request_id)

    @get("/", opt=STAFF, customer_data=NONE)
    async def list_agents(self, request: Request[Any, Any, Any], service: Service) -> list[AgentSnapshot]:
        """A CSR gets their own agent, a lead their teams', an admin everyone's."""
        return await service.list_agents(_actor(request))

    @get("/{agent_id:str}", opt=STAFF, customer_data=NONE)
    async def get_agent(
        self, request: Request[Any, Any, Any], service: Service, agent_id: FromPath[str]
    ) -> AgentSnapshot:
        with _answers():
            return await service.get_agent(_actor(request), agent_id)

    @get("/{agent_id:str}/dialogs", opt=STAFF, customer_data=CONTACT)
    async def agent_dialogs(
        self, request: Request[Any, Any, Any], service: Service, agent_id: FromPath[str]
    ) -> list[DialogSnapshot]:
        """The agent's current calls, including any it is still wrapping up."""
        with _answers():
            return await service.agent_dialogs(_actor(request), agent_id)


class CallDeliveryController(Controller):
    """The phone system's side: a call arrives at a queue (only leads and admins may play it)."""

    path = "/dialogs"
    tags = ["phone"]
    opt = FINESSE_BAD_INPUT
    dependencies = DEPENDENCIES

    @post("/", status_code=HTTP_202_ACCEPTED, opt=PHONE_SYSTEM, customer_data=CONTACT)
    async def inbound_call(
        self, request: Request[Any, Any, Any], service: Service, data: JSONBody[InboundCallRequest]
    ) -> Response[bytes]:
        """The phone system delivers a call to a queue; ``Location`` names the new dialog."""
        request_id = _request_id(request)
        with _answers():
            dialog_id = await service.inbound_call(
                _actor(request), data.ani, data.queue, dnis=data.dnis, call_variables=data.callVariables
            )
        return _accepted(request_id, location=f"{request.url.path.rstrip('/')}/{dialog_id}")


class DialogController(Controller):
    """Calls (§1.7, §4): a dialog's snapshot and the actions its participants request."""

    path = "/dialogs"
    tags = ["phone"]
    opt = FINESSE_BAD_INPUT
    dependencies = DEPENDENCIES

    @get("/{dialog_id:str}", opt=STAFF, customer_data=CONTACT)
    async def get_dialog(
        self, request: Request[Any, Any, Any], service: Service, dialog_id: FromPath[str]
    ) -> DialogSnapshot:
        with _answers():
            return await service.get_dialog(_actor(request), dialog_id)

    @put("/{dialog_id:str}", status_code=HTTP_202_ACCEPTED, opt=STAFF, customer_data=CONTACT)
    async def dialog_action(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        dialog_id: FromPath[str],
        data: JSONBody[DialogRequest],
    ) -> Response[bytes]:
        """Request a call action (§1.7): ANSWER, HOLD, RETRIEVE, DROP, CONSULT_CALL, TRANSFER, …"""
        request_id = _request_id(request)
        with _answers():
            await service.dialog_action(
                _actor(request),
                dialog_id,
                data.action,
                target=data.targetMediaAddress,
                to_address=data.toAddress,
                call_variables=data.callVariables,
                wrap_up_reason=data.wrapUpReason,
                request_id=request_id,
            )
        return _accepted(request_id)


class PhoneSetupController(Controller):
    """What the centre is set up with: queue figures, reason codes, wrap-up reasons, the directory."""

    path = "/"
    tags = ["phone"]
    opt = FINESSE_BAD_INPUT
    dependencies = DEPENDENCIES

    @get("/queues", opt=STAFF, customer_data=NONE)
    async def queues(self, service: Service) -> list[QueueStats]:
        """Calls waiting and agents by state, per queue."""
        return await service.queue_stats()

    @get("/reason-codes", opt=STAFF, customer_data=NONE)
    async def reason_codes(
        self, request: Request[Any, Any, Any], service: Service
    ) -> dict[str, list[dict[str, Any]]]:
        """The Not Ready and Logout reason codes the caller may choose (§1.5)."""
        return service.reason_codes(service.plan.team_of.get(current_staff(request).name))

    @get("/wrap-up-reasons", opt=STAFF, customer_data=NONE)
    async def wrap_up_reasons(self, service: Service) -> list[str]:
        return list(service.config.wrap_up.reasons)

    @get("/directory", opt=STAFF, customer_data=NONE)
    async def directory(self, service: Service) -> list[DirectoryEntry]:
        """Outside numbers a call may be transferred to (§4)."""
        return [DirectoryEntry(label=k, number=v) for k, v in service.config.external_directory.items()]


class EventStreamController(Controller):
    """The caller's server-sent event stream of ``hub.phone.>``."""

    path = "/events"
    tags = ["phone"]
    opt = FINESSE_BAD_INPUT
    dependencies = DEPENDENCIES

    @get("/", opt=STAFF, customer_data=CONTACT)
    async def events(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        bus: EventBus,
        limit: Annotated[int | None, QueryParameter(name="limit", ge=1, le=1000)] = None,
    ) -> ServerSentEvent:
        """Server-sent events of the caller's agent and calls (a lead's: also the team's).

        ``limit`` closes the stream after that many events (a long-poll style client); without it the
        stream stays open, with a keep-alive comment every 15 seconds.
        """
        stream = _EventStream(service, service.visible_agents(_actor(request)), limit)
        subscription = await bus.subscribe(ALL_EVENTS, stream.deliver)
        service.open_streams += 1
        return ServerSentEvent(stream.messages(subscription))


# The part's JSON API, with paths relative to its ``ROUTE_PREFIX``.
CONTROLLERS: tuple[type[Controller], ...] = (
    AgentController,
    CallDeliveryController,
    DialogController,
    PhoneSetupController,
    EventStreamController,
)
