"""Routes and the page of the example plugin."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import JSONBody
from litestar.response import Template

from core.contract import PluginContext
from core.redact import redact
from core.security import current_staff
from core.web.pages import render
from tests.example_plugin import events


class PingRequest(msgspec.Struct, forbid_unknown_fields=True):
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    urgent: bool = False


def routes(ctx: PluginContext) -> list[Any]:
    @get("/hello", opt={"access": "staff"})
    async def hello(request: Request[Any, Any, Any]) -> dict[str, str]:
        return {"greeting": f"{ctx.config.greeting}, {current_staff(request).name}"}

    @post("/pings", opt={"roles": ["csr", "lead"]}, status_code=202)
    async def post_ping(request: Request[Any, Any, Any], data: JSONBody[PingRequest]) -> dict[str, str]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            env = ctx.events.emit(
                session,
                events.PINGED,
                events.Pinged(author=staff.name, message=redact(data.message), urgent=data.urgent),
                actor=staff.actor,
            )
            await ctx.audit.append(session, actor=staff.actor, action="example.ping", target=env.id)
        return {"event_id": env.id}

    @get("/pings", opt={"access": "staff"})
    async def list_pings() -> list[dict[str, Any]]:
        return [
            {"event_id": p.event_id, "author": p.author, "message": p.message, "urgent": p.urgent}
            for p in events.board_of(ctx).pings
        ]

    return [hello, post_ping, list_pings]


def board_page(ctx: PluginContext) -> Any:
    @get("/", opt={"access": "staff"})
    async def board(request: Request[Any, Any, Any]) -> Template:
        return render(request, "example/board.html", pings=events.board_of(ctx).pings)

    return board
