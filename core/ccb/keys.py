"""Keys for CCB objects that ids.py has no kind for (tender/deposit controls, notes, alerts, deposits...).

Each takes the width of its CCB column: 10 digits for header objects, 12 for detail rows (docs/ccb-domain.md
§1.2
gives 10 for headers such as account and pay plan, 12 for details such as bill segment and FT). The width
is borrowed from a kind of that length; one generator never repeats a digit string whatever the kind.
"""

from __future__ import annotations

from core.ccb.ids import IdGenerator, IdKind

__all__ = ["install_id", "ten_digit_id", "twelve_digit_id"]


def ten_digit_id(ids: IdGenerator) -> str:
    return ids.new(IdKind.METER_CONFIG)


def twelve_digit_id(ids: IdGenerator) -> str:
    return ids.new(IdKind.REGISTER_READ)


def install_id(ids: IdGenerator) -> str:
    """An SP/meter install record is CCB's effective-dated meter configuration (MTR_CONFIG_ID, 10)."""
    return ids.meter_config_id()
