"""The CSR workflows on the CCB port, one module each; every one is a part of the contact service.

Each workflow is one CCB port write where the port allows it (one transaction, nothing half-written),
done after the verified-contact guard passed, and logged on the contact for its wrap-up note.
"""
