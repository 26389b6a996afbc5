"""Batched keyed writes: the optional capability of a CCB port to apply many journaled writes at once.

Replaying the offline journal (``core.ccb.offline``) one transaction per form pays a commit per form. A port
that can do better implements :class:`BatchWriter`: ``write_batch`` applies a run of keyed writes in order,
in as few transactions as it can, each write's idempotency record in the same transaction as the write it
answers. The result is exactly-once however the replay ends: a run whose transaction rolled back left
nothing behind, and a run that committed answers from its stored records when it is sent again.

The local CCB implements it (one transaction per run, ``core.ccb.local.base``); a remote port over HTTP does
not, and the journal replays it form by form with accounts side by side instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import msgspec

__all__ = ["BatchWriter", "KeyedWrite"]


class KeyedWrite(NamedTuple):
    """One write of the port's operation table (``WRITE_OPERATIONS``) with its idempotency key."""

    operation: str
    request: msgspec.Struct
    actor: str
    idempotency_key: str


@runtime_checkable
class BatchWriter(Protocol):
    async def write_batch(self, writes: Sequence[KeyedWrite]) -> list[Any]:
        """Apply ``writes`` in order; for each, its result or the ``CcbError`` CCB answered it with.

        Every write is applied exactly once: a refused write (a ``CcbError`` in its place) leaves nothing
        behind, and the others are unaffected by it. Any other exception (a crash, a cancelled task) rolls
        back the transaction it interrupted; writes committed before it answer from their stored records
        when the run is sent again, so resending the whole run is always safe.
        """
        ...
