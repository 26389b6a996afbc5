"""The web kit: what every plugin's and core part's HTTP code uses, so each rule exists once.

A plugin writes thin Litestar ``Controller`` classes (litestar-fullstack style). Their methods receive,
by parameter name, the dependencies the core provides on every route:

* ``ctx: Ctx`` — the plugin's ``PluginContext`` (the core binds it on the plugin's router);
* ``staff: CurrentStaff`` — the member of staff the access guard authenticated;
* ``form`` — see :func:`form_body`: a posted HTML form already decoded into a Struct (422 naming the
  field when it does not fit);
* ``idempotency: Idempotency`` — the checked ``Idempotency-Key`` header, or None
  (``core.contract.idempotency``);
* ``guard: Guard`` — the verified-contact guard (``core.contract.contact``).

Every handler declares what customer data it answers with, ``customer_data=`` in its decorator (it lands in
``opt``): ``NONE``, ``account(path=…|body=…|record=…)``, ``premise(path=…)``, ``CONTACT`` or
``QUEUE(roles=…)`` — :mod:`core.contract.scope`, re-exported here; a queue shows a record's customer fields
through ``customer_view`` and ``withhold``.

Parameters are marked as Litestar 2.23+ wants (unmarked ones stop working in Litestar 3): a JSON body is
``data: JSONBody[SomeStruct]``, path and query parameters ``FromPath[int]`` / ``FromQuery[str | None]``, a
decoded form ``form: NamedDependency[FormStruct]``. The app's one validation handler keeps
the project's contract (malformed → 400, misfit → 422 whose ``extra[0].key`` is the full field path).

CSRF is one app-wide policy (Litestar's double-submit middleware on every ``/ui`` form post); no handler
opts out and none checks a token itself. Pages render inside the shell with :func:`render`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Controller, Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Template

from core.clock import local
from core.contract.descriptors import PluginContext
from core.contract.inputs import InputError, decode_form
from core.contract.scope import (
    CONTACT,
    NONE,
    QUEUE,
    Scope,
    account,
    account_from_record,
    customer_view,
    own_contact_for,
    premise,
    withhold,
)
from core.contract.staff import Role, Staff

__all__ = [
    "CONTACT",
    "NONE",
    "QUEUE",
    "Controller",
    "Ctx",
    "CurrentStaff",
    "FromPath",
    "FromQuery",
    "JSONBody",
    "NamedDependency",
    "Provide",
    "Role",
    "Scope",
    "Staff",
    "account",
    "account_from_record",
    "constant",
    "current_staff",
    "customer_view",
    "fail",
    "form_body",
    "own_contact_for",
    "premise",
    "provide_staff",
    "render",
    "withhold",
]

T = TypeVar("T")

# The kit's dependencies as handler parameter types (Litestar's named dependencies): ``ctx: Ctx``,
# ``staff: CurrentStaff``; see core.contract.contact.Guard and core.contract.idempotency.Idempotency.
Ctx = NamedDependency[PluginContext]
CurrentStaff = NamedDependency[Staff]

# Access policies a handler declares in ``opt`` (read by the core's access guard; deny by default).
PUBLIC = {"access": "public"}
STAFF = {"access": "staff"}


def current_staff(connection: ASGIConnection[Any, Any, Any, Any]) -> Staff:
    """The caller the access guard authenticated (only valid on non-public routes)."""
    user = connection.scope.get("user")
    if not isinstance(user, Staff):
        raise NotAuthorizedException("authentication required")
    return user


async def provide_staff(request: Request[Any, Any, Any]) -> Staff:
    """Dependency ``staff``: the authenticated member of staff."""
    return current_staff(request)


def constant(value: Any) -> Provide:
    """A dependency that always provides ``value`` (the core binds ``ctx`` on a plugin's router with it)."""

    async def provide() -> Any:
        return value

    return Provide(provide, use_cache=True)


def form_body(type_: type[T]) -> Provide:
    """Dependency for a posted HTML form decoded into ``type_`` (see ``core.contract.inputs.decode_form``).

    Declare it on the handler: ``@post(..., dependencies={"form": form_body(NoteForm)})`` and take
    ``form: NamedDependency[NoteForm]``. A page that re-renders itself with the error inline reads the
    raw form with ``await request.form()`` and calls ``decode_form`` itself, catching :class:`InputError`.
    """

    async def provide(request: Request[Any, Any, Any]) -> T:
        return decode_form(await request.form(), type_)

    return Provide(provide)


def fail(field: str, message: str, status_code: int = 422) -> HTTPException:
    """A 4xx naming ``field``: ``raise fail("account_id", "no such account", 404)``."""
    return InputError(field, message, status_code).http()


PageContext = Callable[[Request[Any, Any, Any], Staff], list[dict[str, str]]]


def render(
    request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any
) -> Template:
    """Render a page inside the web shell (templates ``{% extends "base.html" %}``).

    The shell's navigation comes from the app (``app.state["nav"]``, set by the core), so a plugin never
    reaches into the hub to build it.
    """
    staff = request.scope.get("user")
    context.setdefault("staff", staff)
    if "nav" not in context:
        nav: PageContext | None = request.app.state.get("nav")
        context["nav"] = nav(request, staff) if nav is not None and isinstance(staff, Staff) else []
    context.setdefault("local", local)
    return Template(template_name=template, context=context, status_code=status_code)
