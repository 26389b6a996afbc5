"""Property-based API test: every operation of the served OpenAPI document, fuzzed with an admin's token.

The hub is served by granian with every installed plugin enabled for one section the admin belongs to,
and seeded customers; it holds a token for the admin and for the roles most routes are written for.
Schemathesis reads ``/schema/openapi.json`` and, for each operation and token, sends a few schema-valid
requests (bodies, path, query and header parameters as documented) and a couple of invalid ones. No answer
may be a 5xx; a valid request's answer must agree with the document (a status it declares, its content
type, a body that fits its schema), an invalid one's status must be declared. Bounded (a few examples per
operation) so it stays within a couple of minutes; the event streams, which never end, are left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import hypothesis
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from core.ccb.seed import identity_key, seed_customers
from core.contract.testing import serve_hub
from core.hub import Hub
from core.migrate import upgrade
from core.sections import set_enabled
from core.settings import Settings

pytestmark = pytest.mark.slow

SECRET = "openapi-fuzz-secret-key"
SECTION = "call-center"
# The admin first; then the roles most routes are written for, so their handlers run past the role check.
ROLES = ("admin", "lead", "cro", "security", "solar")
# Per operation and role: ~160 operations stay within a couple of minutes on a busy machine.
EXAMPLES = 4
NEGATIVE_EXAMPLES = 2
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Invalid input: never a 5xx, and only statuses the document declares (400/404/422 ...).
NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance]


async def _seed(database_url: str) -> dict[str, str]:
    """Every installed plugin enabled for the fuzzers' section, some customers; a token per role."""
    settings = msgspec.convert({"database_url": database_url, "secret_key": SECRET}, Settings)
    hub = Hub(settings, entry_points=True)
    await hub.start()
    try:
        async with hub.db.session() as session:
            for rec in hub.plugins.running():
                if rec.source != "core":
                    await set_enabled(
                        session,
                        hub.events,
                        hub.audit,
                        plugin_id=rec.id,
                        section=SECTION,
                        enabled=True,
                        actor="fuzz",
                    )
            tokens = {}
            for role in ROLES:
                _user, tokens[role] = await hub.staff.add_user(
                    session, name=f"fuzz.{role}", role=role, sections=[SECTION], password=None, actor="fuzz"
                )
        await seed_customers(hub.db, 3, 5, identity_key(SECRET))
        return tokens
    finally:
        await hub.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("openapi-fuzz")
    url = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    upgrade(url)
    tokens = asyncio.run(_seed(url))
    env = {"HUB_DATABASE_URL": url, "HUB_SECRET_KEY": SECRET}
    with serve_hub(env, folder) as base:
        yield base, tokens


class Tally:
    """What the fuzzing saw: answers by status, operations that answered 2xx, failures by operation."""

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}
        self.succeeded: set[str] = set()
        self.failures: dict[str, set[str]] = {}


def _fuzz(operation: Any, base: str, token: str, mode: GenerationMode, tally: Tally) -> None:
    """A few generated requests to ``operation``; each failed check is kept under the operation's label."""
    headers = {"Authorization": f"Bearer {token}"}
    checks = CHECKS if mode is GenerationMode.POSITIVE else NEGATIVE_CHECKS

    @hypothesis.settings(
        max_examples=EXAMPLES if mode is GenerationMode.POSITIVE else NEGATIVE_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=base, headers=headers, timeout=30)
        tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
        if 200 <= response.status_code < 300:
            tally.succeeded.add(operation.label)
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # a failed check, or a group of them
            lines = " | ".join(str(exc).strip().splitlines()[:8])
            tally.failures.setdefault(operation.label, set()).add(f"{mode.value}: {lines}")

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing invalid can be made for an operation without inputs (negative mode)


def test_every_operation_answers_as_documented_and_never_5xx(served: tuple[str, dict[str, str]]) -> None:
    base, tokens = served
    schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json")
    tally = Tally()
    operations, streams = 0, []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):  # an operation the document describes so badly it cannot be used
            tally.failures.setdefault("the document", set()).add(str(result.err()))
            continue
        operation = result.ok()
        success = operation.definition.raw["responses"].get("200", {}).get("content", {})
        if "text/event-stream" in success:
            streams.append(operation.label)  # never ends by itself: the plugins' stream tests cover these
            continue
        operations += 1
        for token in tokens.values():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, base, token, mode, tally)
    report = "\n".join(
        f"{label}:\n  " + "\n  ".join(sorted(p)) for label, p in sorted(tally.failures.items())
    )
    assert not tally.failures, f"{len(tally.failures)} of {operations} operations:\n{report}"
    assert sorted(streams) == [
        "GET /api/escalations/stream",
        "GET /api/outage/stream",
        "GET /api/phone/events",
    ]
    # Not a test of 403s alone: the roles' tokens get past the guard on many operations.
    assert operations > 100 and len(tally.succeeded) > 50, (len(tally.succeeded), tally.statuses)
