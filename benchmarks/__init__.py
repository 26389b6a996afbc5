"""ccbhub benchmarks: each figure measured beside a baseline in the same run, reported with their ratio.

Run with ``python -m benchmarks`` (``make bench``); ``--quick`` for a short smoke run, ``--only NAME`` for
one area, ``--list`` to see the areas. Results go to the terminal and to ``var/bench/latest.json``.
Performance is measured and reported here, never asserted in tests: shared machines are too noisy for that.
"""

from benchmarks.registry import Result, RunOptions, benchmark

__all__ = ["Result", "RunOptions", "benchmark"]
