"""The example plugin keeps no tables: its board is a read model rebuilt from bus events.

A plugin with tables declares them here on ``core.db.Base`` with names prefixed by the plugin id, and ships
an Alembic branch in ``migrations/versions`` (see the README).
"""
