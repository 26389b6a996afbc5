"""What the simulators' ``ccbhub.cli`` entry points share: the ``ccbhub simulate`` group they join."""

from __future__ import annotations

import click

__all__ = ["simulate_group"]


def simulate_group(cli: click.Group) -> click.Group:
    """The ``simulate`` subgroup of ``cli``, made by whichever simulator registers first."""
    existing = cli.commands.get("simulate")
    if isinstance(existing, click.Group):
        return existing

    @cli.group("simulate")
    def simulate() -> None:
        """Simulated external systems for development and tests."""

    return simulate
