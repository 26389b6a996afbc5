"""Connectors to real external systems: NATS, SMTP, a remote CCB, Customer Connect."""
