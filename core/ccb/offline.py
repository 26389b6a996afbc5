"""CCB offline mode (task 17, ARCHITECTURE §7): ``OfflineCcb`` wraps a remote CCB port and keeps the hub
working while CCB is unreachable.

* **Writes** always go out with an idempotency key (one is generated when the caller gave none). When the
  remote is unreachable or its breaker is open — or older forms are still waiting, so that order holds —
  the write is journaled as an *offline form* in the hub's own database and the caller gets
  :class:`RecordedOffline` (the API answers 202 ``{"offline_form": N}``).
* **Reads** store a snapshot of every successful answer (keyed by method and arguments). While CCB is down
  a read raises :class:`StaleRead` — a ``CcbUnavailable`` that carries the last known value, when it was
  fetched and its age. Callers unaware of offline mode therefore fail safe (503 naming the outage); screens
  that can show stale data catch ``StaleRead`` and label the value with ``age_s``. Identity verification
  is never answered from a snapshot (a stale "verified" would bypass docs/rules.md §4.2).
* :meth:`OfflineCcb.replay` sends the journal to CCB in ``id`` order. The idempotency key makes each form
  apply exactly once even if the hub dies between CCB's answer and marking the form. A form CCB refuses
  (``NotFound``, ``IllegalTransition``, ``Invalid``) becomes a To Do for a lead carrying the reason —
  through the remote's ``create_todo``, or in the hub's ``ccb_offline_todo`` table when CCB refuses that
  too — never a silent drop. Replay stops at the first outage and resumes from there next time.

Events (core-owned, ``OFFLINE_EVENT_TYPES``): ``hub.offline.entered``, ``hub.offline.form_recorded``,
``hub.offline.replayed``, ``hub.offline.conflict``, ``hub.offline.left``. Payloads carry form ids,
operation names and error text of the port's typed errors (ids and status codes, no customer data).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import msgspec
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import port as p
from core.ccb.batch import BatchWriter, KeyedWrite

# RecordedOffline lives with the port's errors (pure), so plugins reach it through the contract.
from core.ccb.errors import CcbError, CcbUnavailable, Invalid, RecordedOffline
from core.ccb.forwarding import ForwardingCcb
from core.ccb.identity import IdentityMethod
from core.ccb.offline_models import OfflineForm, OfflineSnapshot, OfflineTodo
from core.ccb.rest import READ_ROUTES
from core.clock import Clock
from core.contract import CheckContext, CheckKind, CheckResult, CheckSpec, EventType
from core.db import Database
from core.outbox import EventWriter

__all__ = [
    "CONFLICT_ROLE",
    "OFFLINE_EVENT_TYPES",
    "BacklogStatus",
    "OfflineCcb",
    "RecordedOffline",
    "ReplayReport",
    "StaleRead",
    "backlog_status",
    "offline_check",
]

CONFLICT_ROLE = "LEAD"
CONFLICT_TODO_TYPE = "OFFLINE_CONFLICT"
SYSTEM_ACTOR = "offline-replay"


class StaleRead(CcbUnavailable):
    """CCB is down; ``value`` is the last answer it gave to this read, fetched ``age_s`` seconds ago."""

    def __init__(self, reason: str, value: Any, fetched_at: dt.datetime, age_s: float) -> None:
        super().__init__(reason)
        self.value = value
        self.fetched_at = fetched_at
        self.age_s = age_s


# -- events -------------------------------------------------------------------------------------------


class OfflineEntered(msgspec.Struct, frozen=True, kw_only=True):
    reason: str


class FormRecorded(msgspec.Struct, frozen=True, kw_only=True):
    form_id: int
    operation: str


class FormReplayed(msgspec.Struct, frozen=True, kw_only=True):
    form_id: int
    operation: str


class FormConflict(msgspec.Struct, frozen=True, kw_only=True):
    form_id: int
    operation: str
    reason: str
    todo_ref: str


class OfflineLeft(msgspec.Struct, frozen=True, kw_only=True):
    replayed: int
    conflicts: int


OFFLINE_EVENT_TYPES = [
    EventType(subject="hub.offline.entered", payload=OfflineEntered, description="CCB became unreachable."),
    EventType(
        subject="hub.offline.form_recorded",
        payload=FormRecorded,
        description="A CCB write was journaled as an offline form.",
    ),
    EventType(
        subject="hub.offline.replayed", payload=FormReplayed, description="CCB applied an offline form."
    ),
    EventType(
        subject="hub.offline.conflict",
        payload=FormConflict,
        description="CCB refused an offline form; a lead has a To Do with the reason.",
    ),
    EventType(
        subject="hub.offline.left",
        payload=OfflineLeft,
        description="The journal is replayed and CCB answers again.",
    ),
]


class ReplayReport(msgspec.Struct, frozen=True, kw_only=True):
    replayed: int
    conflicts: int
    pending: int
    stopped: str | None = None


class BacklogStatus(msgspec.Struct, frozen=True, kw_only=True):
    pending: int
    conflicts: int
    replayed: int
    oldest_pending_at: dt.datetime | None
    open_local_todos: int


# -- the port -----------------------------------------------------------------------------------------


def _snapshot_key(name: str, args: Sequence[Any]) -> str:
    return hashlib.sha256(msgspec.json.encode([name, list(args)])).hexdigest()


# -- the journal as replay reads and marks it -----------------------------------------------------------

# Forms per CCB transaction when the remote applies runs (``BatchWriter``): enough to spread one commit over
# many forms, few enough that a run rolled back for one refused form costs little to redo.
RUN_FORMS = 100


class _Form(NamedTuple):
    """A pending journal row as replay reads it: plain columns, no ORM object per form."""

    id: int
    operation: str
    request: str
    idempotency_key: str
    actor: str
    recorded_at: dt.datetime


_FORM_COLUMNS = (
    OfflineForm.id,
    OfflineForm.operation,
    OfflineForm.request,
    OfflineForm.idempotency_key,
    OfflineForm.actor,
    OfflineForm.recorded_at,
)


class _Outcome(NamedTuple):
    form: _Form
    status: str  # "replayed" or "conflict"
    text: str | None  # CCB's result (JSON) or its refusal
    todo_ref: str | None = None


_JOURNAL = cast(Table, OfflineForm.__table__)
# One statement marks a whole run (executemany); ``status == pending`` keeps a form marked once.
_MARK = (
    update(_JOURNAL)
    .where(_JOURNAL.c.id == bindparam("form_id"), _JOURNAL.c.status == "pending")
    .values(
        status=bindparam("new_status"),
        replayed_at=bindparam("at"),
        result=bindparam("new_result"),
        reason=bindparam("new_reason"),
        todo_ref=bindparam("new_todo"),
    )
)


def _decode(form: _Form) -> msgspec.Struct:
    request_type, _result_type = p.WRITE_OPERATIONS[form.operation]
    request: msgspec.Struct = msgspec.json.decode(form.request, type=request_type)
    return request


def _ids(request: msgspec.Struct) -> list[str]:
    """The CCB ids a request names (``account_id``, ``premise_id``, ``sa_id``, ``related_id`` …)."""
    out: list[str] = []
    for name in request.__struct_fields__:
        value = getattr(request, name)
        if name.endswith("_id") and isinstance(value, str) and value:
            out.append(value)
    return out


def _lanes(forms: Sequence[_Form], requests: dict[int, msgspec.Struct]) -> list[list[_Form]]:
    """Forms that name a common id (directly or through others) share a lane, kept in journal order.

    Two forms about the same account — or the same premise, SA, case … — are never sent side by side, so
    CCB applies them in the order they were entered; forms with nothing in common may overtake each other.
    """
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    anchors: list[str] = []
    for form in forms:
        ids = _ids(requests[form.id]) or [f"form:{form.id}"]
        first = root(ids[0])
        for other in ids[1:]:
            parent[root(other)] = first
        anchors.append(ids[0])
    lanes: dict[str, list[_Form]] = {}
    for form, anchor in zip(forms, anchors, strict=True):
        lanes.setdefault(root(anchor), []).append(form)
    return list(lanes.values())


class OfflineCcb(ForwardingCcb):
    """The CCB port with offline forms and stale reads around a remote port (implements ``CcbPort``).

    Every operation of the port's table is generated by ``ForwardingCcb``: reads land in ``_read`` (each
    stores a snapshot and falls back to it), writes in ``_write`` (journaled while CCB is down).
    """

    def __init__(
        self,
        remote: p.CcbPort,
        db: Database,
        clock: Clock,
        events: EventWriter | None = None,
        *,
        batch_size: int = 200,
        concurrency: int = 8,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.remote = remote
        self._db = db
        self._clock = clock
        self._events = events
        self._batch_size = batch_size
        self._concurrency = concurrency
        self._offline_since: dt.datetime | None = None
        self._replay_lock = asyncio.Lock()

    @property
    def offline(self) -> bool:
        return self._offline_since is not None

    @property
    def offline_since(self) -> dt.datetime | None:
        return self._offline_since

    async def aclose(self) -> None:
        close = getattr(self.remote, "aclose", None)
        if close is not None:
            await close()

    def _emit(self, s: AsyncSession, subject: str, payload: msgspec.Struct, actor: str) -> None:
        if self._events is not None:
            self._events.emit(s, subject, payload, actor=actor)

    def _enter(self, s: AsyncSession, reason: str, actor: str) -> None:
        if self._offline_since is None:
            self._emit(s, "hub.offline.entered", OfflineEntered(reason=reason[:500]), actor)

    async def _has_backlog(self) -> bool:
        async with self._db.session() as s:
            found = await s.scalar(select(OfflineForm.id).where(OfflineForm.status == "pending").limit(1))
        return found is not None

    # -- writes -----------------------------------------------------------------------------------------
    async def _write(
        self, name: str, request: msgspec.Struct, actor: str, idempotency_key: str | None
    ) -> Any:
        key = (idempotency_key or "").strip() or f"hub-{uuid.uuid4().hex}"
        if len(key) > 100:
            raise Invalid("idempotency_key", "must be 1 to 100 characters")
        if not self.offline and not await self._has_backlog():
            try:
                return await getattr(self.remote, name)(request, actor=actor, idempotency_key=key)
            except CcbUnavailable as exc:
                # The outcome may be unknown (a lost answer); the same key makes the replay safe either way.
                reason = exc.reason
        else:
            reason = "earlier offline forms are waiting to be replayed"
        form_id = await self._record(name, request, actor, key, reason)
        raise RecordedOffline(form_id, key, name)

    async def _record(self, name: str, request: msgspec.Struct, actor: str, key: str, reason: str) -> int:
        encoded = msgspec.json.encode(request).decode()
        now = self._clock.now()
        try:
            async with self._db.session() as s:
                self._enter(s, reason, actor)
                form = OfflineForm(
                    operation=name,
                    request=encoded,
                    idempotency_key=key,
                    actor=actor,
                    status="pending",
                    recorded_at=now,
                )
                s.add(form)
                await s.flush()
                self._emit(
                    s, "hub.offline.form_recorded", FormRecorded(form_id=form.id, operation=name), actor
                )
                form_id = form.id
        except IntegrityError:
            # The caller retried a write it already made offline: same key, same form (idempotent).
            async with self._db.session() as s:
                existing = await s.scalar(select(OfflineForm).where(OfflineForm.idempotency_key == key))
            if existing is None or existing.operation != name or existing.request != encoded:
                raise Invalid("idempotency_key", "was already used for a different request") from None
            return existing.id
        if self._offline_since is None:
            self._offline_since = now
        return form_id

    # -- reads ------------------------------------------------------------------------------------------
    async def _read(self, name: str, **arguments: Any) -> Any:
        # Positional, in the protocol's order with defaults filled in: the snapshot key stored so far.
        args = list(arguments.values())
        key = _snapshot_key(name, args)
        try:
            value = await getattr(self.remote, name)(*args)
        except CcbUnavailable as exc:
            await self._mark_offline(exc.reason)
            async with self._db.session() as s:
                snap = await s.get(OfflineSnapshot, key)
            if snap is None:
                raise CcbUnavailable(f"{exc.reason}; no earlier answer is stored for this read") from exc
            stale = msgspec.json.decode(snap.value, type=READ_ROUTES[name].result)
            age = (self._clock.now() - snap.fetched_at).total_seconds()
            raise StaleRead(exc.reason, stale, snap.fetched_at, age) from exc
        encoded = msgspec.json.encode(value).decode()
        try:
            async with self._db.session() as s:
                await s.merge(
                    OfflineSnapshot(key=key, method=name, value=encoded, fetched_at=self._clock.now())
                )
        except IntegrityError:
            pass  # a concurrent read stored the same snapshot first; either answer is as fresh
        return value

    async def _mark_offline(self, reason: str) -> None:
        if self._offline_since is not None:
            return
        async with self._db.session() as s:
            self._enter(s, reason, SYSTEM_ACTOR)
        self._offline_since = self._clock.now()

    # -- replay -----------------------------------------------------------------------------------------
    async def replay(self, *, limit: int | None = None) -> ReplayReport:
        """Send pending forms to CCB in order; stop at the first outage (the rest stay pending).

        A remote that applies runs of writes (``BatchWriter``, the local CCB) gets ``RUN_FORMS`` forms per
        transaction, each with its idempotency record. Any other remote (CCB over HTTP) gets one call per
        form, several accounts at a time (``concurrency``) but each account's forms strictly in order.
        """
        async with self._replay_lock:
            replayed = conflicts = 0
            stopped: str | None = None
            last_id = 0
            while stopped is None and (limit is None or replayed + conflicts < limit):
                size = (
                    self._batch_size if limit is None else min(self._batch_size, limit - replayed - conflicts)
                )
                async with self._db.session() as s:
                    rows = await s.execute(
                        select(*_FORM_COLUMNS)
                        .where(OfflineForm.status == "pending", OfflineForm.id > last_id)
                        .order_by(OfflineForm.id)
                        .limit(size)
                    )
                    forms = [_Form(*row) for row in rows.all()]
                if not forms:
                    break
                last_id = forms[-1].id
                if isinstance(self.remote, BatchWriter):
                    r, c, stopped = await self._replay_runs(self.remote, forms)
                else:
                    r, c, stopped = await self._replay_lanes(forms)
                replayed += r
                conflicts += c
            pending = await self._count("pending")
            if pending == 0 and stopped is None and (self.offline or replayed or conflicts):
                async with self._db.session() as s:
                    self._emit(
                        s,
                        "hub.offline.left",
                        OfflineLeft(replayed=replayed, conflicts=conflicts),
                        SYSTEM_ACTOR,
                    )
                self._offline_since = None
            return ReplayReport(replayed=replayed, conflicts=conflicts, pending=pending, stopped=stopped)

    async def _replay_runs(self, remote: BatchWriter, forms: list[_Form]) -> tuple[int, int, str | None]:
        """Runs of ``RUN_FORMS`` forms, one CCB transaction each, each run marked as soon as it is applied."""
        replayed = conflicts = 0
        for start in range(0, len(forms), RUN_FORMS):
            run = forms[start : start + RUN_FORMS]
            requests = [_decode(form) for form in run]
            writes = [
                KeyedWrite(form.operation, request, form.actor, form.idempotency_key)
                for form, request in zip(run, requests, strict=True)
            ]
            try:
                answers = await remote.write_batch(writes)
            except CcbUnavailable as exc:
                return replayed, conflicts, exc.reason
            done: list[_Outcome] = []
            stopped: str | None = None
            for form, request, answer in zip(run, requests, answers, strict=True):
                if isinstance(answer, CcbUnavailable):
                    stopped = answer.reason
                    break
                done.append(await self._outcome(form, request, answer))
            # A crash before this mark only means the run is sent again: its writes answer from CCB's
            # stored idempotency records, committed with them, and are not applied twice.
            r, c = await self._mark(done)
            replayed += r
            conflicts += c
            if stopped is not None:
                return replayed, conflicts, stopped
        return replayed, conflicts, None

    async def _replay_lanes(self, forms: list[_Form]) -> tuple[int, int, str | None]:
        """One call per form; lanes of related forms run side by side, each lane in journal order."""
        requests = {form.id: _decode(form) for form in forms}
        stops: list[str] = []
        slots = asyncio.Semaphore(self._concurrency)

        async def run(lane: list[_Form]) -> list[_Outcome]:
            done: list[_Outcome] = []
            async with slots:
                for form in lane:
                    if stops:  # another lane met the outage: leave the rest pending, in order
                        break
                    request = requests[form.id]
                    try:
                        answer = await self._call(form, request)
                    except CcbUnavailable as exc:
                        stops.append(exc.reason)
                        break
                    done.append(await self._outcome(form, request, answer))
            return done

        lanes = _lanes(forms, requests)
        # The oldest form goes alone first: right after an outage the breaker lets one trial call through
        # (half-open) and would refuse the lanes' other first calls made beside it.
        head = await run(lanes[0][:1])
        lanes[0] = lanes[0][1:]
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(run(lane)) for lane in lanes if lane and not stops]
        done = sorted([*head, *(o for t in tasks for o in t.result())], key=lambda o: o.form.id)
        replayed, conflicts = await self._mark(done)
        return replayed, conflicts, stops[0] if stops else None

    async def _call(self, form: _Form, request: msgspec.Struct) -> Any:
        """CCB's answer to one form: its result, or the ``CcbError`` it refused the form with."""
        try:
            return await getattr(self.remote, form.operation)(
                request, actor=form.actor, idempotency_key=form.idempotency_key
            )
        except CcbUnavailable:
            raise
        except CcbError as exc:
            return exc

    async def _outcome(self, form: _Form, request: msgspec.Struct, answer: Any) -> _Outcome:
        if isinstance(answer, CcbError):
            reason = f"{type(answer).__name__}: {answer}"
            return _Outcome(form, "conflict", reason, await self._conflict_todo(form, request, reason))
        return _Outcome(form, "replayed", msgspec.json.encode(answer).decode())

    async def _conflict_todo(self, form: _Form, request: msgspec.Struct, reason: str) -> str:
        message = (
            f"Offline form {form.id} ({form.operation}, entered by {form.actor} at "
            f"{form.recorded_at.isoformat(timespec='seconds')}) was refused by CCB on replay: {reason}. "
            "Resolve it with the customer and re-enter it if it still applies."
        )[:1000]
        account_id = getattr(request, "account_id", None)
        todo = p.CreateToDo(
            role=CONFLICT_ROLE,
            todo_type=CONFLICT_TODO_TYPE,
            message=message,
            related_kind="account" if isinstance(account_id, str) else None,
            related_id=account_id if isinstance(account_id, str) else None,
            priority=2,
        )
        key = "todo-" + hashlib.sha256(form.idempotency_key.encode()).hexdigest()[:40]
        try:
            view = await self.remote.create_todo(todo, actor=SYSTEM_ACTOR, idempotency_key=key)
            return f"ccb:{view.todo_id}"
        except CcbError:
            # CCB refused the To Do itself (or went down again): keep it in the hub rather than lose it.
            async with self._db.session() as s:
                row = OfflineTodo(
                    form_id=form.id,
                    role=CONFLICT_ROLE,
                    message=message,
                    status="O",
                    created_at=self._clock.now(),
                )
                s.add(row)
                await s.flush()
                return f"local:{row.id}"

    async def _mark(self, done: Sequence[_Outcome]) -> tuple[int, int]:
        """Record the outcomes with one executemany UPDATE (and their events) in one transaction."""
        if not done:
            return 0, 0
        now = self._clock.now()
        params: list[dict[str, Any]] = []
        replayed = conflicts = 0
        async with self._db.session() as s:
            for o in done:
                conflict = o.status == "conflict"
                params.append(
                    {
                        "form_id": o.form.id,
                        "new_status": o.status,
                        "at": now,
                        "new_result": None if conflict else o.text,
                        "new_reason": o.text if conflict else None,
                        "new_todo": o.todo_ref,
                    }
                )
                if conflict:
                    conflicts += 1
                    self._emit(
                        s,
                        "hub.offline.conflict",
                        FormConflict(
                            form_id=o.form.id,
                            operation=o.form.operation,
                            reason=(o.text or "")[:500],
                            todo_ref=o.todo_ref or "",
                        ),
                        SYSTEM_ACTOR,
                    )
                else:
                    replayed += 1
                    self._emit(
                        s,
                        "hub.offline.replayed",
                        FormReplayed(form_id=o.form.id, operation=o.form.operation),
                        SYSTEM_ACTOR,
                    )
            await s.execute(_MARK, params)
        return replayed, conflicts

    async def _count(self, status: str) -> int:
        async with self._db.session() as s:
            n = await s.scalar(
                select(func.count()).select_from(OfflineForm).where(OfflineForm.status == status)
            )
        return int(n or 0)

    async def watch(self, interval_s: float = 15.0) -> None:
        """Replay whenever there is a backlog, every ``interval_s`` (run as a background task)."""
        while True:
            await asyncio.sleep(interval_s)
            if self.offline or await self._has_backlog():
                try:
                    await self.replay()
                except Exception:  # a failed round must not end the loop; the next round retries
                    continue

    # -- the one operation outside the table -----------------------------------------------------------
    async def verify_identity(
        self, account_id: str, method: IdentityMethod, value: str, *, actor: str = "system"
    ) -> bool:
        # Never from a snapshot: while CCB is down the caller gets CcbUnavailable (docs/rules.md §4.2).
        return await self.remote.verify_identity(account_id, method, value, actor=actor)


