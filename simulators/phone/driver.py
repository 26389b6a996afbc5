"""An HTTP driver for the hub's telephony API (``/api/phone``), shared by live mode and the ``phone`` fixture.

The driver plays both sides the hub keeps apart:

* the **phone system**: it announces inbound calls (``POST /dialogs``) and hangs up for callers (``DROP`` on
  the customer's leg).  The hub lets only leads and admins do that, so the driver needs a lead's or an
  admin's token;
* the **agents' desktops**: sign-in, READY, NOT_READY, LOGOUT, ANSWER and DROP on behalf of agents.  A lead's
  token acts on the agents of the lead's teams, an admin's on anyone.  Acting on someone else is a
  supervisor request (docs/telephony.md §1.4), so NOT_READY and LOGOUT go without a reason code and the
  hub records 999; acting on the token's own user is an agent request and takes the first configured
  reason code.

Commands answer 202 and the outcome arrives later as an event (§1.1).  Reads (``GET``) are synchronous and
current, because the hub commits a command before it answers.  The driver keeps the latest snapshot of
every agent it hears about, from events fed to :meth:`PhoneDriver.accept` — read from the hub's
server-sent-event stream by :meth:`PhoneDriver.follow`, or in tests taken straight off the bus — and from
its own reads.

It works through any ``httpx.AsyncClient``: one with a real base URL, or one on an in-process ASGI
transport.  Only paths under that client's base URL are requested, and redirects are not followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import msgspec

from core.bus import Envelope, decode_envelope
from core.telephony.events import AGENT_STATE_CHANGED, DIALOG_CREATED, DIALOG_ENDED, DIALOG_UPDATED

if TYPE_CHECKING:
    from simulators.phone.load import LoadRun, RunSummary, Timeline

__all__ = [
    "API_PREFIX",
    "BUSY_STATES",
    "WRAP_UP_STATES",
    "NoCall",
    "PhoneApiError",
    "PhoneDriver",
    "PhoneDriverError",
]

log = logging.getLogger("ccbhub.simulators.phone")

API_PREFIX = "/api/phone"
ME_PATH = "/api/me"
# Agent states in which an agent is busy with a call (ringing, talking, on hold or wrapping up).
WRAP_UP_STATES = frozenset({"WORK", "WORK_READY"})
ON_CALL_STATES = frozenset({"TALKING", "HOLD"})
BUSY_STATES = frozenset({"RESERVED", *ON_CALL_STATES, *WRAP_UP_STATES})
# Participant states of a leg that is still connected and can be dropped (§1.7).
_DROPPABLE_LEGS = frozenset({"INITIATING", "INITIATED", "ACTIVE", "HELD", "FAILED"})
_DIALOG_SUBJECTS = frozenset({DIALOG_CREATED, DIALOG_UPDATED, DIALOG_ENDED})
# The hub sends a keep-alive comment every 15 s, so a read that waits this long means a dead connection.
_STREAM_READ_TIMEOUT_S = 60.0
_RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 5.0)

Snapshot = dict[str, Any]
EventListener = Callable[[Envelope], None]


class PhoneDriverError(Exception):
    """Something the driver could not do."""


class PhoneApiError(PhoneDriverError):
    """The hub refused a request synchronously (4xx/5xx); ``status`` is the HTTP status."""

    def __init__(self, status: int, method: str, path: str, detail: str) -> None:
        super().__init__(f"{method} {path}: {status} {detail}".rstrip())
        self.status = status
        self.method = method
        self.path = path
        self.detail = detail


class NoCall(PhoneDriverError):
    """The agent has no call in the state the request needs (nothing ringing to answer, nothing to drop)."""


def _detail(response: httpx.Response) -> str:
    """The hub's error message, with the fields it names (Litestar puts them in ``extra``)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if not isinstance(body, dict):
        return str(body)[:200]
    detail = str(body.get("detail", ""))
    extra = body.get("extra")
    if isinstance(extra, list):
        keys = [str(e.get("key")) for e in extra if isinstance(e, dict) and e.get("key")]
        if keys:
            detail = f"{detail} ({', '.join(keys)})"
    return detail


