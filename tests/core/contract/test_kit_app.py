"""The web kit as a plugin meets it: Controllers with ctx/staff/idempotency/guard, one answer to bad input,
one CSRF policy, and the SSE streams."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
import pytest
from litestar import Controller, Request, get, post
from litestar.response import ServerSentEvent, Template

from core.contract import PageSpec, PluginContext, PluginManifest, hookimpl
from core.contract.contact import Guard
from core.contract.idempotency import Idempotency, run_once
from core.contract.inputs import decode_form
from core.contract.scope import NONE, account
from core.contract.streams import Message
from core.contract.web import Ctx, CurrentStaff, FromPath, JSONBody, NamedDependency, form_body

SECTION = "call-center"


class Terms(msgspec.Struct, forbid_unknown_fields=True):
    installments: Annotated[int, msgspec.Meta(ge=1, le=12)]


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    account_id: str
    terms: Terms


class NoteForm(msgspec.Struct, kw_only=True):
    text: Annotated[str, msgspec.Meta(min_length=3)]


class KitController(Controller):
    path = "/kit"
    opt = {"access": "staff"}

    @post("/plans", customer_data=NONE)
    async def plan(
        self, data: JSONBody[PlanIn], ctx: Ctx, staff: CurrentStaff, idempotency: Idempotency
    ) -> dict[str, Any]:
        async def write(_session: Any) -> tuple[int, dict[str, Any]]:
            return 201, {"by": staff.name, "plugin": ctx.plugin_id, "months": data.terms.installments}

        answer = await run_once(ctx.db.session, "kit.plan", idempotency, write, now=ctx.clock.now)
        return {**answer.decode(dict), "replayed": answer.replayed}

    @get("/accounts/{account_id:str}", customer_data=account(path="account_id"))
    async def account(self, account_id: FromPath[str], guard: Guard) -> dict[str, str]:
        access = await guard.account(account_id, purpose="kit test")
        return {"account_id": account_id, "contact": str(access.contact_id)}

    @get("/stream", customer_data=NONE)
    async def stream(self, ctx: Ctx) -> ServerSentEvent:
        async def first() -> list[Message]:
            return [Message(event="hello", data="now")]

        return ServerSentEvent(ctx.streams.sse("kit", first=first, limit=3, keepalive_s=0.05))


class KitPages(Controller):
    path = "/"
    opt = {"access": "staff"}
    include_in_schema = False

    @get("/", customer_data=NONE)
    async def page(self, request: Request[Any, Any, Any]) -> Template:
        return Template(template_name="error.html", context={"code": 200, "detail": "kit", "nav": []})

    @post("/notes", dependencies={"form": form_body(NoteForm)}, customer_data=NONE)
    async def note(self, form: NamedDependency[NoteForm]) -> dict[str, str]:
        return {"text": form.text}

    @post("/notes-inline", customer_data=NONE)
    async def note_inline(self, request: Request[Any, Any, Any]) -> dict[str, str]:
        return {"text": decode_form(await request.form(), NoteForm).text}


class KitPlugin:
    @staticmethod
    @hookimpl
    def hub_manifest() -> PluginManifest:
        return PluginManifest(id="kit", title="Kit", version="1.0.0")

    @staticmethod
    @hookimpl
    def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
        return [KitController]

    @staticmethod
    @hookimpl
    def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
        return [PageSpec(handler=KitPages, nav_title="Kit page")]


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [KitPlugin]


@pytest.fixture
async def token(staff_token: Any, enable_plugin: Any) -> dict[str, str]:
    await enable_plugin("kit", SECTION)
    return {"Authorization": f"Bearer {await staff_token('csr', SECTION)}"}


async def test_a_controller_gets_ctx_staff_and_idempotency(hub_client: Any, token: dict[str, str]) -> None:
    body = {"account_id": "1234567890", "terms": {"installments": 3}}
    headers = {**token, "Idempotency-Key": "kit-plan-0001"}
    first = await hub_client.post("/api/kit/kit/plans", json=body, headers=headers)
    again = await hub_client.post("/api/kit/kit/plans", json=body, headers=headers)
    assert first.status_code == 201 and first.json()["plugin"] == "kit" and first.json()["months"] == 3
    assert again.json()["replayed"] is True and first.json()["replayed"] is False
    other = await hub_client.post(
        "/api/kit/kit/plans", json={**body, "terms": {"installments": 4}}, headers=headers
    )
    assert other.status_code == 422 and other.json()["extra"][0]["key"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"account_id": "1", "terms": {"installments": 0}}, 422, "terms.installments"),
        ({"account_id": "1", "terms": {}}, 422, "terms.installments"),
        ({"account_id": "1", "terms": {"installments": 2, "rate": 1}}, 422, "terms.rate"),
        ({"terms": {"installments": 2}}, 422, "account_id"),
        ([1, 2], 422, "body"),
    ],
)
async def test_a_misfit_body_is_422_naming_the_full_path(
    hub_client: Any, token: dict[str, str], body: Any, status: int, field: str
) -> None:
    r = await hub_client.post("/api/kit/kit/plans", json=body, headers=token)
    assert r.status_code == status, r.text
    assert r.json()["extra"][0]["key"] == field


@pytest.mark.parametrize("raw", [b"", b"{", b'{"account_id": '])
async def test_malformed_or_empty_json_is_400(hub_client: Any, token: dict[str, str], raw: bytes) -> None:
    r = await hub_client.post(
        "/api/kit/kit/plans", content=raw, headers={**token, "Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text


async def test_the_guard_dependency_refuses_without_a_verified_contact(
    hub_client: Any, token: dict[str, str]
) -> None:
    r = await hub_client.get("/api/kit/kit/accounts/1234567890", headers=token)
    assert r.status_code in (403, 404), r.text


async def test_streams_send_the_first_state_then_what_is_published(hub: Any) -> None:
    received: list[str] = []

    async def read() -> None:
        async for message in hub.streams.sse("kit", limit=2, keepalive_s=0.02):
            received.append(message.event or "keep-alive")

    task = asyncio.create_task(read())
    for _ in range(500):  # the reader subscribes on its first step
        if hub.streams.subscribers("kit"):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # at least one keep-alive while nothing is published
    hub.streams.publish("kit", "first", "1")
    hub.streams.publish("kit", "second", "2")
    await asyncio.wait_for(task, 5)
    assert "keep-alive" in received and [e for e in received if e != "keep-alive"] == ["first", "second"]


async def test_a_slow_subscriber_keeps_the_newest_messages(hub: Any) -> None:
    from core.contract.streams import Streams

    small = Streams(backlog=3)
    async with small:
        async with small.plugin.start_subscription(["slow"]) as subscriber:
            for n in range(10):
                small.publish("slow", "n", str(n))
            await asyncio.sleep(0.1)
            events = subscriber.iter_events()
            got = [
                msgspec.json.decode(await asyncio.wait_for(anext(events), 1), type=Message).data
                for _ in range(3)
            ]
    assert got == ["7", "8", "9"]


async def _login(hub_client: Any, staff_token: Any, enable_plugin: Any) -> str:
    import re

    await enable_plugin("kit", SECTION)
    await staff_token("csr", SECTION, name="kit.user", password="kit-user-password")
    page = await hub_client.get("/ui/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    await hub_client.post(
        "/ui/login", data={"name": "kit.user", "password": "kit-user-password", "_csrf_token": token.group(1)}
    )
    return token.group(1)


async def test_one_csrf_policy_for_every_form(hub_client: Any, staff_token: Any, enable_plugin: Any) -> None:
    csrf = await _login(hub_client, staff_token, enable_plugin)
    forged = await hub_client.post("/ui/kit/notes", data={"text": "hello"})
    assert forged.status_code == 403
    ok = await hub_client.post("/ui/kit/notes", data={"text": "hello", "_csrf_token": csrf})
    assert ok.status_code == 201 and ok.json() == {"text": "hello"}
    bad = await hub_client.post("/ui/kit/notes", data={"text": "hi", "_csrf_token": csrf})
    assert bad.status_code == 422 and "text" in bad.text
    inline = await hub_client.post("/ui/kit/notes-inline", data={"text": "hi", "_csrf_token": csrf})
    assert inline.status_code == 422


async def test_an_anonymous_form_post_lands_on_the_login_page(hub_client: Any) -> None:
    r = await hub_client.post("/ui/kit/notes", data={"text": "hello"})
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/ui/login")


async def test_the_nav_entry_of_a_page_controller(
    hub_client: Any, staff_token: Any, enable_plugin: Any
) -> None:
    await _login(hub_client, staff_token, enable_plugin)
    shell = await hub_client.get("/ui/")
    assert 'href="/ui/kit"' in shell.text and "Kit page" in shell.text


async def test_the_guard_passes_inside_a_verified_contact_for_that_account_only(
    hub_client: Any, token: dict[str, str], ccb_customers: Any, verified_contact: Any
) -> None:
    mine, other = await ccb_customers(2)
    headers = await verified_contact(token, mine)
    r = await hub_client.get(f"/api/kit/kit/accounts/{mine.account_id}", headers=headers)
    assert r.status_code == 200 and r.json()["contact"] == headers["X-Contact-Id"]
    elsewhere = await hub_client.get(f"/api/kit/kit/accounts/{other.account_id}", headers=headers)
    assert elsewhere.status_code == 403