# Statically confirm the offline layer implements the whole port: the type checker verifies this return.
def _conforms(ccb: OfflineCcb) -> p.CcbPort:
    return ccb


async def backlog_status(db: Database) -> BacklogStatus:
    """Counts of the journal by outcome and the age of the oldest waiting form."""
    async with db.session() as s:
        rows = (await s.execute(select(OfflineForm.status, func.count()).group_by(OfflineForm.status))).all()
        oldest = await s.scalar(
            select(func.min(OfflineForm.recorded_at)).where(OfflineForm.status == "pending")
        )
        local = await s.scalar(select(func.count()).select_from(OfflineTodo).where(OfflineTodo.status == "O"))
    counts = {status: int(n) for status, n in rows}
    if isinstance(oldest, dt.datetime) and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)  # aggregates bypass the column type on SQLite
    return BacklogStatus(
        pending=counts.get("pending", 0),
        conflicts=counts.get("conflict", 0),
        replayed=counts.get("replayed", 0),
        oldest_pending_at=oldest,
        open_local_todos=int(local or 0),
    )


def offline_check(ccb: OfflineCcb | None = None) -> CheckSpec:
    """A health check: fails while CCB is offline or forms wait to be replayed, naming the backlog."""

    async def run(ctx: CheckContext) -> CheckResult:
        status = await backlog_status(ctx.db)
        offline = ccb is not None and ccb.offline
        details: dict[str, Any] = {
            "offline": offline,
            "pending": status.pending,
            "conflicts": status.conflicts,
            "open_local_todos": status.open_local_todos,
        }
        if offline or status.pending:
            age = ""
            if status.oldest_pending_at is not None:
                age = f", oldest {(ctx.clock.now() - status.oldest_pending_at).total_seconds():.0f}s"
            state = "CCB offline" if offline else "CCB back, replay pending"
            return CheckResult(
                passed=False,
                message=f"{state}: {status.pending} offline form(s) waiting{age}",
                details=details,
            )
        return CheckResult(passed=True, message="CCB online; no offline forms waiting", details=details)

    return CheckSpec(
        name="ccb_offline",
        run=run,
        kind=CheckKind.HEALTH,
        description="CCB answers and no offline forms wait to be replayed (ARCHITECTURE §7).",
    )
