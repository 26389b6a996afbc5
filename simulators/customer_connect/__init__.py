"""Simulated Oracle B2C Service ("Customer Connect", formerly RightNow) site: incidents over Connect REST.

- :mod:`.app`: the Litestar app under ``/services/rest/connect/{v1.2,v1.3,v1.4,latest}``: the resources,
  ``queryResults`` (ROQL), ``metadata-catalog`` and ``OPTIONS``.
- :mod:`.resources`: incidents, their ``threads`` and contacts (bodies, documents, references).
- :mod:`.auth`: version, Basic/session credentials and the v1.4 application-context rule.
- :mod:`.errors`: the documented ``OSC-CREST-#####`` codes and the exception body.
- :mod:`.roql` and :mod:`.tabular`: ROQL parsing and its evaluation over the simulator's tables.
- :mod:`.store` and :mod:`.tables`: the simulator's own SQLite database (``cc_`` tables) and the
  reference-number counter.
- :mod:`.tls`: the self-signed certificate of ``--tls``.
- :mod:`.contact_us`: deterministic synthetic "Contact Us" e-mails and their intake as incidents.
- :mod:`.cli`: ``ccbhub simulate customer-connect``.
"""

from simulators.customer_connect.app import SimulatorConfig, create_app
from simulators.customer_connect.contact_us import ContactUsEmail, generate_contact_us, ingest_contact_us
from simulators.customer_connect.store import IncidentStore

__all__ = [
    "ContactUsEmail",
    "IncidentStore",
    "SimulatorConfig",
    "create_app",
    "generate_contact_us",
    "ingest_contact_us",
]
