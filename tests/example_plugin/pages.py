"""The example plugin's page (under /ui/example): the ping board."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from core.contract.scope import NONE
from core.contract.web import Ctx, render
from tests.example_plugin import service


class BoardPages(Controller):
    path = "/"
    opt = {"access": "staff"}
    include_in_schema = False

    @get("/", customer_data=NONE)
    async def board(self, request: Request[Any, Any, Any], ctx: Ctx) -> Template:
        return render(request, "example/board.html", pings=service.board_of(ctx).pings)
