"""Synthetic residential customers for the CCB mock: a year of reads, bills and payments, fast and repeatable.

Everything comes from two seeded random generators (one for ids, one for data) and from ``as_of``; no wall
clock is read, so the same seed on an empty database always gives the same ids and amounts. Rows are
built as dicts and inserted in bulk with Core ``insert()`` (thousands of customers a minute on SQLite).

What a seeded customer looks like (docs/ccb-domain.md §1): a person who is main customer of an account, a
premise
in an LA ZIP with its service-area code and rate zones, an electric and a water SP each with a meter and
an active SA, bimonthly reads for 12 months (some estimated, a few meters with three or more estimates in a
row, which carry the investigation case and field activity the mock would have opened), a bill per read
cycle priced by the rate engine, and payments distributed oldest debt first — most customers pay on time,
some late, some not at all lately (past due).

A share of customers (``net_metered_share``, deterministic with the seed) have rooftop solar: their electric
meter is a net meter with a received register beside the delivered one, their electric SA is net-metered
(E-NEM) and their bills net the two registers with a kWh credit carried from bill to bill (billing.py,
docs/ccb-domain.md §4.1). Exports follow the sun, so each of them has export (credit) bills in summer and
import
bills in winter. Solar decisions and export amounts come from a third generator, so the other customers'
data (not their ids) are the same as without solar.

The clear access codes and SSN last four are returned only in ``SeedAccount`` (they are synthetic demo
secrets); the database keeps keyed hashes. Verification of seeded customers therefore works only while the
hub uses the same key: set a fixed ``HUB_SECRET_KEY`` (without one each process draws a random key).

The package: ``base`` (the fixed dates and shares, ``SeedAccount``, the per-round row buffer), ``words``
(made-up names, streets and ZIPs), ``generator`` (a customer, its premise, meters and reads), ``history``
(its bills and payments, priced by the rate engine) and ``load`` (``seed_customers``, ``identity_key``,
the ``ccbhub seed`` command).
"""

from __future__ import annotations

from core.ccb.seed.base import CHUNK, DEFAULT_AS_OF, EARLIEST_AS_OF, NET_METERED_SHARE, SeedAccount
from core.ccb.seed.load import identity_key, seed_command, seed_customers

__all__ = [
    "CHUNK",
    "DEFAULT_AS_OF",
    "EARLIEST_AS_OF",
    "NET_METERED_SHARE",
    "SeedAccount",
    "identity_key",
    "seed_command",
    "seed_customers",
]
