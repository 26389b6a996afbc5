"""ccbhub test suite."""
