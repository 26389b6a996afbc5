"""The account-summary benchmark's server: the full hub plus one hand-written raw-SQL twin of the route.

Served as ``benchmarks.ccb_app:app``. ``GET /bench/raw-summary/{account_id}`` answers with the same JSON as
the hub's ``GET /api/ccb/accounts/{account_id}``, but with text SQL on the hub's own engine instead of the
CCB port, the contact service and the view structs. It sits behind the same app-wide guard with the same
role policy, so both sides authenticate the bearer token identically; the verified-contact check is one
SQL query. What the raw side leaves out on purpose is the audit record and the contact's action-log line
the hub's guard writes on every read: that is part of what the comparison measures.

The app is built on first access to ``app`` (a module ``__getattr__``), not at import: ``python -m
benchmarks`` imports every module of the package, and building a hub there would need a database.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Router, get
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from sqlalchemy import text

from core.ccb.billing import local_date
from core.ccb.codes import SA_STATUS_LABELS
from core.ccb.local import SA_TYPE_ORDER
from core.db import READ_ONLY
from core.security import current_staff, hub_of

__all__ = ["RAW_PREFIX", "build_app"]

RAW_PREFIX = "/bench/raw-summary"
# Same role list as the hub's account route (core.contact.service.CONTACT_ROLES), kept literal so the
# baseline does not depend on the layer it is compared against.
_WORKERS = {"roles": ["csr", "lead", "supervisor", "cro", "eteam", "solar"]}

# Round trip 1: the account row, whether the caller's contact may see it, and every single-value part
# of the summary (balance, not-yet-due charges, the active plan) as scalar subqueries.
_ACCOUNT_SQL = text(
    """
    SELECT a.id, a.customer_class, a.bill_cycle, a.setup_date, a.verify_locked,
           a.mail_line1, a.mail_line2, a.mail_city, a.mail_state, a.mail_zip,
           EXISTS (
               SELECT 1 FROM contact_contact c
               JOIN contact_verification v ON v.contact_id = c.id AND v.account_id = a.id
               WHERE c.id = :contact AND c.owner = :owner AND c.status IN ('open', 'wrap_up_due')
                 AND NOT c.locked
           ) AS allowed,
           (SELECT COALESCE(SUM(f.amount_cents), 0) FROM ccb_financial_transaction f
             WHERE f.account_id = a.id AND f.frozen) AS balance,
           (SELECT COALESCE(SUM(f.amount_cents), 0) FROM ccb_financial_transaction f
             WHERE f.account_id = a.id AND f.frozen AND f.ft_type IN ('BS', 'AD') AND f.amount_cents > 0
               AND (f.arrears_date IS NULL OR f.arrears_date >= :today)
               AND NOT EXISTS (SELECT 1 FROM ccb_financial_transaction r
                                WHERE r.cancels_ft_id = f.id AND r.account_id = a.id AND r.frozen)
           ) AS not_yet_due,
           (SELECT p.id FROM ccb_pay_plan p WHERE p.account_id = a.id AND p.status = 'active'
             LIMIT 1) AS plan_id
    FROM ccb_account a WHERE a.id = :account
    """
)
# Round trip 2: the list parts, one tagged row shape for all of them (unused columns are NULL).
_LISTS_SQL = text(
    """
    SELECT 'person' AS kind, p.id AS c1, p.first_name AS c2, p.last_name AS c3, p.phone AS c4,
           p.email AS c5, ap.is_main_customer AS c6, ap.financially_responsible AS c7,
           ap.relationship AS c8, p.mail_line1 AS c9, p.mail_line2 AS c10, p.mail_city AS c11,
           p.mail_state AS c12, p.mail_zip AS c13, NULL AS c14, 0 AS pos
      FROM ccb_account_person ap JOIN ccb_person p ON p.id = ap.person_id WHERE ap.account_id = :account
    UNION ALL
    SELECT 'sa', s.id, s.premise_id, s.sp_id, s.sa_type, s.status, s.start_date, s.end_date,
           s.rate_schedule, s.zone, s.final_billed, pr.line1, pr.line2, pr.city,
           pr.state || '|' || pr.zip || '|' || pr.service_area_code, 0
      FROM ccb_service_agreement s LEFT JOIN ccb_premise pr ON pr.id = s.premise_id
     WHERE s.account_id = :account
    UNION ALL
    SELECT * FROM (
        SELECT 'bill', b.id, b.status, b.bill_date, b.due_date, b.current_charges_cents,
               b.amount_due_cents, b.is_final, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               ROW_NUMBER() OVER (ORDER BY b.bill_date DESC, b.created_at DESC)
          FROM ccb_bill b WHERE b.account_id = :account
         ORDER BY b.bill_date DESC, b.created_at DESC LIMIT 3)
    UNION ALL
    SELECT 'alert', al.id, al.alert_type, al.text, al.starts_on, al.expires_on, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, al.created_at, 0
      FROM ccb_alert al
     WHERE al.account_id = :account AND al.starts_on <= :today
       AND (al.expires_on IS NULL OR al.expires_on >= :today)
    UNION ALL
    SELECT 'case', cs.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0
      FROM ccb_case cs WHERE cs.account_id = :account AND cs.closed_at IS NULL
    """
)


def _address(line1: Any, line2: Any, city: Any, state: Any, zip_: Any) -> dict[str, Any]:
    return {"line1": line1, "line2": line2, "city": city, "state": state, "zip": zip_}


def summary_json(account: Any, rows: list[Any], account_id: str) -> dict[str, Any]:
    """Assemble the summary from the two queries' rows (the shape of the hub's ``AccountView``)."""
    persons: list[dict[str, Any]] = []
    main_address: dict[str, Any] | None = None
    sas: list[tuple[tuple[int, str, str], dict[str, Any]]] = []
    premises: dict[str, dict[str, Any]] = {}
    bills: list[tuple[int, dict[str, Any]]] = []
    alerts: list[tuple[str, dict[str, Any]]] = []
    cases: list[str] = []
    for r in rows:
        kind = r.kind
        if kind == "person":
            persons.append(
                {
                    "person_id": r.c1,
                    "name": f"{r.c2} {r.c3}",
                    "phone": r.c4,
                    "email": r.c5,
                    "is_main_customer": bool(r.c6),
                    "financially_responsible": bool(r.c7),
                    "relationship": r.c8,
                }
            )
            if r.c6:
                main_address = _address(r.c9, r.c10, r.c11, r.c12, r.c13)
        elif kind == "sa":
            sas.append(
                (
                    (SA_TYPE_ORDER.get(r.c4, 9), r.c6, r.c1),
                    {
                        "sa_id": r.c1,
                        "account_id": account_id,
                        "premise_id": r.c2,
                        "sp_id": r.c3,
                        "sa_type": r.c4,
                        "status": r.c5,
                        "status_label": SA_STATUS_LABELS[r.c5],
                        "start_date": r.c6,
                        "end_date": r.c7,
                        "rate_schedule": r.c8,
                        "zone": r.c9,
                        "final_billed": bool(r.c10),
                    },
                )
            )
            if r.c2 is not None and r.c14 is not None:
                state, zip_, area = str(r.c14).split("|")
                premises[r.c2] = {
                    "premise_id": r.c2,
                    "address": _address(r.c11, r.c12, r.c13, state, zip_),
                    "service_area_code": area,
                }
        elif kind == "bill":
            bills.append(
                (
                    int(r.pos),
                    {
                        "bill_id": r.c1,
                        "status": r.c2,
                        "bill_date": r.c3,
                        "due_date": r.c4,
                        "current_charges_cents": r.c5,
                        "amount_due_cents": r.c6,
                        "is_final": bool(r.c7),
                    },
                )
            )
        elif kind == "alert":
            alerts.append(
                (
                    str(r.c14),
                    {
                        "alert_id": r.c1,
                        "account_id": account_id,
                        "alert_type": r.c2,
                        "text": r.c3,
                        "starts_on": r.c4,
                        "expires_on": r.c5,
                    },
                )
            )
        else:
            cases.append(r.c1)
    if main_address is None:
        raise RuntimeError(f"account {account_id} has no main customer")
    persons.sort(key=lambda b: (not b["is_main_customer"], b["name"], b["person_id"]))
    sas.sort(key=lambda pair: pair[0])
    bills.sort(key=lambda pair: pair[0])
    alerts.sort(key=lambda pair: pair[0])
    if account.mail_line1:
        mailing = _address(
            account.mail_line1,
            account.mail_line2,
            account.mail_city or "",
            account.mail_state or "CA",
            account.mail_zip or "",
        )
    else:
        mailing = main_address
    balance = int(account.balance)
    return {
        "account_id": account.id,
        "customer_class": account.customer_class,
        "bill_cycle": account.bill_cycle,
        "setup_date": account.setup_date,
        "main_customer": persons[0],
        "persons": persons,
        "mailing_address": mailing,
        "premises": [premises[k] for k in sorted(premises)],
        "service_agreements": [view for _, view in sas],
        "balance_cents": balance,
        "past_due_cents": max(0, balance - int(account.not_yet_due)),
        "last_bills": [view for _, view in bills],
        "alerts": [view for _, view in alerts],
        "verification_locked": bool(account.verify_locked),
        "active_pay_plan_id": account.plan_id,
        "open_case_ids": sorted(cases),
        "pay_plan": None,
    }


@get(f"{RAW_PREFIX}/{{account_id:str}}", opt=_WORKERS)
async def raw_summary(request: Request[Any, Any, Any], account_id: FromPath[str]) -> dict[str, Any]:
    """The hub's account summary, hand-written: two SQL round trips on one pooled connection."""
    staff = current_staff(request)
    contact = (request.headers.get("x-contact-id") or "").strip()
    hub = hub_of(request)
    # The hub's clock, so "past due" and current alerts are judged on the same day on both sides.
    today = local_date(hub.clock.now()).isoformat()
    params = {"account": account_id, "contact": contact, "owner": staff.name, "today": today}
    # A plain read, as a hand-written handler would do it: no write lock (the hub's reads take none either).
    async with hub.db.engine.execution_options(**{READ_ONLY: True}).connect() as conn:
        account = (await conn.execute(_ACCOUNT_SQL, params)).first()
        if account is None:
            raise NotFoundException(f"account {account_id} not found")
        if not account.allowed:
            raise PermissionDeniedException(f"account {account_id}: no verified contact of yours")
        if account.plan_id is not None:
            # Reproducing the pay-plan view is out of this baseline's scope; the benchmark picks an
            # account without one, and a loud error beats a silently different body.
            raise PermissionDeniedException("the raw baseline does not render pay plans")
        rows = list((await conn.execute(_LISTS_SQL, params)).all())
    return summary_json(account, rows, account_id)


def build_app() -> Litestar:
    """The hub's app from the environment's settings, with the raw route behind the hub's own guard."""
    from core.app import GUARDS, create_app
    from core.hub import Hub
    from core.settings import load_settings

    app = create_app(Hub(load_settings()))
    app.register(Router(path="/", route_handlers=[raw_summary], guards=GUARDS))
    return app


_app: Litestar | None = None


def __getattr__(name: str) -> Any:
    global _app
    if name != "app":
        raise AttributeError(name)
    if _app is None:
        _app = build_app()
    return _app
