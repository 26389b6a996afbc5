"""Simulators that stand in for external systems during development and tests."""
