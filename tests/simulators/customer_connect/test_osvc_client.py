"""The Customer Connect simulator driven by an independent client: osvc-python, a third-party wrapper of
Oracle B2C Service's Connect REST API, used unchanged except for its base URL.

osvc-python builds ``https://{interface}.custhelp.com/services/rest/connect/{version}/…`` in
``OSvCPythonConfig.url_format``; the tests replace only the ``https://{interface}.custhelp.com`` part with
the simulator's address. The simulator runs for real (granian, in a subprocess) with ``--tls``; the client
trusts its self-signed certificate through ``REQUESTS_CA_BUNDLE``, so certificate checks stay on.

The rest checks what the documentation says a site does and the client relies on: the versions, the
v1.4 application-context rule, ``OPTIONS``, the default page size, ROQL through ``queryResults``, the
metadata catalog and the documented error codes. Those run in process where no network is needed.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from osvc_python import (
    OSvCPythonClient,
    OSvCPythonConnect,
    OSvCPythonQueryResults,
    OSvCPythonQueryResultsSet,
)
from osvc_python.osvc_python_config import OSvCPythonConfig
from sqlalchemy import insert, text

from simulators.customer_connect import IncidentStore, SimulatorConfig, create_app
from simulators.customer_connect.tables import cc_incidents

ROOT = Path(__file__).resolve().parents[3]
USER, PASSWORD, SESSION = "osvc-user", "osvc-pw-1", "agent-session-7f3c"
INTERFACE = "ladwp"  # any name: only the part of the URL after the host is kept
CONTEXT = {"OSvC-CREST-Application-Context": "ccbhub osvc tests"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The simulator over HTTPS on a free port; yields its base URL and the certificate to trust."""
    tmp = tmp_path_factory.mktemp("osvc")
    port = _free_port()
    cmd = [sys.executable, "-m", "simulators.customer_connect", "--port", str(port), "--tls"]
    cmd += ["--tls-dir", str(tmp / "tls"), "--database", str(tmp / "site.sqlite")]
    cmd += ["--generate", "3", "--seed", "5", "--user", USER, "--password", PASSWORD]
    cmd += ["--session-token", SESSION, "--require-app-context"]
    log = tmp / "sim.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base, cert = f"https://127.0.0.1:{port}", tmp / "tls" / "cert.pem"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                probe = httpx.get(
                    base + "/services/rest/connect/v1.3/incidents",
                    auth=(USER, PASSWORD),
                    verify=ssl.create_default_context(cafile=cert),
                )
                if probe.status_code == 200:
                    break
            except (httpx.TransportError, OSError):
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("simulator did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.1)
        yield base, cert
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def site(served: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> str:
    """Point osvc-python at the simulator: only the scheme-and-host part of its URLs changes."""
    base, cert = served
    original = OSvCPythonConfig.url_format

    def url_format(self: OSvCPythonConfig, kwargs: dict[str, Any]) -> str:
        url: str = original(self, kwargs)
        prefix = f"https://{kwargs['client'].interface}.custhelp.com"
        assert url.startswith(prefix), url
        return base + url[len(prefix) :]

    monkeypatch.setattr(OSvCPythonConfig, "url_format", url_format)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    return base


def basic(**kwargs: Any) -> OSvCPythonClient:
    return OSvCPythonClient(interface=INTERFACE, username=USER, password=PASSWORD, **kwargs)


def test_osvc_python_creates_updates_reads_queries_and_deletes(site: str) -> None:
    client = basic()  # the library's default version, v1.3
    assert client.version == "v1.3"
    api = OSvCPythonConnect()
    contact = api.post(
        client=client,
        url="contacts",
        json={
            "name": {"first": "Rosa", "last": "Delgado"},
            "emails": [{"address": "rosa.delgado@example.net", "addressType": {"id": 0}}],
        },
    )
    assert contact["lookupName"] == "Rosa Delgado"

    created = api.post(
        client=client,
        url="incidents",
        json={
            "subject": "Bill doubled after meter exchange",
            "primaryContact": {"lookupName": "Rosa Delgado"},
            "product": {"lookupName": "Billing"},
            "category": {"lookupName": "Billing - High Bill"},
            "severity": {"id": 2},
            "assignedTo": {"account": {"lookupName": "Maria Gonzalez"}, "staffGroup": {"id": 2}},
            "statusWithType": {"status": {"lookupName": "Unresolved"}},
            "threads": [{"entryType": {"lookupName": "Customer Entry"}, "text": "My bill doubled."}],
        },
    )
    incident_id = created["id"]
    assert created["primaryContact"]["id"] == contact["id"]
    assert created["product"] == {"id": 3, "lookupName": "Billing"}
    assert created["severity"]["lookupName"] == "High"
    assert created["assignedTo"]["account"]["lookupName"] == "Maria Gonzalez"
    assert created["assignedTo"]["staffGroup"]["lookupName"] == "Billing Team"

    # PATCH travels as a POST with X-HTTP-Method-Override; the site answers 200 with no body.
    updated = api.patch(
        client=client,
        url=f"incidents/{incident_id}",
        json={
            "statusWithType": {"status": {"lookupName": "Solved"}},
            "severity": {"lookupName": "Low"},
            "threads": [
                {"entryType": {"lookupName": "Staff Response"}, "text": "Meter re-read; bill fixed."}
            ],
        },
    )
    assert updated == b""

    read = api.get(client=client, url=f"incidents/{incident_id}")
    assert read["statusWithType"]["statusType"]["lookupName"] == "Solved" and read["closedTime"]
    assert read["severity"]["lookupName"] == "Low" and read["product"]["lookupName"] == "Billing"
    threads = api.get(client=client, url=f"incidents/{incident_id}/threads")["items"]
    assert [t["entryType"]["lookupName"] for t in threads] == ["Customer Entry", "Staff Response"]

    rows = OSvCPythonQueryResults().query(
        client=client,
        query=(
            "SELECT id, referenceNumber, statusWithType.status.lookupName, product.lookupName, "
            f"primaryContact.lookupName FROM incidents WHERE id = {incident_id}"
        ),
    )
    assert rows == [
        {
            "id": str(incident_id),
            "referenceNumber": created["referenceNumber"],
            "statusWithType.status.lookupName": "Solved",
            "product.lookupName": "Billing",
            "primaryContact.lookupName": "Rosa Delgado",
        }
    ]
    both = OSvCPythonQueryResultsSet().query_set(
        client=client,
        queries=[
            {"key": "open", "query": "SELECT id FROM incidents WHERE statusWithType.statusType.id = 1"},
            {
                "key": "rosa",
                "query": "SELECT id, emails.address FROM contacts WHERE lookupName = 'Rosa Delgado'",
            },
        ],
    )
    assert len(both.open) == 3  # the three generated incidents; the new one is solved
    assert both.rosa == [{"id": str(contact["id"]), "emails.address": "rosa.delgado@example.net"}]

    assert api.delete(client=client, url=f"incidents/{incident_id}") == b""
    gone = api.get(client=client, url=f"incidents/{incident_id}")
    assert (gone["status"], gone["o:errorCode"]) == (404, "OSC-CREST-00005")


def test_versions_and_the_application_context_rule(site: str, served: tuple[str, Path]) -> None:
    api = OSvCPythonConnect()
    # osvc-python itself refuses v1.4 without an annotation; with one it sends the header.
    with pytest.raises(Exception, match="Annotation"):
        api.get(client=basic(version="v1.4"), url="incidents")
    for version in ("v1.2", "v1.3", "v1.4", "latest"):
        page = api.get(client=basic(version=version), url="incidents", annotation="ccbhub osvc tests")
        assert len(page["items"]) >= 3
        assert f"/services/rest/connect/{version}/incidents/" in page["items"][0]["links"][0]["href"]

    # The documented rule, seen on the wire: v1.4 and latest need the header, earlier versions do not;
    # longer than 40 characters is refused everywhere.
    trust = ssl.create_default_context(cafile=served[1])
    with httpx.Client(base_url=site + "/services/rest/connect", auth=(USER, PASSWORD), verify=trust) as http:
        for version, status in (("v1.2", 200), ("v1.3", 200), ("v1.4", 400), ("latest", 400)):
            r = http.get(f"/{version}/incidents")
            assert r.status_code == status, (version, r.text)
        refused = http.get("/v1.4/incidents").json()
        assert refused["o:errorCode"] == "OSC-CREST-00016" and "Application-Context" in refused["detail"]
        too_long = {"OSvC-CREST-Application-Context": "x" * 41}
        assert http.get("/v1.3/incidents", headers=too_long).status_code == 400
        assert http.get("/v1.4/incidents", headers=CONTEXT).status_code == 200
        unsupported = http.get("/v1.1/incidents", headers=CONTEXT)
        assert unsupported.status_code == 404 and unsupported.json()["o:errorCode"] == "OSC-CREST-00003"


def test_session_authentication(site: str) -> None:
    api = OSvCPythonConnect()
    agent = OSvCPythonClient(interface=INTERFACE, session=SESSION)
    assert len(api.get(client=agent, url="incidents")["items"]) >= 3
    stale = OSvCPythonClient(interface=INTERFACE, session="expired-session")
    refused = api.get(client=stale, url="incidents")
    assert (refused["status"], refused["o:errorCode"]) == (401, "OSC-CREST-00014")
    wrong = api.get(
        client=OSvCPythonClient(interface=INTERFACE, username=USER, password="nope"), url="incidents"
    )
    assert wrong["status"] == 401


def test_options_lists_every_method(site: str) -> None:
    api = OSvCPythonConnect()
    allowed = {m.strip() for m in api.options(client=basic(), url="incidents")["Allow"].split(",")}
    assert allowed == {"GET", "POST", "OPTIONS"}
    one = {m.strip() for m in api.options(client=basic(), url="incidents/1")["Allow"].split(",")}
    assert one == {"GET", "POST", "PATCH", "DELETE", "OPTIONS"}
    assert "GET" in api.options(client=basic(), url="queryResults")["Allow"]


def test_errors_carry_the_documented_codes(site: str) -> None:
    api = OSvCPythonConnect()
    client = basic()
    unknown = api.post(client=client, url="incidents", json={"subject": "x", "banner": {"text": "hi"}})
    assert (unknown["status"], unknown["o:errorCode"]) == (400, "OSC-CREST-00006")
    assert unknown["type"] == f"{site}/services/rest/connect/exceptions/OSC-CREST-00006"
    assert unknown["title"] == "An attempt to write a resource failed."
    assert unknown["instance"] == f"{site}/services/rest/connect/v1.3/incidents"
    nobody = api.post(client=client, url="incidents", json={"subject": "x", "primaryContact": {"id": 99999}})
    assert nobody["o:errorCode"] == "OSC-CREST-00006" and "99999" in nobody["detail"]
    bad_roql = OSvCPythonQueryResults().query(client=client, query="SELECT nothing FROM incidents")
    assert (bad_roql["status"], bad_roql["o:errorCode"]) == (400, "OSC-CREST-00007")
    missing_path = api.get(client=client, url="accounts/1")
    assert (missing_path["status"], missing_path["o:errorCode"]) == (404, "OSC-CREST-00013")
    deleting = api.delete(client=client, url="incidents/99999", debug=True)
    assert deleting.status_code == 404 and deleting.json()["o:errorCode"] == "OSC-CREST-00009"
    described = api.get(client=client, url="metadata-catalog/incidents")
    writable = {a["name"] for a in described["attributes"] if not a["isReadOnlyForCreate"]}
    assert {"subject", "primaryContact", "product", "severity", "assignedTo", "threads"} <= writable
    assert api.get(client=client, url="metadata-catalog/nothing")["o:errorCode"] == "OSC-CREST-00013"


# -- in process: page size, ROQL details, body errors, an older database --
@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[tuple[Any, IncidentStore]]:
    store = IncidentStore(tmp_path / "sim.sqlite")
    await store.start()
    yield create_app(SimulatorConfig(store.database, USER, PASSWORD), store=store), store
    await store.close()


@pytest.fixture
async def http(sim: tuple[Any, IncidentStore]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim[0])
    base = "https://site.example/services/rest/connect/v1.4"
    async with httpx.AsyncClient(
        transport=transport, base_url=base, auth=(USER, PASSWORD), headers=CONTEXT
    ) as c:
        yield c


async def _bulk_incidents(store: IncidentStore, n: int) -> None:
    when = dt.datetime(2024, 3, 1, 12)
    rows = [
        {
            "reference_number": f"240301-{i:06d}",
            "ref_day": "240301",
            "ref_seq": i,
            "subject": f"Incident {i}",
            "status_id": 1,
            "channel_id": 2,
            "created_time": when,
            "updated_time": when,
        }
        for i in range(1, n + 1)
    ]
    async with store.engine.begin() as conn:
        await conn.execute(insert(cc_incidents), rows)


async def test_default_page_size_is_1000(sim: tuple[Any, IncidentStore], http: httpx.AsyncClient) -> None:
    await _bulk_incidents(sim[1], 1_001)
    first = (await http.get("/incidents")).json()
    assert len(first["items"]) == 1_000 and first["hasMore"] is True
    following = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "offset=1000" in following
    rest = (await http.get(following)).json()
    assert [i["lookupName"] for i in rest["items"]] == ["240301-001001"] and rest["hasMore"] is False
    assert len((await http.get("/incidents", params={"limit": 5})).json()["items"]) == 5
    for bad in ({"limit": 0}, {"limit": 20_001}, {"offset": -1}):
        r = await http.get("/incidents", params=bad)
        assert r.status_code == 400 and r.json()["o:errorCode"] == "OSC-CREST-00007", bad
    # A tabular query is not paged: it returns every row up to the documented 20,000.
    everything = (await http.get("/queryResults", params={"query": "SELECT COUNT(*) FROM incidents"})).json()
    assert everything["items"][0]["rows"] == [["1001"]]
    rows = (await http.get("/queryResults", params={"query": "select id from incidents"})).json()
    assert rows["items"][0]["count"] == 1_001


async def test_roql_statements(http: httpx.AsyncClient) -> None:
    contact = (await http.post("/contacts", json={"name": {"first": "Li", "last": "Wong"}})).json()
    for subject, product in (("Streetlight out; pole 12", "Streetlights"), ("Solar credit missing", "Solar")):
        body = {
            "subject": subject,
            "product": {"lookupName": product},
            "primaryContact": {"id": contact["id"]},
        }
        assert (await http.post("/incidents", json=body)).status_code == 201

    async def query(q: str) -> Any:
        r = await http.get("/queryResults/", params={"query": q})
        assert r.status_code == 200, r.text
        return r.json()["items"]

    # A semicolon inside a quoted string does not split statements; a trailing one is allowed.
    (one,) = await query("SELECT subject FROM incidents WHERE subject = 'Streetlight out; pole 12';")
    assert one == {
        "tableName": "incidents",
        "count": 1,
        "columnNames": ["subject"],
        "rows": [["Streetlight out; pole 12"]],
    }
    first, second = await query(
        "SELECT id, product.id FROM incidents WHERE product.lookupName like 'sol%' ORDER BY id DESC; "
        "SELECT * FROM contacts WHERE name.last = 'Wong'"
    )
    assert first["rows"] == [["2", "4"]]
    assert second["tableName"] == "contacts" and second["rows"][0][:4] == ["1", "Li Wong", "Li", "Wong"]
    assert second["columnNames"][:3] == ["id", "lookupName", "name.first"]
    (nulls,) = await query(
        "select id, closedTime, severity.lookupName from incidents where closedTime is null limit 1"
    )
    assert nulls["rows"] == [["1", None, None]]
    (paged,) = await query("SELECT id FROM incidents ORDER BY id LIMIT 1 OFFSET 1")
    assert paged["rows"] == [["2"]]
    for bad in (
        "DELETE FROM incidents",
        "SELECT id FROM accounts",
        "SELECT id, COUNT(*) FROM incidents",
        "SELECT id FROM incidents WHERE subject = 'unterminated",
        "SELECT id FROM incidents ORDER BY product.lookupName",
    ):
        r = await http.get("/queryResults", params={"query": bad})
        assert r.status_code == 400 and r.json()["o:errorCode"] == "OSC-CREST-00007", bad
    assert (await http.get("/queryResults")).json()["o:errorCode"] == "OSC-CREST-00007"


async def test_references_by_lookup_name_and_body_errors(http: httpx.AsyncClient) -> None:
    for first in ("Sam", "Sam"):
        await http.post("/contacts", json={"name": {"first": first, "last": "Reyes"}})
    ambiguous = await http.post(
        "/incidents", json={"subject": "x", "primaryContact": {"lookupName": "Sam Reyes"}}
    )
    assert ambiguous.status_code == 400 and "2 contacts" in ambiguous.json()["detail"]
    for body in (
        {"subject": "x", "product": {"lookupName": "Gas Service"}},
        {"subject": "x", "severity": {"id": 99}},
        {"subject": "x", "assignedTo": {"account": {}}},
        {"subject": "x", "customFields": {"c": {"favourite_colour": "blue"}}},
    ):
        r = await http.post("/incidents", json=body)
        assert r.status_code == 400 and r.json()["o:errorCode"] == "OSC-CREST-00006", body
    not_json = await http.post("/incidents", content=b"{nope", headers={"Content-Type": "application/json"})
    assert not_json.json()["o:errorCode"] == "OSC-CREST-00011"
    empty = await http.post("/incidents", content=b"")
    assert (empty.status_code, empty.json()["o:errorCode"]) == (400, "OSC-CREST-00010")
    made = (
        await http.post("/incidents", json={"subject": "Queue me", "queue": {"lookupName": "billing queue"}})
    ).json()
    moved = await http.patch(f"/incidents/{made['id']}", json={"queue": {"id": 3}, "disposition": {"id": 1}})
    assert moved.status_code == 200
    again = (await http.get(f"/incidents/{made['id']}")).json()
    assert again["queue"]["lookupName"] == "Field Service Queue"
    assert again["disposition"]["lookupName"] == "Resolved by Agent"
    catalog = (await http.get("/metadata-catalog")).json()
    assert {i["name"] for i in catalog["items"]} == {"incidents", "contacts"}
    listed = (await http.get("https://site.example/services/rest/connect/exceptions")).json()
    assert len(listed["items"]) == 19


async def test_an_older_database_gains_the_new_columns(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path / "old.sqlite")
    await store.start()
    await store.create_incident("Before the upgrade")
    async with store.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE cc_incidents DROP COLUMN product_id"))
    await store.close()
    store = IncidentStore(tmp_path / "old.sqlite")
    await store.start()
    try:
        row = await store.create_incident("After the upgrade", refs={"product": 2})
        assert row.refs["product"] == 2
        assert (await store.get_incident(1)).refs["product"] is None
    finally:
        await store.close()