class _SseMessage(msgspec.Struct):
    event: str = "message"
    data: str = ""
    id: str = ""


async def _sse_messages(response: httpx.Response) -> AsyncIterator[_SseMessage]:
    """Parse a text/event-stream body into messages; comments (keep-alives) are skipped."""
    fields: dict[str, list[str]] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "data" in fields or "event" in fields:
                yield _SseMessage(
                    event=fields.get("event", ["message"])[-1],
                    data="\n".join(fields.get("data", [])),
                    id=fields.get("id", [""])[-1],
                )
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields.setdefault(name, []).append(value.removeprefix(" "))


class PhoneDriver:
    """Drives the telephony API as the phone system and on behalf of agents.

    ``settle`` is awaited after every command (the ``phone`` fixture passes its ``drain``, so the command's
    events have reached :attr:`events` when the call returns).  ``timeline`` is what :meth:`run` paces a
    load run with; ``extensions`` are the ones :meth:`run` may sign agents in on.  ``record_events`` keeps
    every event in :attr:`events` (tests); live runs turn it off so a long run does not grow without bound.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        token: str,
        *,
        prefix: str = API_PREFIX,
        settle: Callable[[], Awaitable[None]] | None = None,
        timeline: Timeline | None = None,
        extensions: Iterable[str] = (),
        record_events: bool = True,
    ) -> None:
        self.client = client
        self.prefix = prefix.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._settle = settle
        self.timeline = timeline
        self.extensions: tuple[str, ...] = tuple(extensions)
        self.record_events = record_events
        self.events: list[Envelope] = []
        # Latest snapshot per agent id, from events and from reads.
        self.agents: dict[str, Snapshot] = {}
        self.listeners: list[EventListener] = []
        self._me: Snapshot | None = None
        # The most recent run (its calls, with their drawn times and fates), for tests to inspect.
        self.last_run: LoadRun | None = None
        self._reason_ids: dict[str, int | None] | None = None

    # -- plumbing -------------------------------------------------------------------------------------------
    async def _send(self, method: str, path: str, *, json: Any = None) -> httpx.Response:
        response = await self.client.request(method, path, headers=self._headers, json=json)
        if response.status_code >= 400:
            raise PhoneApiError(response.status_code, method, path, _detail(response))
        return response

    async def _get(self, path: str) -> Any:
        return (await self._send("GET", self.prefix + path)).json()

    async def _command(self, method: str, path: str, body: Any) -> httpx.Response:
        response = await self._send(method, self.prefix + path, json=body)
        if self._settle is not None:
            await self._settle()
        return response

    @staticmethod
    def _agent_path(agent: str) -> str:
        return f"/agents/{quote(agent, safe='')}"

    # -- events ---------------------------------------------------------------------------------------------
    def accept(self, env: Envelope) -> None:
        """Take in one phone event: remember it, update the agent model and tell the listeners."""
        if not env.subject.startswith("hub.phone."):
            return
        if self.record_events:
            self.events.append(env)
        if env.subject == AGENT_STATE_CHANGED:
            agent_id = env.data.get("loginId")
            if isinstance(agent_id, str):
                self.agents[agent_id] = env.data
        for listener in list(self.listeners):
            listener(env)

    async def receive(self, env: Envelope) -> None:
        """:meth:`accept` as a bus handler (``await bus.subscribe("hub.phone.>", driver.receive)``)."""
        self.accept(env)

    async def follow(self, connected: asyncio.Event | None = None) -> None:
        """Read the hub's event stream (``GET /events``) into :meth:`accept` until cancelled.

        ``connected`` is set once the stream is open (the hub subscribes before it answers, so nothing
        after that point is missed).  A dropped connection or an ``overflow`` message is followed by a
        fresh read of the agents and a reconnect; 401/403 end the loop with :class:`PhoneApiError`.
        """
        failures = 0
        timeout = httpx.Timeout(10.0, read=_STREAM_READ_TIMEOUT_S)
        while True:
            try:
                async with self.client.stream(
                    "GET", self.prefix + "/events", headers=self._headers, timeout=timeout
                ) as response:
                    if response.status_code in (401, 403):
                        await response.aread()
                        raise PhoneApiError(response.status_code, "GET", "/events", _detail(response))
                    if response.status_code != 200:
                        raise httpx.HTTPStatusError(
                            f"event stream answered {response.status_code}",
                            request=response.request,
                            response=response,
                        )
                    if connected is not None:
                        connected.set()
                    failures = 0
                    async for message in _sse_messages(response):
                        if message.event == "overflow":
                            break  # the hub dropped events for us: resync below
                        if message.data and message.event.startswith("hub.phone."):
                            self.accept(decode_envelope(message.data))
            except (httpx.TransportError, httpx.HTTPStatusError, msgspec.DecodeError) as exc:
                log.warning("event stream interrupted (%s); reconnecting", exc)
                failures += 1
            await asyncio.sleep(_RECONNECT_DELAYS_S[min(failures, len(_RECONNECT_DELAYS_S) - 1)])
            with contextlib.suppress(httpx.HTTPError, PhoneApiError):
                await self.refresh_agents()

    # -- reads ----------------------------------------------------------------------------------------------
    async def me(self) -> Snapshot:
        """``GET /api/me`` of the token's user: ``name``, ``role``, ``sections`` (cached)."""
        if self._me is None:
            self._me = dict((await self._send("GET", ME_PATH)).json())
        return self._me

    async def list_agents(self) -> list[Snapshot]:
        """Every agent the token may see (a lead: its teams; an admin: everyone configured or active)."""
        agents: list[Snapshot] = await self._get("/agents")
        for snapshot in agents:
            self.agents[snapshot["loginId"]] = snapshot
        return agents

    async def refresh_agents(self) -> None:
        await self.list_agents()

    async def agent(self, agent: str) -> Snapshot:
        snapshot: Snapshot = await self._get(self._agent_path(agent))
        self.agents[agent] = snapshot
        return snapshot

    async def agent_dialogs(self, agent: str) -> list[Snapshot]:
        dialogs: list[Snapshot] = await self._get(self._agent_path(agent) + "/dialogs")
        return dialogs

    async def dialog(self, dialog_id: str) -> Snapshot:
        dialog: Snapshot = await self._get(f"/dialogs/{quote(dialog_id, safe='')}")
        return dialog

    async def queues(self) -> list[Snapshot]:
        queues: list[Snapshot] = await self._get("/queues")
        return queues

    async def reason_codes(self) -> dict[str, list[Snapshot]]:
        codes: dict[str, list[Snapshot]] = await self._get("/reason-codes")
        return codes

    def state_of(self, agent: str) -> str:
        """The agent's state as last heard (LOGOUT if never)."""
        return str(self.agents.get(agent, {}).get("state", "LOGOUT"))

    def extension_of(self, agent: str) -> str | None:
        return self.agents.get(agent, {}).get("extension") or None

    # -- agent commands -------------------------------------------------------------------------------------
    async def sign_in(self, agent: str, extension: str) -> Snapshot:
        """Sign ``agent`` in on ``extension``; returns the agent's snapshot afterwards.

        An unusable or busy extension is refused asynchronously (an ``hub.phone.agent.error`` event), so the
        returned snapshot is then still LOGOUT.
        """
        await self._command("POST", self._agent_path(agent) + "/sign-in", {"extension": extension})
        return await self.agent(agent)

    async def set_state(self, agent: str, state: str, reason_code_id: int | None = None) -> None:
        body: dict[str, Any] = {"state": state}
        if reason_code_id is not None:
            body["reasonCodeId"] = reason_code_id
        await self._command("PUT", self._agent_path(agent) + "/state", body)

    async def ready(self, agent: str) -> None:
        await self.set_state(agent, "READY")

    async def not_ready(self, agent: str, reason_code_id: int | None = None) -> None:
        """NOT_READY; for the token's own user with the first configured Not Ready code unless given."""
        if reason_code_id is None and await self._is_me(agent):
            reason_code_id = await self._first_reason("NOT_READY")
        await self.set_state(agent, "NOT_READY", reason_code_id)

    async def sign_out(self, agent: str, reason_code_id: int | None = None) -> Snapshot:
        """End the agent's calls, then NOT_READY and LOGOUT (CCE signs out only from NOT_READY, §1.4).

        A ringing call is hung up by its caller; a connected one by the agent.  Returns the final snapshot.
        """
        await self.clear_calls(agent)
        snapshot = await self.agent(agent)
        if snapshot["state"] in ("READY", *WRAP_UP_STATES):
            await self.not_ready(agent)
            snapshot = await self.agent(agent)
        if snapshot["state"] == "NOT_READY":
            if reason_code_id is None and await self._is_me(agent):
                reason_code_id = await self._first_reason("LOGOUT")
            await self.set_state(agent, "LOGOUT", reason_code_id)
            snapshot = await self.agent(agent)
        return snapshot

    async def _is_me(self, agent: str) -> bool:
        return bool((await self.me()).get("name") == agent)

    async def _first_reason(self, category: str) -> int | None:
        if self._reason_ids is None:
            codes = await self.reason_codes()
            self._reason_ids = {
                name: (int(entries[0]["id"]) if entries else None) for name, entries in codes.items()
            }
        return self._reason_ids.get(category)

    # -- calls ----------------------------------------------------------------------------------------------
    async def call(
        self,
        ani: str,
        queue: str = "Billing",
        *,
        dnis: str | None = None,
        call_variables: dict[str, str] | None = None,
    ) -> str:
        """The phone system puts a call from ``ani`` in ``queue`` (name or number); returns its dialog id."""
        body: dict[str, Any] = {"ani": ani, "queue": queue}
        if dnis is not None:
            body["dnis"] = dnis
        if call_variables:
            body["callVariables"] = call_variables
        response = await self._command("POST", "/dialogs", body)
        return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]

    async def dialog_action(self, dialog_id: str, action: str, target: str | None = None) -> None:
        body: dict[str, Any] = {"action": action}
        if target is not None:
            body["targetMediaAddress"] = target
        await self._command("PUT", f"/dialogs/{quote(dialog_id, safe='')}", body)

    async def answer(self, agent: str, dialog_id: str | None = None) -> str:
        """The agent answers the call ringing at its extension (or ``dialog_id``); returns the dialog id."""
        extension = await self._extension(agent)
        if dialog_id is None:
            dialog_id = await self._find_dialog(agent, extension, frozenset({"ALERTING"}), "ringing")
        await self.dialog_action(dialog_id, "ANSWER", extension)
        return dialog_id

    async def hang_up(self, agent: str, dialog_id: str | None = None) -> str:
        """The agent drops its connected call (or ``dialog_id``); returns the dialog id."""
        extension = await self._extension(agent)
        if dialog_id is None:
            dialog_id = await self._find_dialog(agent, extension, frozenset({"ACTIVE", "HELD"}), "connected")
        await self.dialog_action(dialog_id, "DROP", extension)
        return dialog_id

    async def caller_hangs_up(self, dialog_id: str, ani: str | None = None) -> None:
        """The customer on ``dialog_id`` hangs up (abandons, if no agent has answered yet).

        The hub answers 409 if the call's state does not allow it any more (for instance it just ended).
        """
        if ani is None:
            dialog = await self.dialog(dialog_id)
            legs = [
                p
                for p in dialog["participants"]
                if p["mediaAddressType"] == "CUSTOMER" and p["state"] in _DROPPABLE_LEGS
            ]
            if not legs:
                raise NoCall(f"dialog {dialog_id} has no connected caller")
            ani = str(legs[-1]["mediaAddress"])
        await self.dialog_action(dialog_id, "DROP", ani)

    async def clear_calls(self, agent: str) -> None:
        """End every call of the agent: a ringing one by its caller, a connected one by the agent."""
        extension = self.extension_of(agent) or (await self.agent(agent)).get("extension")
        if not extension:
            return
        for dialog in await self.agent_dialogs(agent):
            mine = _leg(dialog, extension)
            if mine is None:
                continue
            with contextlib.suppress(PhoneApiError, NoCall):
                if mine["state"] == "ALERTING":
                    await self.caller_hangs_up(dialog["id"])
                elif mine["state"] in _DROPPABLE_LEGS:
                    await self.dialog_action(dialog["id"], "DROP", extension)

    async def _extension(self, agent: str) -> str:
        extension = self.extension_of(agent) or (await self.agent(agent)).get("extension")
        if not extension:
            raise NoCall(f"agent {agent} is not signed in on an extension")
        return str(extension)

    async def _find_dialog(self, agent: str, extension: str, states: frozenset[str], what: str) -> str:
        for dialog in await self.agent_dialogs(agent):
            mine = _leg(dialog, extension)
            if mine is not None and mine["state"] in states:
                return str(dialog["id"])
        raise NoCall(f"agent {agent} has no {what} call")

    # -- load runs ------------------------------------------------------------------------------------------
    async def default_agents(self) -> list[str]:
        """The agents a run uses when none are named: those already signed in, else every listed agent.

        Leads (the Supervisor role) and the token's own user are left out either way.
        """
        me = (await self.me()).get("name")
        listed = [
            a
            for a in await self.list_agents()
            if a["loginId"] != me and "Supervisor" not in (a.get("roles") or [])
        ]
        signed_in = [a["loginId"] for a in listed if a["state"] != "LOGOUT"]
        return signed_in or [a["loginId"] for a in listed]

    async def run(
        self,
        calls: int | None = None,
        *,
        hours: float | None = None,
        agents: Sequence[str] | None = None,
        queue: str = "Billing",
        calls_per_hour: float = 60.0,
        aht: float = 120.0,
        seed: int = 0,
        ring: float = 2.0,
        wrap_up: float = 0.0,
        patience: float | None = None,
        sign_out: bool = False,
    ) -> RunSummary:
        """Drive ``calls`` calls (or ``hours`` of arrivals) through the hub and return the run's summary.

        Callers arrive as a Poisson process of ``calls_per_hour``; each agent answers after ``ring``
        seconds, talks for a sampled handle time (mean ``aht`` − ``wrap_up``, the offline engine's seeded
        streams), hangs up and ends wrap-up after ``wrap_up`` seconds.  Agents not yet signed in are signed
        in on free extensions and made READY first.  The run ends when every call is over; ``sign_out``
        then signs the agents out.  Time passes on :attr:`timeline` (in tests the hub's ManualClock).
        """
        from simulators.phone.load import LoadProfile, LoadRun, prepare_agents

        if self.timeline is None:
            raise PhoneDriverError("run() needs a timeline (the phone fixture sets one)")
        profile = LoadProfile(
            calls_per_hour=calls_per_hour,
            aht_seconds=aht,
            seed=seed,
            calls=calls,
            hours=hours,
            queue=queue,
            patience_seconds=patience,
            ring_seconds=ring,
            wrap_up_seconds=wrap_up,
        )
        profile.validate()
        names = list(agents) if agents is not None else await self.default_agents()
        if not names:
            raise PhoneDriverError("no agents to run with: configure a team or sign some in first")
        await prepare_agents(self, names, self.extensions)
        load = LoadRun(self, profile, self.timeline, names)
        self.last_run = load
        summary = await load.run()
        await load.wind_down(sign_out=sign_out)
        return summary


def _leg(dialog: Snapshot, address: str) -> Snapshot | None:
    """The latest participant at ``address`` (a re-offered call can hold an earlier, dropped leg of it)."""
    legs = [p for p in dialog.get("participants", []) if p.get("mediaAddress") == address]
    return legs[-1] if legs else None


def is_dialog_event(env: Envelope) -> bool:
    return env.subject in _DIALOG_SUBJECTS
