"""The mock of Oracle Utilities Customer Care and Billing (CCB)."""
