"""ccbhub core: app factory, settings, plugin manager, bus, storage, checks, security."""
