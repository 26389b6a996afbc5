"""Time for plugins: ``ctx.clock`` is a :class:`Clock`; stored UTC, shown in the utility's zone."""

from __future__ import annotations

from core.clock import LOCAL_TZ, Clock, ManualClock, SystemClock, local

__all__ = ["LOCAL_TZ", "Clock", "ManualClock", "SystemClock", "local"]
