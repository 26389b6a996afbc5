"""The contract's ports a plugin reaches without importing the core: the contact desk and the guard's form
reason and change log, Customer Connect through ``ctx.connect``, the CLI's database, and one idempotency key
rule for body and header."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
import msgspec
import pytest
from litestar import Controller, post

from core.ccb.seed import SeedAccount, identity_key, seed_customers
from core.contract import PluginContext, PluginManifest, ServiceDirectory, hookimpl
from core.contract.cli import hub_database
from core.contract.contact import (
    CONTACT_ROLES,
    REASON_ROLES,
    AccessDenied,
    ContactDesk,
    Guard,
    Locked,
    contact_desk,
)
from core.contract.customer_connect import CustomerConnect, IncidentNotFound, customer_connect
from core.contract.idempotency import IdempotencyKey, request_key
from core.contract.inputs import InputError
from core.contract.scope import account
from core.contract.staff import Role, Staff
from core.contract.web import FromPath, JSONBody

SECTION = "call-center"


class ChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    contact_id: str | None = None
    reason: str | None = None


class DeskController(Controller):
    path = "/desk"
    opt = {"access": "staff"}

    @post(
        "/accounts/{account_id:str}",
        status_code=200,
        customer_data=account(record="form: the reason it carries"),
    )
    async def change(
        self, account_id: FromPath[str], guard: Guard, data: JSONBody[ChangeIn]
    ) -> dict[str, Any]:
        # What a page form does: it carries the contact and the reason as fields.
        access = await guard.account(
            account_id, purpose="desk test", change=True, contact_id=data.contact_id, reason=data.reason
        )
        await guard.note_change(access, "desk", f"changed {account_id}")
        return {"contact": access.contact_id, "reason": access.reason, "actor": access.actor}


class DeskPlugin:
    """A plugin naming no dependency: the core's services still reach it."""

    @staticmethod
    @hookimpl
    def hub_manifest() -> PluginManifest:
        return PluginManifest(id="desk", title="Desk", version="1.0.0")

    @staticmethod
    @hookimpl
    def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
        return [DeskController]


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [DeskPlugin]


@pytest.fixture
async def customer(hub: Any) -> SeedAccount:
    return (await seed_customers(hub.db, 1, 11, identity_key(hub.settings.secret_key)))[0]


def desk_ctx(hub: Any) -> PluginContext:
    ctx = hub.plugins.records["desk"].ctx
    assert isinstance(ctx, PluginContext)
    return ctx


def csr(name: str = "ann") -> Staff:
    return Staff(id=1, name=name, role=Role.CSR, sections=frozenset({SECTION}))


def test_the_contact_part_raises_the_contract_classes() -> None:
    import core.contact
    from core.ccb import offline
    from core.contract import ccb

    assert core.contact.AccessDenied is AccessDenied and core.contact.Locked is Locked
    assert core.contact.REASON_ROLES is REASON_ROLES and core.contact.CONTACT_ROLES is CONTACT_ROLES
    assert offline.RecordedOffline is ccb.RecordedOffline
    assert {Role.LEAD, Role.SUPERVISOR, Role.CRO} == REASON_ROLES and "csr" in CONTACT_ROLES


def test_a_core_part_is_reachable_without_naming_it() -> None:
    offers: dict[type, tuple[str, object]] = {ContactDesk: ("contact", "desk"), int: ("letters", 1)}
    seen = ServiceDirectory(offers, (), (), core=frozenset({"contact"}))
    assert seen.get(ContactDesk) == "desk"  # type: ignore[type-abstract]
    with pytest.raises(LookupError, match="letters"):
        seen.get(int)
    with pytest.raises(LookupError, match="contact"):
        ServiceDirectory(offers, (), ()).get(ContactDesk)  # type: ignore[type-abstract]


async def test_the_desk_opens_verifies_and_closes_contacts(hub: Any, customer: SeedAccount) -> None:
    desk = contact_desk(desk_ctx(hub))
    assert isinstance(desk, ContactDesk)
    ann = csr()
    opened = await desk.open_contact(channel="phone", actor=ann.actor, owner=ann.name)
    assert opened.status == "open" and not opened.locked and list(opened.verified_accounts) == []
    failed = await desk.verify(ann, opened.contact_id, customer.account_id, "access_code", "000000")
    assert not failed.verified and failed.attempts_left == 2 and failed.locked is None
    passed = await desk.verify(
        ann, opened.contact_id, customer.account_id, "access_code", customer.access_code
    )
    assert passed.verified
    mine = await desk.my_contacts(ann)
    assert [c.contact_id for c in mine] == [opened.contact_id]
    assert list(mine[0].verified_accounts) == [customer.account_id]
    with pytest.raises(AccessDenied):
        await desk.get_contact(csr("bob"), opened.contact_id)
    access = await desk.authorize(
        ann, contact_id=opened.contact_id, reason=None, purpose="desk test", account_id=customer.account_id
    )
    assert access.contact_id == opened.contact_id and access.reason is None
    closed = await desk.wrap_up(ann, opened.contact_id, note_kind="customer", note=None)
    assert closed.status != "open" and await desk.my_contacts(ann) in ([], [closed])


