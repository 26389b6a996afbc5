"""The HTTP baseline: a bare Litestar app with only the route the hub's is compared against.

Same framework, same server, same handler as the hub's ``GET /health/live`` (a plain function called on the
event loop, returning the same dict); what is left out is everything the hub wraps around it: the app-wide
guard, CSRF configuration, the plugins' routers, templates and OpenAPI. Served as ``benchmarks.bare_app:app``.
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/health/live", sync_to_thread=False)
def live() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[live], debug=False)
