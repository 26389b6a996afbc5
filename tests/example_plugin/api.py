"""The example plugin's JSON routes (under /api/example): a greeting, post a ping, list the board."""

from __future__ import annotations

from litestar import Controller, get, post

from core.contract.scope import NONE
from core.contract.web import Ctx, CurrentStaff, JSONBody
from tests.example_plugin import service
from tests.example_plugin.schemas import PingRequest, PingView


class ExampleController(Controller):
    path = "/"
    tags = ["example"]

    @get("/hello", opt={"access": "staff"}, customer_data=NONE)
    async def hello(self, ctx: Ctx, staff: CurrentStaff) -> dict[str, str]:
        return {"greeting": f"{ctx.config.greeting}, {staff.name}"}

    @post("/pings", opt={"roles": ["csr", "lead"]}, status_code=202, customer_data=NONE)
    async def post_ping(self, ctx: Ctx, staff: CurrentStaff, data: JSONBody[PingRequest]) -> dict[str, str]:
        return {"event_id": await service.post_ping(ctx, staff, data)}

    @get("/pings", opt={"access": "staff"}, customer_data=NONE)
    async def list_pings(self, ctx: Ctx) -> list[PingView]:
        return service.pings(ctx)
