"""The CCB port as plugins see it: request and answer Structs, errors, codes and the pure billing rules.

``ctx.ccb`` is the port (the embedded mock, a remote CCB, or the offline journal in front of it); this
module is where a plugin finds its types — never in ``core.ccb``'s implementation modules.
:class:`RecordedOffline` is the answer of a write the offline journal accepted while CCB was down (not an
error: the write is recorded and replayed once CCB is back).
"""

from __future__ import annotations

from core.ccb import codes, payplan, port, rates
from core.ccb.codes import BILLABLE_SA_STATUSES, NET_METERED_SA_TYPE, OPEN_SA_STATUSES, RegisterFlow, SaStatus
from core.ccb.errors import (
    CcbError,
    CcbUnavailable,
    IllegalTransition,
    Invalid,
    NotFound,
    RecordedOffline,
    VerificationLocked,
)
from core.ccb.identity import IdentityMethod, normalize_phone
from core.ccb.payplan import MAX_RESIDENTIAL_TERM_MONTHS, Cadence, PayPlanError, add_months, quote
from core.ccb.port import CcbPort
from core.ccb.rates import format_cents, format_price, format_quantity

__all__ = [
    "BILLABLE_SA_STATUSES",
    "MAX_RESIDENTIAL_TERM_MONTHS",
    "NET_METERED_SA_TYPE",
    "OPEN_SA_STATUSES",
    "Cadence",
    "CcbError",
    "CcbPort",
    "CcbUnavailable",
    "IdentityMethod",
    "IllegalTransition",
    "Invalid",
    "NotFound",
    "PayPlanError",
    "RecordedOffline",
    "RegisterFlow",
    "SaStatus",
    "VerificationLocked",
    "add_months",
    "codes",
    "format_cents",
    "format_price",
    "format_quantity",
    "normalize_phone",
    "payplan",
    "port",
    "quote",
    "rates",
]
