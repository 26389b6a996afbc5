"""The hub's logging setup: one format, the level from settings, card numbers and SSNs masked in every record.

The served hub (``core.asgi``) calls :func:`configure_logging` once per worker process; the masking filter
(:class:`core.redact.RedactingLogFilter`) goes on the root logger and its handlers, so a record from any
library or plugin logger is written with the PANs it carried replaced by their masks (PCI DSS 3.3 / 3.4:
no card number in any log).
"""

from __future__ import annotations

import logging

from core.redact import install_log_redaction

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Log at ``level`` (DEBUG, INFO, WARNING or ERROR) to standard error, with card numbers masked."""
    logging.basicConfig(level=level.upper(), format=FORMAT)
    # After the handlers exist, so the filter reaches every one of them.
    install_log_redaction()
