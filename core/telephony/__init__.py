"""Telephony state: Finesse-style agents, devices and dialogs."""