async def test_a_locked_contact_raises_the_contract_class(hub: Any, customer: SeedAccount) -> None:
    desk = contact_desk(desk_ctx(hub))
    assert desk is not None
    ann = csr()
    opened = await desk.open_contact(channel="phone", actor=ann.actor, owner=ann.name)
    for _ in range(3):
        await desk.verify(ann, opened.contact_id, customer.account_id, "access_code", "000000")
    with pytest.raises(Locked) as locked:
        await desk.verify(ann, opened.contact_id, customer.account_id, "access_code", customer.access_code)
    assert locked.value.scope == "contact" and locked.value.attempts_left == 0


async def test_the_guard_takes_a_form_reason_and_logs_the_change(
    hub: Any, hub_client: Any, staff_token: Any, enable_plugin: Any, customer: SeedAccount
) -> None:
    await enable_plugin("desk", SECTION)
    lead = {"Authorization": f"Bearer {await staff_token('lead', SECTION, name='lee')}"}
    ann = {"Authorization": f"Bearer {await staff_token('csr', SECTION, name='ann')}"}
    url = f"/api/desk/desk/accounts/{customer.account_id}"

    by_reason = await hub_client.post(url, headers=lead, json={"reason": "claim mailed in"})
    assert by_reason.status_code == 200, by_reason.text
    assert by_reason.json() == {"contact": None, "reason": "claim mailed in", "actor": "staff:lee"}
    # The header wins over the form's field.
    header = await hub_client.post(
        url, headers={**lead, "X-Access-Reason": "from the header"}, json={"reason": "from the form"}
    )
    assert header.json()["reason"] == "from the header"
    refused = await hub_client.post(url, headers=ann, json={"reason": "I am sure"})
    assert refused.status_code == 403 and "only a lead" in refused.text

    desk = contact_desk(desk_ctx(hub))
    assert desk is not None
    opened = await desk.open_contact(channel="phone", actor="staff:ann", owner="ann")
    await desk.verify(csr(), opened.contact_id, customer.account_id, "access_code", customer.access_code)
    in_contact = await hub_client.post(url, headers=ann, json={"contact_id": opened.contact_id})
    assert in_contact.status_code == 200 and in_contact.json()["contact"] == opened.contact_id
    r = await hub_client.get(f"/api/contacts/{opened.contact_id}", headers=ann)
    kinds = [a["kind"] for a in r.json()["actions"]]
    # A change is logged once, by note_change, not by the pass itself.
    assert kinds.count("change.desk") == 1 and "read.account" not in kinds


async def test_customer_connect_is_built_by_the_hubs_connector(hub: Any) -> None:
    ctx = desk_ctx(hub)
    client = customer_connect(ctx, "https://site.example.com/cc/", user="api@x", password="s3cret", retries=0)
    try:
        assert isinstance(client, CustomerConnect)
        assert str(client._http.base_url) == "https://site.example.com/cc/services/rest/connect/v1.4/"  # type: ignore[attr-defined]
    finally:
        await client.aclose()
    with pytest.raises(ValueError, match=r"plugins\.desk"):
        customer_connect(ctx, "ftp://site.example.com", user="u", password="p")
    with pytest.raises(ValueError, match=r"plugins\.desk"):
        customer_connect(ctx, "https://site.example.com")  # no user anywhere
    # A context the hub did not make builds no connectors.
    bare = PluginContext(
        **{name: getattr(ctx, name) for name in PluginContext.__annotations__ if name != "connect"}
    )
    with pytest.raises(LookupError, match="crm"):
        customer_connect(bare, "https://u:p@site.example.com")


def test_the_connector_raises_the_contract_errors() -> None:
    from connectors import customer_connect as connector

    assert (
        connector.IncidentNotFound is IncidentNotFound
        and connector.Incident.__module__ == "core.contract.customer_connect"
    )


def test_request_key_merges_body_and_header() -> None:
    header = IdempotencyKey(value="header-key-1", fingerprint="f")
    assert request_key(None, None) is None
    assert request_key(" body-key-01 ", None) == "body-key-01"
    assert request_key(None, header) == "header-key-1"
    assert request_key("header-key-1", header) == "header-key-1"
    with pytest.raises(InputError) as differs:
        request_key("other-key-01", header)
    assert differs.value.field == "idempotency_key" and "Idempotency-Key" in str(differs.value)
    with pytest.raises(InputError) as bad:
        request_key("short", None, field="key")
    assert bad.value.field == "key"


async def test_a_cli_command_opens_the_hubs_database(
    hub_settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from sqlalchemy import text

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUB_CONFIG", raising=False)
    monkeypatch.setenv("HUB_DATABASE_URL", hub_settings.database_url)
    monkeypatch.setenv("HUB_SECRET_KEY", "cli-test-secret")
    async with hub_database() as db, db.session() as session:
        assert (await session.execute(text("select 1"))).scalar() == 1
    monkeypatch.setenv("HUB_BUS_URL", "kafka://broker:9092")
    with pytest.raises(click.UsageError, match="HUB_BUS_URL"):
        async with hub_database():
            pass
