"""Simulated CCB server: the local CCB mock served over HTTP, with switchable faults for outage drills.

``create_app`` builds it in-process (tests, benchmarks); ``ccbhub simulate ccb`` serves it with granian
(the command lives in ``simulators.ccb_server.cli``).
"""

from simulators.ccb_server.app import Faults, create_app, create_app_from_env

__all__ = ["Faults", "create_app", "create_app_from_env"]
